"""Asking for more when a foreign eID matches no one here with certainty: the person gives their
identity number here, and Saldo sends a code by letter to that person's registered address. Entering
the code, logged in again with the same eID, links the eID to the person for good
(docs/cross-border-citizen.md, "Asking for more"). Or, at a service office, a caseworker serving the
person links the eID after seeing their identity document; and the person sees their links in their
own pages and can remove any of them.

Why a letter: the eID proves a name and a birth date, which two people here may share; the number
is no secret. Receiving post at the person's address is what a stranger with the same name cannot
do — and the letter tells the real person, should someone else have asked.

What the person is told does not depend on whether the number fits: the same words whether a
letter went or not, so the form cannot be used to learn who is registered here."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import get_args

from sqlalchemy.orm import Session

from saldo.accounts.service.letters import write_letter
from saldo.crossborder import repository
from saldo.crossborder.errors import LinkNotAllowedError, LinkNotFoundError, LinkRefusedError
from saldo.crossborder.models import ForeignLink, ForeignLogin, LinkState, MatchStrength
from saldo.crossborder.schemas import DocumentKind, LinkedLetter, LinkLetter
from saldo.eessi.service import NATIONAL_SCHEMES, persons_named
from saldo.kit import crash_points
from saldo.kit.national_id import IdScheme, InvalidIdentifierError, birth_date_of, normalize_identifier

KEPT = dt.timedelta(days=30)  # a login's record, for the assisted channel and the person's own questions
ASK_FOR = dt.timedelta(minutes=15)  # after a login, how long its page may ask for a letter or take a code
CODE_VALID = dt.timedelta(days=30)
MAX_ATTEMPTS = 5  # wrong codes before the letter's code stops working
LETTERS_PER_30_DAYS = 3  # to one person here, and for one foreign eID: no one is buried in letters
LETTER_KIND = "foreign_eid_link"
LINKED_LETTER_KIND = "foreign_eid_linked"  # to tell the person a caseworker linked an eID
BY_LETTER = "letter"


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
            linked_by=BY_LETTER,
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
    if hmac.compare_digest(link.code_hash or "", _hash(_digits(code))):  # a pending link has its code
        link.state, link.confirmed_at = LinkState.CONFIRMED, now
        session.flush()
        return CodeOutcome((link.person_scheme, link.person_id), MAX_ATTEMPTS - link.attempts)
    link.attempts += 1
    if link.attempts >= MAX_ATTEMPTS:
        link.state = LinkState.BURNT
    session.flush()
    return CodeOutcome(None, MAX_ATTEMPTS - link.attempts)


# --- at a service office, and the person's own view --------------------------------------------------

DOCUMENT_KINDS: tuple[str, ...] = get_args(DocumentKind)
LINKABLE = (MatchStrength.AMBIGUOUS, MatchStrength.UNMATCHED)
_DOCUMENT_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9 -]{2,38}$")


def links_of(session: Session, person_scheme: str, person_id: str) -> list[ForeignLink]:
    """The person's foreign eIDs that open their pages, and the letters with a code on their way."""
    return repository.links_of(session, person_scheme, person_id)


def link_at_office(
    session: Session,
    *,
    person_scheme: str,
    person_id: str,
    reference: int,
    document_kind: str,
    document_number: str,
    caseworker: str,
    now: dt.datetime,
) -> ForeignLink:
    """A caseworker serving the person links the foreign eID of the login ``reference`` (shown on
    that login's page) after seeing the person's identity document. The login must be recent and
    have found no one with certainty, and its birth date must be the person's; an eID linked to
    someone else stays theirs until that link is removed. A letter to the person's registered
    address tells them. Raises ``LinkNotAllowedError``."""
    number = " ".join(document_number.upper().split())
    if document_kind not in DOCUMENT_KINDS or not _DOCUMENT_NUMBER.match(number):
        raise LinkNotAllowedError("no_document", "say which identity document was seen, and its number")
    login = session.get(ForeignLogin, reference)
    if login is None or now - login.created_at > KEPT:
        raise LinkNotAllowedError("no_login", f"no login with an eID of another country has the reference {reference}")
    if login.strength not in LINKABLE:
        raise LinkNotAllowedError(
            "matched", f"login {reference} already opened a person's pages: there is nothing to link"
        )
    born = birth_date_of(IdScheme(person_scheme), person_id)
    if born != login.birth_date:
        raise LinkNotAllowedError(
            "other_birth_date",
            f"the eID of login {reference} gives the birth date {login.birth_date.isoformat()}, not this person's",
        )
    linked = repository.linked_person(session, login.person_identifier)
    if linked == (person_scheme, person_id):
        raise LinkNotAllowedError("already_linked", "this eID already opens this person's pages")
    if linked is not None:
        raise LinkNotAllowedError(
            "linked_to_another", "this eID is linked to another person here; that link must be removed first"
        )
    repository.supersede_pending(session, login.person_identifier)
    letter_id = write_letter(  # the person hears of it by post, whoever stood at the counter
        session,
        IdScheme(person_scheme),
        person_id,
        kind=LINKED_LETTER_KIND,
        payload=LinkedLetter(
            eid_country=login.origin,
            eid_name=f"{login.given_name} {login.family_name}",
            eid_birth_date=login.birth_date,
            linked_on=now.date(),
            document_kind=document_kind,
            reference=login.id,
        ).model_dump(mode="json"),
    )
    link = ForeignLink(
        person_identifier=login.person_identifier,
        origin=login.origin,
        person_scheme=person_scheme,
        person_id=person_id,
        state=LinkState.CONFIRMED,
        linked_by=caseworker,
        document=f"{document_kind} {number}",
        attempts=0,
        letter_id=letter_id,
        login_id=login.id,
        confirmed_at=now,
    )
    session.add(link)
    session.flush()
    return link


def remove_link(
    session: Session, link_id: int, *, person_scheme: str, person_id: str, by: str, now: dt.datetime
) -> ForeignLink:
    """The person (or a caseworker serving them) takes a link away, or stops a letter's code: the
    eID opens nothing from then on. Another person's link is not found (404)."""
    link = repository.own_link(session, link_id, person_scheme, person_id)
    if link is None:
        raise LinkNotFoundError(f"no link {link_id} to an eID of another country is yours")
    link.state, link.removed_at, link.removed_by = LinkState.REMOVED, now, by
    session.flush()
    return link
