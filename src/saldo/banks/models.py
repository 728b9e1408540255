from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, CreatedAtMixin, IdMixin
from saldo.db.types import UtcDateTime


class Bank(IdMixin, CreatedAtMixin, Base):
    """A bank connected to the account register, known by its BIC."""

    __tablename__ = "banks"

    bic: Mapped[str] = mapped_column(String(11), unique=True)  # ISO 9362, 8 or 11 characters
    name: Mapped[str] = mapped_column(String(200))


class BankToken(IdMixin, CreatedAtMixin, Base):
    """A bank's API credential. Only a SHA-256 of the secret is stored; the secret is shown once."""

    __tablename__ = "bank_tokens"

    bank_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("banks.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
