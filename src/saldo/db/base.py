"""Declarative base with one naming convention, so constraint names are stable across migrations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Identity, LargeBinary, MetaData, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from saldo.db.types import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)


class CreatedAtMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now(), nullable=False)


class TokenMixin:
    """An API credential: only a SHA-256 of the secret is kept; the secret is shown once."""

    label: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
