from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, CreatedAtMixin, IdMixin, TokenMixin
from saldo.db.types import UtcDateTime, str_enum


class RegisterKind(StrEnum):
    POPULATION = "population"  # the population register extract (folkbokföring)
    INCOME = "income"  # earned income as employers declare it each month (arbetsgivardeklaration)


class RegisterKeeper(IdMixin, CreatedAtMixin, Base):
    """An authority that keeps a register Saldo reads and sends its extracts by API (the population
    and income registers are Skatteverket's), with the registers it may send."""

    __tablename__ = "register_keepers"

    organisation_number: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    registers: Mapped[list[str]] = mapped_column(ARRAY(String(20)))  # RegisterKind values


class RegisterKeeperToken(IdMixin, CreatedAtMixin, TokenMixin, Base):
    """A register keeper's API credential."""

    __tablename__ = "register_keeper_tokens"

    keeper_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("register_keepers.id"), index=True)


class RegisterLoad(IdMixin, Base):
    """One register file read into Saldo: which, when, by whom and its SHA-256, so a load is idempotent."""

    __tablename__ = "register_loads"
    __table_args__ = (UniqueConstraint("kind", "content_sha256"),)

    kind: Mapped[RegisterKind] = mapped_column(str_enum(RegisterKind, "register_kind"))
    filename: Mapped[str] = mapped_column(String(255))
    content_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    rows: Mapped[int] = mapped_column(Integer)
    loaded_by: Mapped[str] = mapped_column(String(100))
    loaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class PopulationRecord(Base):
    """A person as the population register has them: the latest extract wins."""

    __tablename__ = "population_register"

    person_scheme: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    sex: Mapped[str] = mapped_column(String(1))  # "F" / "M" as the register records legal sex
    birth_date: Mapped[dt.date] = mapped_column(Date)
    death_date: Mapped[dt.date | None] = mapped_column(Date)
    emigration_date: Mapped[dt.date | None] = mapped_column(Date)
    immigration_date: Mapped[dt.date | None] = mapped_column(Date)
    household_id: Mapped[int | None] = mapped_column(BigInteger)
    street_address: Mapped[str | None] = mapped_column(String(140))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    municipality_code: Mapped[str] = mapped_column(String(4))
    residence_permit_until: Mapped[dt.date | None] = mapped_column(Date)  # right of residence; NULL: none needed
    previous_id: Mapped[str | None] = mapped_column(String(20))  # an earlier samordningsnummer
    load_id: Mapped[int] = mapped_column(BigInteger)


class IncomeRecord(Base):
    """Earned income of one person from one employer in one month (SEK, öre)."""

    __tablename__ = "income_register"

    person_scheme: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    employer_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # the first day of the month
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    load_id: Mapped[int] = mapped_column(BigInteger)
