"""Evidence exchanged once only: one row per request, on whichever side this node stands (the
requester that asked, or the provider that answers), and the AS4 messages that carried it.

On the provider's side the row is also the person's consent record: it holds what was asked, by
whom, for which procedure, when the person saw the evidence and what they decided. On the
requester's side it holds the evidence once it arrived, with its origin, until the procedure no
longer needs it (``KEPT`` in the service)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, SmallInteger, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime, str_enum


class ExchangeRole(StrEnum):
    REQUESTER = "requester"  # this node asked another country's provider
    PROVIDER = "provider"  # another country's requester asked this node


class ExchangeState(StrEnum):
    REQUESTED = "requested"  # requester: sent, not answered yet
    PREVIEW = "preview"  # waiting for the person to see the evidence at the provider and decide
    APPROVED = "approved"  # provider: the person approved; the evidence goes when the requester asks again
    REFUSED = "refused"  # the person refused at the preview: nothing is sent
    DELIVERED = "delivered"  # provider: the evidence was sent; requester: it arrived and is kept
    FAILED = "failed"  # the provider answered with an error (code and message say which)
    EXPIRED = "expired"  # the preview was not done in time, or the evidence's keeping time is over
    WITHDRAWN = "withdrawn"  # requester: the person gave up the request before the evidence came


class EvidenceExchange(IdMixin, Base):
    __tablename__ = "evidence_exchanges"
    __table_args__ = (
        UniqueConstraint("role", "request_id"),
        Index("ix_evidence_exchanges_person", "person_scheme", "person_id"),
    )

    role: Mapped[ExchangeRole] = mapped_column(str_enum(ExchangeRole, "exchange_role"))
    request_id: Mapped[str] = mapped_column(String(64))  # the QueryRequest's urn:uuid:
    partner: Mapped[str] = mapped_column(String(100))  # the other side's party id in the directory
    partner_name: Mapped[str] = mapped_column(String(200))
    partner_country: Mapped[str] = mapped_column(String(2))
    evidence_type: Mapped[str] = mapped_column(String(64))  # the evidence type's UUID
    procedure: Mapped[str] = mapped_column(String(4))  # U1 (PDA1), U3 (EHIC), …
    eidas_identifier: Mapped[str] = mapped_column(String(300))  # the person as the request names them
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date]
    # the person here: the requester's applicant; at the provider, who the request was matched to
    person_scheme: Mapped[str | None] = mapped_column(String(32))
    person_id: Mapped[str | None] = mapped_column(String(20))
    match: Mapped[str | None] = mapped_column(String(300))  # provider: how the person was found
    application_pk: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("applications.id"))
    state: Mapped[ExchangeState] = mapped_column(str_enum(ExchangeState, "exchange_state"))
    language: Mapped[str] = mapped_column(String(8))  # the evidence is wished in it
    preview_token: Mapped[str | None] = mapped_column(String(64), unique=True)  # provider: in the preview address
    preview_location: Mapped[str | None] = mapped_column(Text)  # requester: where the person goes to preview
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[bytes | None] = mapped_column(LargeBinary)  # requester: the evidence as it arrived
    evidence_format: Mapped[str | None] = mapped_column(String(80))
    evidence_title: Mapped[str | None] = mapped_column(String(200))
    evidence_issued_on: Mapped[dt.date | None]
    response_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # the person's approval or refusal
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # the preview's, then the evidence's keeping


class MessageDirection(StrEnum):
    OUT = "out"
    IN = "in"


class MessageStatus(StrEnum):
    PENDING = "pending"  # out: waiting to be sent, or to be sent again
    DELIVERED = "delivered"  # out: the partner's signed receipt proves it arrived
    UNDELIVERABLE = "undeliverable"  # out: refused, or not taken in over the retry hours
    RECEIVED = "received"  # in: taken in (a resent copy is answered with the same receipt)


class ExchangeMessage(IdMixin, Base):
    """An AS4 user message of the exchange: the outbox (sent at least once until a receipt proves it
    arrived) and the inbox (taken in once by its message id)."""

    __tablename__ = "evidence_messages"
    __table_args__ = (
        UniqueConstraint("direction", "message_id"),
        Index("ix_evidence_messages_due", "next_attempt_at", postgresql_where="status = 'pending'"),
    )

    direction: Mapped[MessageDirection] = mapped_column(str_enum(MessageDirection, "message_direction"))
    message_id: Mapped[str] = mapped_column(String(200))
    exchange_pk: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("evidence_exchanges.id"), index=True)
    partner: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))  # ExecuteQueryRequest, ExecuteQueryResponse, ExceptionResponse
    document: Mapped[bytes] = mapped_column(LargeBinary)  # the RegRep query or response
    attachment_id: Mapped[str | None] = mapped_column(String(200))
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)  # the evidence, beside a response
    attachment_format: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[MessageStatus] = mapped_column(str_enum(MessageStatus, "message_status"))
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    as4_message: Mapped[bytes | None] = mapped_column(LargeBinary)  # out: the signed bytes, resent as they are
    exchange: Mapped[dict[str, object] | None] = mapped_column(JSONB)  # out: what the receipt must prove
    receipt: Mapped[bytes | None] = mapped_column(LargeBinary)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
