from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session

from saldo.db.sql import bound
from saldo.identity.models import LoginAttempt, WebSession

# The live session of a cookie's secret: not ended, not expired, not idle longer than it may be. One
# statement, in psycopg's style, for every page's check (session_principal, bound for SQLAlchemy: a
# constant statement, no ORM object built) and the citizen's fast path (saldo.citizens.repository).
LIVE_SESSION = (
    "SELECT id, audience, person_scheme, person_id, name, loa, csrf_token, last_seen_at, expires_at"
    " FROM web_sessions WHERE secret_sha256 = %(secret)s AND ended_at IS NULL"
    " AND expires_at > %(now)s AND last_seen_at + make_interval(mins => %(idle_minutes)s) > %(now)s"
)
_SESSION = bound(LIVE_SESSION)


class IdentityRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: LoginAttempt | WebSession) -> None:
        self.session.add(row)
        self.session.flush()

    def take_attempt(self, state_sha256: bytes) -> LoginAttempt | None:
        """The attempt with this state, removed so it can be used once only."""
        return self.session.scalar(
            delete(LoginAttempt).where(LoginAttempt.state_sha256 == state_sha256).returning(LoginAttempt)
        )

    def drop_attempts_before(self, cutoff: dt.datetime) -> None:
        self.session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < cutoff))

    def session_row(self, secret_sha256: bytes, *, now: dt.datetime, idle_minutes: int) -> Any | None:
        """The live session's columns a page needs, or None (unknown, ended, expired or idle)."""
        params = {"secret": secret_sha256, "now": now, "idle_minutes": idle_minutes}
        return self.session.execute(_SESSION, params).first()

    def session_by_id(self, session_id: int) -> WebSession | None:
        return self.session.get(WebSession, session_id)

    def touch(self, session_id: int, at: dt.datetime) -> None:
        self.session.execute(update(WebSession).where(WebSession.id == session_id).values(last_seen_at=at))

    def end(self, session_id: int, at: dt.datetime) -> None:
        self.session.execute(update(WebSession).where(WebSession.id == session_id).values(ended_at=at))

    def set_acting(self, session_id: int, scheme: str | None, identifier: str | None, purpose: str | None) -> None:
        self.session.execute(
            update(WebSession)
            .where(WebSession.id == session_id)
            .values(acting_scheme=scheme, acting_id=identifier, acting_purpose=purpose)
        )


# A few payees from the first payments registered, for the development login page to offer
# (cheap at any size: it reads 500 rows of the primary key's start, never a table scan).
_SAMPLE_PERSONS = text(
    "SELECT p.id_scheme, p.identifier, s.payee_name FROM ("
    " SELECT DISTINCT ON (payee_id) payee_id, payee_name FROM ("
    "  SELECT payee_id, payee_name FROM payments WHERE status <> 'reported' ORDER BY id LIMIT 500) f"
    " ORDER BY payee_id) s JOIN payees p ON p.id = s.payee_id WHERE p.kind = 'person' LIMIT :limit"
)
_STAFF_PERSONS = text(
    "SELECT person_scheme, person_id, name, roles FROM staff_members "
    "WHERE person_id IS NOT NULL AND disabled_at IS NULL ORDER BY username LIMIT :limit"
)


def sample_persons(session: Session, limit: int) -> list[tuple[str, str, str]]:
    """(scheme, identifier, name as a payer has it) of some persons with payments."""
    return [(str(r[0]), str(r[1]), str(r[2])) for r in session.execute(_SAMPLE_PERSONS, {"limit": limit})]


def staff_persons(session: Session, limit: int) -> list[tuple[str, str, str, list[str]]]:
    """(scheme, identifier, name, roles) of enabled staff who can log in with eID."""
    return [(str(r[0]), str(r[1]), str(r[2]), list(r[3])) for r in session.execute(_STAFF_PERSONS, {"limit": limit})]


_PAYER_PERSONS = text(
    "SELECT u.person_scheme, u.person_id, u.name, ARRAY[p.name] FROM payer_users u JOIN payers p ON p.id = u.payer_id "
    "WHERE u.disabled_at IS NULL ORDER BY p.name, u.name LIMIT :limit"
)


def payer_persons(session: Session, limit: int) -> list[tuple[str, str, str, list[str]]]:
    """(scheme, identifier, name, [payer]) of enabled payer users."""
    return [(str(r[0]), str(r[1]), str(r[2]), list(r[3])) for r in session.execute(_PAYER_PERSONS, {"limit": limit})]
