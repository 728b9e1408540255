"""Logins and browser sessions: a login attempt is recorded before the browser leaves for the eID
provider and used once when it comes back; a session lives until logout, ``session_idle_minutes``
without a request, or ``session_max_hours`` after login, whichever comes first."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy.orm import Session

from saldo.accesslog.service import Access, log_access
from saldo.accesslog.service.purposes import AccessKind, check_purpose
from saldo.identity.errors import LoginRefusedError
from saldo.identity.models import Audience, LoginAttempt, WebSession
from saldo.identity.repository import IdentityRepository
from saldo.identity.schemas import PersonRef, SessionPrincipal
from saldo.identity.service.oidc import LoginRequest, VerifiedIdentity, new_login_request
from saldo.kit.clock import utcnow
from saldo.kit.national_id import IdScheme, normalize_identifier
from saldo.payers.service import payer_user_by_id, payer_user_principal
from saldo.staff.errors import ForbiddenError
from saldo.staff.models import Role
from saldo.staff.service import staff_by_id, staff_by_person

LOGIN_TTL = dt.timedelta(minutes=10)  # time to finish identifying at the provider
TOUCH_EVERY = dt.timedelta(seconds=60)  # last-seen is written at most this often: a page read stays a read


def _sha256(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def start_login(
    session: Session, *, provider: str, audience: Audience, return_to: str, state: str | None = None
) -> LoginRequest:
    """Record a login about to be sent to ``provider``; the state is kept only as a hash. ``state``
    is the protocol's own when it has one (a SAML request's ID, which its answer names)."""
    request = new_login_request()
    if state is not None:
        request = LoginRequest(state=state, nonce=request.nonce, code_verifier=request.code_verifier)
    repository = IdentityRepository(session)
    repository.drop_attempts_before(utcnow() - LOGIN_TTL)
    repository.add(
        LoginAttempt(
            state_sha256=_sha256(request.state),
            provider=provider,
            audience=audience,
            nonce=request.nonce,
            code_verifier=request.code_verifier,
            return_to=return_to,
        )
    )
    return request


def take_login(session: Session, *, provider: str, state: str) -> LoginAttempt:
    """The attempt a callback answers, used up; refused if unknown, stale or meant for another provider."""
    attempt = IdentityRepository(session).take_attempt(_sha256(state))
    if attempt is None:
        raise LoginRefusedError("this login is unknown or was already used; start again")
    if attempt.created_at < utcnow() - LOGIN_TTL:
        raise LoginRefusedError("this login took longer than 10 minutes; start again")
    if attempt.provider != provider:
        raise LoginRefusedError("this login was sent to another provider; start again")
    return attempt


def open_session(
    session: Session, identity: VerifiedIdentity, *, audience: Audience, max_hours: int
) -> tuple[str, SessionPrincipal]:
    """A new session for a verified identity; returns the cookie secret (kept only as a hash). Staff
    must be a known, enabled member with this identifier."""
    staff_id = None
    payer_user_id = None
    if audience is Audience.STAFF:
        member = staff_by_person(session, identity.person_scheme, identity.person_id)
        if member is None:
            raise LoginRefusedError("you are not registered as staff of the payment authority")
        staff_id = member.staff_id
    if audience is Audience.PAYER:
        payer = payer_user_principal(session, scheme=identity.person_scheme, identifier=identity.person_id)
        if payer is None:
            raise LoginRefusedError("you are not registered as a user of a connected payer")
        payer_user_id = payer.user_id
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    row = WebSession(
        secret_sha256=_sha256(secret),
        audience=audience,
        provider=identity.provider,
        subject=identity.subject,
        person_scheme=identity.person_scheme,
        person_id=identity.person_id,
        name=identity.name,
        loa=identity.loa,
        staff_id=staff_id,
        payer_user_id=payer_user_id,
        csrf_token=secrets.token_urlsafe(24),
        last_seen_at=now,
        expires_at=now + dt.timedelta(hours=max_hours),
    )
    IdentityRepository(session).add(row)
    principal = _principal(session, row)
    assert principal is not None  # a member found a moment ago
    return secret, principal


def session_principal(session: Session, secret: str, *, idle_minutes: int) -> tuple[SessionPrincipal | None, bool]:
    """Who the session cookie belongs to (None if it is unknown, ended, expired or idle too long), and
    whether its last-seen time was written (then the caller commits)."""
    repository = IdentityRepository(session)
    now = utcnow()
    row = repository.session_row(_sha256(secret), now=now, idle_minutes=idle_minutes)
    if row is None:
        return None, False
    touched = now - row.last_seen_at >= TOUCH_EVERY
    if touched:
        repository.touch(row.id, now)
    if row.audience == Audience.CITIZEN:  # the common case, from the one row
        person = PersonRef(row.person_scheme, row.person_id)
        principal = SessionPrincipal(
            session_id=row.id,
            audience=Audience.CITIZEN,
            person=person,
            name=row.name,
            loa=row.loa,
            csrf_token=row.csrf_token,
        )
        return principal, touched
    full = repository.session_by_id(row.id)
    return (_principal(session, full) if full is not None else None), touched


def end_session(session: Session, principal: SessionPrincipal) -> None:
    """Log out: the cookie stops working at once."""
    IdentityRepository(session).end(principal.session_id, utcnow())


def act_for(
    session: Session, principal: SessionPrincipal, *, scheme: IdScheme, identifier: str, purpose: str
) -> PersonRef:
    """A caseworker starts serving a citizen (assisted channel): logged with the purpose they give."""
    if Role.CASEWORKER not in principal.roles:
        raise ForbiddenError("acting for a citizen needs the caseworker role")
    purpose = check_purpose(purpose, AccessKind.ACT_FOR)
    person = PersonRef(scheme.value, normalize_identifier(scheme, identifier))
    IdentityRepository(session).set_acting(principal.session_id, person.scheme, person.identifier, purpose)
    log_access(
        session,
        Access(
            actor=principal.staff_username or "",
            role=Role.CASEWORKER.value,
            action="assist_start",
            purpose=purpose,
            person_scheme=person.scheme,
            person_id=person.identifier,
            channel="assisted",
        ),
    )
    return person


def stop_acting(session: Session, principal: SessionPrincipal) -> None:
    """The caseworker is done with the citizen they served."""
    IdentityRepository(session).set_acting(principal.session_id, None, None, None)


def log_assisted_read(
    session: Session, principal: SessionPrincipal, *, action: str, details: dict[str, object]
) -> None:
    """Record that a caseworker read a citizen's data on their behalf (every assisted page is logged)."""
    if principal.acting_for is None:
        return
    log_access(
        session,
        Access(
            actor=principal.staff_username or "",
            role=Role.CASEWORKER.value,
            action=action,
            purpose=principal.purpose or "",
            person_scheme=principal.acting_for.scheme,
            person_id=principal.acting_for.identifier,
            channel="assisted",
            details=details,
        ),
    )


def _principal(session: Session, row: WebSession) -> SessionPrincipal | None:
    staff = None
    if row.audience is Audience.STAFF:
        staff = staff_by_id(session, row.staff_id) if row.staff_id is not None else None
        if staff is None:  # disabled since login: the session ends with the member
            return None
    payer = None
    if row.audience is Audience.PAYER:
        payer = payer_user_by_id(session, row.payer_user_id) if row.payer_user_id is not None else None
        if payer is None:  # disabled since login
            return None
    acting = PersonRef(row.acting_scheme, row.acting_id) if row.acting_scheme and row.acting_id else None
    return SessionPrincipal(
        session_id=row.id,
        audience=row.audience,
        person=PersonRef(row.person_scheme, row.person_id),
        name=row.name,
        loa=row.loa,
        csrf_token=row.csrf_token,
        staff_id=row.staff_id,
        staff_username=staff.username if staff else None,
        roles=staff.roles if staff else frozenset(),
        acting_for=acting,
        purpose=row.acting_purpose,
        payer=payer,
    )
