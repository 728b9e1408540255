from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime, str_enum


class Notification(IdMixin, Base):
    """What the authority found in payments a payer made, sent to that payer, who decides what to do."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_payer_id_id", "payer_id", "id"),)

    payer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payers.id"))
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    person_scheme: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(20))
    payment_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    rule_id: Mapped[str] = mapped_column(String(64))
    rule_version: Mapped[int] = mapped_column(Integer)
    reason_sv: Mapped[str] = mapped_column(Text)
    reason_en: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB)  # facts of the findings, the auditor's summary
    amount_at_risk_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class OutcomeKind(StrEnum):
    NO_ERROR = "no_error"  # the payment was right
    CORRECTED = "corrected"  # corrected going forward
    RECOVERY_CLAIM = "recovery_claim"  # a claim to pay back, with the amount
    PAYMENT_STOPPED = "payment_stopped"  # with the amount of the payments stopped
    REPORTED_TO_POLICE = "reported_to_police"

    @property
    def confirms(self) -> bool:
        """Whether the payer found the payment wrong: what precision counts."""
        return self is not OutcomeKind.NO_ERROR


class NotificationOutcome(IdMixin, Base):
    """What the payer decided on a notification. Only appended: a later outcome supersedes an
    earlier one without erasing it (a trigger refuses changes)."""

    __tablename__ = "notification_outcomes"
    __table_args__ = (Index("ix_notification_outcomes_notification_id_id", "notification_id", "id"),)

    notification_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("notifications.id"))
    kind: Mapped[OutcomeKind] = mapped_column(str_enum(OutcomeKind, "outcome_kind"))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[dt.date | None]
    recorded_by: Mapped[str] = mapped_column(String(100))  # "payer:<id>/token:<id>"
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
