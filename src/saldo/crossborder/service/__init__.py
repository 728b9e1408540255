"""Matching a foreign eID to a person here, and recording the login (docs/cross-border-citizen.md).

In order, the first that decides:

1. A PersonIdentifier of this country (``SE/SE/…``) is the national identity number itself.
2. The foreign eID was linked to a person here by a code the person received by letter at their
   registered address (``linking``).
3. A number another country gave the person, already known here: a SED of a cross-border case
   linked to exactly one person (by this country's number, or confirmed by staff) carried it.
4. The name and birth date: exactly one person with an account here was born that day and their
   name, as their bank registered it, matches the eID's in full (the same names, at most spelt with
   or without diacritics or in another order).

Anything weaker or ambiguous — two persons, a near match, a known number that points at two people —
opens nothing: the person is told so, may ask for a code by letter (``linking``), and is given a
reference for the assisted channel."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from saldo.crossborder.models import ForeignLogin, MatchStrength
from saldo.crossborder.service.eidas import ForeignIdentity
from saldo.crossborder.service.linking import KEPT, linked_person
from saldo.eessi.service import NATIONAL_SCHEMES, persons_known_by, persons_named
from saldo.kit.national_id import InvalidIdentifierError, normalize_identifier

CLEAR_EVERY = 100
OPENS = (
    MatchStrength.IDENTIFIER,
    MatchStrength.LINKED,
    MatchStrength.KNOWN_IDENTIFIER,
    MatchStrength.NAME_AND_BIRTH_DATE,
)


@dataclass(frozen=True)
class Match:
    strength: MatchStrength
    person: tuple[str, str] | None  # (scheme, identifier) when the match opens the person's pages
    detail: str


def match(session: Session, identity: ForeignIdentity, *, country: str) -> Match:  # noqa: PLR0911 — one per rule
    """Who the foreign eID is here, and how surely (the module's rules)."""
    scheme = NATIONAL_SCHEMES.get(country)
    if identity.origin == country and scheme is not None:
        try:
            number = normalize_identifier(scheme, identity.national_part)
        except InvalidIdentifierError:
            return Match(MatchStrength.UNMATCHED, None, f"not a valid {scheme.value}")
        return Match(MatchStrength.IDENTIFIER, (scheme.value, number), f"{scheme.value} from the eID")
    linked = linked_person(session, identity.person_identifier)
    if linked is not None:
        return Match(MatchStrength.LINKED, linked, "linked by a code by letter, or at a service office")
    known = persons_known_by(session, identity.origin, identity.national_part)
    if len(known) == 1:
        person = next(iter(known))
        return Match(MatchStrength.KNOWN_IDENTIFIER, person, f"{identity.origin} number known from a cross-border case")
    if len(known) > 1:
        return Match(MatchStrength.AMBIGUOUS, None, f"the {identity.origin} number is known of {len(known)} persons")
    named = f"{identity.given_name} {identity.family_name}"
    candidates = persons_named(session, country, named, identity.birth_date)
    strong = [c for c in candidates if c.strong]
    if len(strong) == 1 and len(candidates) == 1:
        found = strong[0]
        return Match(
            MatchStrength.NAME_AND_BIRTH_DATE, (found.scheme, found.person_id), f"birth date and {found.describe()}"
        )
    if candidates:
        return Match(MatchStrength.AMBIGUOUS, None, f"{len(candidates)} persons born that day with a similar name")
    return Match(MatchStrength.UNMATCHED, None, "no one here with this number, or born that day with this name")


def record_login(
    session: Session, identity: ForeignIdentity, found: Match, *, provider: str, now: dt.datetime
) -> ForeignLogin:
    """The login and its match, kept for ``KEPT``; older records go as new ones come (looked for at
    one login in ``CLEAR_EVERY``, so a busy morning does not look for them hundreds of times a second)."""
    if secrets.randbelow(CLEAR_EVERY) == 0:
        session.execute(delete(ForeignLogin).where(ForeignLogin.created_at < now - KEPT))
    row = ForeignLogin(
        provider=provider,
        person_identifier=identity.person_identifier,
        origin=identity.origin,
        loa=identity.loa,
        given_name=identity.given_name,
        family_name=identity.family_name,
        birth_date=identity.birth_date,
        strength=found.strength,
        person_scheme=found.person[0] if found.person else None,
        person_id=found.person[1] if found.person else None,
        detail=found.detail[:300],
    )
    session.add(row)
    session.flush()
    return row
