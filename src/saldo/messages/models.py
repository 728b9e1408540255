from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime, str_enum


class MessageKind(StrEnum):
    NOTIFICATION = "notification"  # the authority found something in one of the payer's payments
    INFORMATION_REQUEST = "information_request"  # the authority asks the payer for data on a person
    REMINDER = "reminder"  # an information request's deadline is near
    REQUEST_WITHDRAWN = "request_withdrawn"


class PayerMessage(IdMixin, Base):
    """The payer's feed and the webhook outbox in one: a message is written in the same transaction as
    what it tells of, numbered per payer without gaps, and is delivered in that order. Payers read
    the feed through the API (pull) and, with a webhook, are sent each message (push)."""

    __tablename__ = "payer_messages"
    __table_args__ = (
        UniqueConstraint("payer_id", "seq"),
        Index("ix_payer_messages_pending", "payer_id", "seq", postgresql_where=text("delivered_at IS NULL")),
    )

    payer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payers.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind, "message_kind"))
    ref_id: Mapped[int] = mapped_column(BigInteger)  # the notification's or request's id
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # by webhook; NULL while pending
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class MessageCounter(Base):
    """The last message number per payer: taking the next one locks the row until commit, so numbers
    are given in commit order."""

    __tablename__ = "payer_message_counters"

    payer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payers.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class Webhook(Base):
    """Where a payer wants its messages pushed, and the secret they are signed with."""

    __tablename__ = "payer_webhooks"

    payer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payers.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))  # shared with the payer; signs every delivery
    enabled: Mapped[bool] = mapped_column(server_default="true")
    failing_since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    alerted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
