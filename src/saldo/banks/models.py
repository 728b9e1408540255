from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, CreatedAtMixin, IdMixin, TokenMixin


class Bank(IdMixin, CreatedAtMixin, Base):
    """A bank connected to the account register, known by its BIC."""

    __tablename__ = "banks"

    bic: Mapped[str] = mapped_column(String(11), unique=True)  # ISO 9362, 8 or 11 characters
    name: Mapped[str] = mapped_column(String(200))


class BankToken(IdMixin, CreatedAtMixin, TokenMixin, Base):
    """A bank's API credential."""

    __tablename__ = "bank_tokens"

    bank_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("banks.id"), index=True)
