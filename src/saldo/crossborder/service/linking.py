"""Asking for more when a foreign eID matches no one here with certainty: the person gives their
identity number here, and Saldo sends a code by letter to that person's registered address. Entering
the code, logged in again with the same eID, links the eID to the person for good
(docs/cross-border-citizen.md, "Asking for more").

Why a letter: the eID proves a name and a birth date, which two people here may share; the number
is no secret. Receiving post at the person's address is what a stranger with the same name cannot
do — and the letter tells the real person, should someone else have asked.

What the person is told does not depend on whether the number fits: the same words whether a
letter went or not, so the form cannot be used to learn who is registered here."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from saldo.accounts.service.letters import write_letter
from saldo.crossborder import repository
from saldo.crossborder.errors import LinkRefusedError
from saldo.crossborder.models import ForeignLink, ForeignLogin, LinkState
from saldo.crossborder.schemas import LinkLetter
from saldo.eessi.service import NATIONAL_SCHEMES, persons_named
from saldo.kit import crash_points
from saldo.kit.national_id import IdScheme, InvalidIdentifierError, normalize_identifier

ASK_FOR = dt.timedelta(minutes=15)  # after a login, how long its page may ask for a letter or take a code
CODE_VALID = dt.timedelta(days=30)
MAX_ATTEMPTS = 5  # wrong codes before the letter's code stops working
LETTERS_PER_30_DAYS = 3  # to one person here, and for one foreign eID: no one is buried in letters
LETTER_KIND = "foreign_eid_link"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _digits(code: str) -> str:
    return "".join(c for c in code if c.isdigit())


def bind_browser(login: ForeignLogin) -> str:
    """A secret for the browser the login landed in; only its hash is kept with the login."""
    secret = secrets.token_urlsafe(32)
    login.browser_hash = _hash(secret)
    return secret


def login_in_browser(session: Session, login_id: int, secret: str | None, *, now: dt.datetime) -> ForeignLogin:
    """The foreign login this browser landed in, while it may still ask; else refused."""
    login = session.get(ForeignLogin, login_id, with_for_update=True)
    if (
        login is None
        or login.browser_hash is None
        or not secret
        or not hmac.compare_digest(login.browser_hash, _hash(secret))
    ):
        raise LinkRefusedError("not_this_browser", "this page belongs to a login made in another browser")
    if now - login.created_at > ASK_FOR:
        raise LinkRefusedError("too_late", f"a login's page can ask for {ASK_FOR.seconds // 60} minutes; log in again")
    return login


def linked_person(session: Session, person_identifier: str) -> tuple[str, str] | None:
    """The person a foreign eID is linked to by a confirmed code, if any."""
    return repository.linked_person(session, person_identifier)


def pending_link(session: Session, person_identifier: str, *, now: dt.datetime) -> ForeignLink | None:
    """The letter on its way for this foreign eID, while its code still works."""
    return repository.pending_link(session, person_identifier, now=now)


def ask_for_letter(session: Session, login: ForeignLogin, number: str, *, country: str, now: dt.datetime) -> bool:
    """Send a code by letter when ``number`` is a person here who was born on the eID's birth date
    and whose name matches or nearly matches the eID's; whether a letter went (never shown to the
    person). A number in the wrong form raises ``InvalidIdentifierError`` (said to the person)."""
    scheme = NATIONAL_SCHEMES.get(country)
    if scheme is None:
        raise LinkRefusedError("no_scheme", f"this installation's country {country!r} has no identity numbers")
    normalize_identifier(scheme, number)  # the form's check: a number in the wrong form is said so
    candidates = persons_named(session, country, f"{login.given_name} {login.family_name}", login.birth_date)
    person = next((c for c in candidates if _same_number(c.scheme, c.person_id, number)), None)
    if person is None or linked_person(session, login.person_identifier) is not None:
        return False
    since = now - dt.timedelta(days=30)
    counts = repository.letters_since(
        session, since=since, person_identifier=login.person_identifier, person_id=person.person_id
    )
    if max(counts) >= LETTERS_PER_30_DAYS:
        return False
    code = f"{secrets.randbelow(10**8):08d}"
    expires = now + CODE_VALID
    letter_id = write_letter(
        session,
        IdScheme(person.scheme),
        person.person_id,
        kind=LETTER_KIND,
        payload=LinkLetter(
            code=f"{code[:4]}-{code[4:]}",
            eid_country=login.origin,
            eid_name=f"{login.given_name} {login.family_name}",
            eid_birth_date=login.birth_date,
            expires_on=expires.date(),
            reference=login.id,
        ).model_dump(mode="json"),
    )
    repository.supersede_pending(session, login.person_identifier)
    session.add(
        ForeignLink(
            person_identifier=login.person_identifier,
            origin=login.origin,
            person_scheme=person.scheme,
            person_id=person.person_id,
            state=LinkState.PENDING,
            code_hash=_hash(code),
            attempts=0,
            letter_id=letter_id,
            login_id=login.id,
            expires_at=expires,
        )
    )
    session.flush()
    crash_points.reach("crossborder.before_commit_letter")
    return True


def _same_number(scheme: str, person_id: str, number: str) -> bool:
    try:
        return normalize_identifier(IdScheme(scheme), number) == person_id
    except InvalidIdentifierError:
        return False


@dataclass(frozen=True)
class CodeOutcome:
    person: tuple[str, str] | None  # the person the eID is now linked to, when the code was right
    tries_left: int


def enter_code(session: Session, login: ForeignLogin, code: str, *, now: dt.datetime) -> CodeOutcome:
    """Check the code from the letter; the right one links the foreign eID to the person for good.
    A wrong one counts: after ``MAX_ATTEMPTS`` the letter's code stops working."""
    link = repository.pending_link(session, login.person_identifier, now=now, for_update=True)
    if link is None:
        raise LinkRefusedError("no_letter", "no letter with a code is waiting for this eID, or its code has expired")
    if hmac.compare_digest(link.code_hash, _hash(_digits(code))):
        link.state, link.confirmed_at = LinkState.CONFIRMED, now
        session.flush()
        return CodeOutcome((link.person_scheme, link.person_id), MAX_ATTEMPTS - link.attempts)
    link.attempts += 1
    if link.attempts >= MAX_ATTEMPTS:
        link.state = LinkState.BURNT
    session.flush()
    return CodeOutcome(None, MAX_ATTEMPTS - link.attempts)
