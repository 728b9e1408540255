"""Foreign eID logins: who logged in through the eIDAS network, and how they were matched to a
person here (or why not). A login that matched nobody is kept so the assisted channel can help the
person by its reference; every row is cleared after ``KEPT_DAYS``."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Date, String, func
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime, str_enum


class MatchStrength(StrEnum):
    """How a foreign eID was matched to a person here, strongest first."""

    IDENTIFIER = "identifier"  # a PersonIdentifier of this country: the national identity number itself
    KNOWN_IDENTIFIER = "known_identifier"  # a SED of a case linked to the person carried that country's number
    NAME_AND_BIRTH_DATE = "name_and_birth_date"  # exactly one person here has the birth date and the full name
    AMBIGUOUS = "ambiguous"  # several persons, or only a near match: nothing opened
    UNMATCHED = "unmatched"  # no one: nothing opened


class ForeignLogin(IdMixin, Base):
    """One foreign eID login, matched or not."""

    __tablename__ = "foreign_logins"

    person_identifier: Mapped[str] = mapped_column(String(256))  # eIDAS PersonIdentifier, "FI/SE/…"
    origin: Mapped[str] = mapped_column(String(2))  # the country whose eID it was
    loa: Mapped[str] = mapped_column(String(16))
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    strength: Mapped[MatchStrength] = mapped_column(str_enum(MatchStrength, "match_strength"))
    person_scheme: Mapped[str | None] = mapped_column(String(32))
    person_id: Mapped[str | None] = mapped_column(String(20), index=True)
    detail: Mapped[str] = mapped_column(String(300))  # what decided it, in words
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now(), index=True)
