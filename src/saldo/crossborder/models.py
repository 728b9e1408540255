"""Foreign eID logins: who logged in through the eIDAS network, and how they were matched to a
person here (or why not). A login that matched nobody is kept so the assisted channel can help the
person by its reference; every row is cleared after ``KEPT_DAYS``."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Date, ForeignKey, Index, SmallInteger, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime, str_enum


class MatchStrength(StrEnum):
    """How a foreign eID was matched to a person here, strongest first."""

    IDENTIFIER = "identifier"  # a PersonIdentifier of this country: the national identity number itself
    KNOWN_IDENTIFIER = "known_identifier"  # a SED of a case linked to the person carried that country's number
    LINKED = "linked"  # the person confirmed the link with a code sent by letter to their address here
    NAME_AND_BIRTH_DATE = "name_and_birth_date"  # exactly one person here has the birth date and the full name
    AMBIGUOUS = "ambiguous"  # several persons, or only a near match: nothing opened
    UNMATCHED = "unmatched"  # no one: nothing opened


class ForeignLogin(IdMixin, Base):
    """One foreign eID login, matched or not."""

    __tablename__ = "foreign_logins"

    provider: Mapped[str] = mapped_column(String(16), server_default="eidas")  # eidas, or wallet (its PID)
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
    # an unmatched login may ask for a letter or enter its code from the browser it landed in only:
    # the hash of a secret in that browser's cookie, for ``linking.ASK_FOR``
    browser_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now(), index=True)


class LinkState(StrEnum):
    PENDING = "pending"  # a letter with the code is on its way
    CONFIRMED = "confirmed"  # the person entered the code: their foreign eID opens their pages
    SUPERSEDED = "superseded"  # a newer letter replaced it
    BURNT = "burnt"  # too many wrong codes
    REMOVED = "removed"  # the person or a caseworker took the link away


class ForeignLink(IdMixin, Base):
    """A foreign eID (its PersonIdentifier) linked to a person here, after the person proved they
    receive post at that person's registered address: Saldo sent a code there by letter and the
    person entered it, logged in with the same eID (docs/cross-border-citizen.md, "Asking for more").
    Or a caseworker linked it at a service office, having seen the person's identity document
    (``linked_by`` names them, ``document`` says what they saw; no letter, no code).

    One confirmed link and one pending letter at most per PersonIdentifier, by the database's rule."""

    __tablename__ = "foreign_links"
    __table_args__ = (
        Index(
            "uq_foreign_links_confirmed",
            "person_identifier",
            unique=True,
            postgresql_where=text("state = 'confirmed'"),
        ),
        Index("uq_foreign_links_pending", "person_identifier", unique=True, postgresql_where=text("state = 'pending'")),
    )

    person_identifier: Mapped[str] = mapped_column(String(256), index=True)  # "FI/SE/…"
    origin: Mapped[str] = mapped_column(String(2))
    person_scheme: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[LinkState] = mapped_column(str_enum(LinkState, "link_state"))
    linked_by: Mapped[str] = mapped_column(String(80))  # "letter", or "staff:<username>" at a service office
    document: Mapped[str | None] = mapped_column(String(80))  # the identity document a caseworker saw
    code_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the code; the code is only in the letter
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    letter_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("letters.id"))
    login_id: Mapped[int] = mapped_column(BigInteger)  # the foreign login that asked (its reference)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # when the letter's code stops working
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(80))  # "citizen" or "staff:<username>"
