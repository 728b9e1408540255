from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, CreatedAtMixin, IdMixin, TokenMixin
from saldo.db.types import str_enum
from saldo.kit.account_number import AccountScheme


class Bank(IdMixin, CreatedAtMixin, Base):
    """A bank connected to the account register, known by its BIC."""

    __tablename__ = "banks"

    bic: Mapped[str] = mapped_column(String(11), unique=True)  # ISO 9362, 8 or 11 characters
    name: Mapped[str] = mapped_column(String(200))


class BankToken(IdMixin, CreatedAtMixin, TokenMixin, Base):
    """A bank's API credential."""

    __tablename__ = "bank_tokens"

    bank_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("banks.id"), index=True)


class BankRange(IdMixin, Base):
    """A range of account numbers a bank holds: Swedish clearing numbers, an IBAN bank code, or
    Bankgiro numbers (held by Bankgirot). A bank reports only accounts inside its own ranges, and no
    two banks hold overlapping ranges of one scheme. ``first`` and ``last`` are range keys
    (saldo.kit.account_ranges.range_key), compared as text of equal length."""

    __tablename__ = "bank_ranges"

    bank_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("banks.id"), index=True)
    scheme: Mapped[AccountScheme] = mapped_column(str_enum(AccountScheme, "scheme"))
    first: Mapped[str] = mapped_column(String(16))
    last: Mapped[str] = mapped_column(String(16))
