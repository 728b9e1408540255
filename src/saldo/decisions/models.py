from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime


class Decision(IdMixin, Base):
    """The payer's decision behind payments: the circumstances SOU 2025:20 says payers hand over."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("payer_id", "reference"),)

    payer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payers.id"))
    reference: Mapped[str] = mapped_column(String(64))  # the payments' decision_reference
    payee_scheme: Mapped[str] = mapped_column(String(32))
    payee_id: Mapped[str] = mapped_column(String(20))
    benefit_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("benefits.id"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # the decided amount per month
    currency: Mapped[str] = mapped_column(String(3))
    household_size: Mapped[int | None] = mapped_column(Integer)
    declared_income_minor: Mapped[int | None] = mapped_column(BigInteger)  # per month, for means-tested benefits
    version: Mapped[int] = mapped_column(Integer, server_default="1")  # raised when the payer amends it
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
