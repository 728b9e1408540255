"""Cross-border cases (BUCs) with other countries' institutions, and the SEDs in them: what was sent
(the outbox, until the partner's signed receipt proves delivery) and what was received (the inbox,
once per AS4 message id, whatever the partner resends)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime, str_enum


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class PersonMatch(StrEnum):
    IDENTIFIER = "identifier"  # this country's identification number in the SED, or the case opened here for them
    # no identification number of this country, but exactly one person with an account here has the SED's
    # birth date and its full name as the bank registered it (the strength is kept in match_strength)
    NAME_AND_BIRTH_DATE = "name_and_birth_date"
    CONFIRMED = "confirmed"  # a member of staff said who it is
    UNMATCHED = "unmatched"  # no identifier of this country: waits for staff; nothing is learned until then


class Direction(StrEnum):
    OUT = "out"
    IN = "in"


class DocumentStatus(StrEnum):
    QUEUED = "queued"  # out: waiting to be sent (or retried)
    DELIVERED = "delivered"  # out: the partner's signed receipt proves it arrived
    UNDELIVERABLE = "undeliverable"  # out: retried for SALDO_EESSI_RETRY_HOURS, or refused by the partner's node
    ACCEPTED = "accepted"  # in: fitted the case and was applied
    REJECTED = "rejected"  # in: did not fit the case; an X011 went back


class CrossBorderCase(IdMixin, Base):
    """One BUC: started by its owner (this node or another institution) with a SED to a counterparty.
    The owner adds participants (X005) and removes them (X006); its SEDs go to every participant or
    the one it names, and each participant deals with the owner alone."""

    __tablename__ = "eessi_cases"

    case_id: Mapped[str] = mapped_column(String(64), unique=True)
    buc_type: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(16))  # the institution that started it
    counterparty: Mapped[str] = mapped_column(String(16))
    partner: Mapped[str] = mapped_column(String(16), index=True)  # the other institution, as seen from here
    # the institutions besides the owner that take part now: the counterparty, then those an X005 added
    # and no X006 removed (on a participant's node: itself, and the others the owner has announced)
    participants: Mapped[list[str]] = mapped_column(ARRAY(String(16)), server_default=text("'{}'::varchar[]"))
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "eessi_case_status"))
    person_scheme: Mapped[str | None] = mapped_column(String(32))
    person_id: Mapped[str | None] = mapped_column(String(20), index=True)
    person_match: Mapped[PersonMatch | None] = mapped_column(str_enum(PersonMatch, "eessi_person_match"))
    purpose: Mapped[str | None] = mapped_column(Text)
    opened_by: Mapped[str] = mapped_column(String(100))
    # how a person found by name and birth date matched; and, while unmatched, who might be meant
    match_strength: Mapped[str | None] = mapped_column(String(200))
    match_candidates: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    # the audit case it was opened from (asked abroad from the workbench), if any
    audit_case_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    # each link to a person that staff undid: who was linked and how, by whom, when and why
    undone_links: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class CrossBorderDocument(IdMixin, Base):
    """A SED in a case, sent or received, with its signed XML as it travelled."""

    __tablename__ = "eessi_documents"
    __table_args__ = (
        UniqueConstraint("case_pk", "document_id"),
        Index("ix_eessi_documents_outbox", "next_attempt_at", postgresql_where="status = 'queued'"),
        # the outbox in order: the first queued SED that is due, without comparing the queue with itself
        Index("ix_eessi_documents_queue", "id", postgresql_where="status = 'queued'"),
        Index(
            "ix_eessi_documents_deadline", "deadline", postgresql_where="answered_at IS NULL AND deadline IS NOT NULL"
        ),
        # the persons a foreign identification number is known of (a foreign eID login's match)
        Index(
            "ix_eessi_documents_person_pins",
            text("((content -> 'person'::text) -> 'PINPersonInEachInstitution'::text)"),
            postgresql_using="gin",
        ),
    )

    case_pk: Mapped[int] = mapped_column(BigInteger, ForeignKey("eessi_cases.id"), index=True)
    document_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(128), unique=True)  # the AS4 MessageId: once per message
    sed_type: Mapped[str] = mapped_column(String(8))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "eessi_direction"))
    sender: Mapped[str] = mapped_column(String(16))
    receiver: Mapped[str] = mapped_column(String(16))
    answers: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    xml: Mapped[bytes] = mapped_column(LargeBinary)  # the SED as signed by its sender
    status: Mapped[DocumentStatus] = mapped_column(str_enum(DocumentStatus, "eessi_document_status"))
    reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected or could not be delivered
    deadline: Mapped[dt.date | None] = mapped_column(Date)  # a request: when the answer is due
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    exchange: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # out: what the receipt must prove
    as4_message: Mapped[bytes | None] = mapped_column(LargeBinary)  # out: the signed message, resent as built
    receipt: Mapped[bytes | None] = mapped_column(LargeBinary)  # the signed AS4 receipt (in: the one we gave)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class FactKind(StrEnum):
    DEATH = "death"  # H070: date and country of death
    BENEFIT_ABROAD = "benefit_abroad"  # H002: a benefit paid abroad for a period
    RESIDENCE_ABROAD = "residence_abroad"  # H003/H004: residence determined abroad since a date


class CrossBorderFact(IdMixin, Base):
    """What a received SED taught about a person, with where it came from: the data the analysis
    reads. Only appended; a later fact of the same kind supersedes an earlier one. A fact whose
    case's link to the person was undone is withdrawn: kept, marked, and read by nothing."""

    __tablename__ = "eessi_facts"

    person_scheme: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[FactKind] = mapped_column(str_enum(FactKind, "eessi_fact_kind"))
    values: Mapped[dict[str, Any]] = mapped_column(JSONB)
    document_pk: Mapped[int] = mapped_column(BigInteger, ForeignKey("eessi_documents.id"), index=True)
    institution: Mapped[str] = mapped_column(String(16))  # who said so
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(100))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
