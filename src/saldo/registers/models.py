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
    # who acts for whom: trustees (god man, förvaltare) and guardians, as the överförmyndare register them
    REPRESENTATION = "representation"


class RepresentationBasis(StrEnum):
    """Why one person receives and acts for another (föräldrabalken 1949:381)."""

    GOD_MAN = "god_man"  # a trustee appointed to look after the person's affairs (11 kap. 4 §)
    FORVALTARE = "forvaltare"  # an administrator who takes over the person's affairs (11 kap. 7 §)
    GUARDIAN = "guardian"  # a child's guardian (vårdnadshavare, förmyndare)
    OTHER = "other_legal_representative"


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


class RepresentationRecord(Base):
    """One person acting for another for a period, as the register of representatives has it (the
    latest extract wins): the representative receives the represented person's payments lawfully."""

    __tablename__ = "representation_register"

    representative_scheme: Mapped[str] = mapped_column(String(32), primary_key=True)
    representative_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    represented_scheme: Mapped[str] = mapped_column(String(32), primary_key=True)
    represented_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    basis: Mapped[str] = mapped_column(String(32), primary_key=True)  # RepresentationBasis value
    valid_from: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)  # the last day; NULL: until further notice
    load_id: Mapped[int] = mapped_column(BigInteger)
