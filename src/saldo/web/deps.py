"""Request dependencies: the database session and the authenticated payer or bank."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi import Path as PathParameter
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from saldo.banks.schemas import BankPrincipal
from saldo.banks.service import authenticate_bank, is_bank_token
from saldo.identity.errors import CsrfError, NotActingError, NotLoggedInError
from saldo.identity.models import Audience
from saldo.identity.schemas import SessionPrincipal
from saldo.identity.service import session_principal
from saldo.kit.problem import LINE_PATTERN
from saldo.payers.errors import InvalidTokenError
from saldo.payers.schemas import PayerPrincipal
from saldo.payers.service import authenticate
from saldo.registers.schemas import KeeperPrincipal
from saldo.registers.service import authenticate_keeper
from saldo.settings import Settings
from saldo.staff.schemas import StaffPrincipal
from saldo.staff.service import authenticate_staff

bearer = HTTPBearer(
    auto_error=False,
    description=(
        "A payer API token (`saldo_…`), a bank API token (`saldobank_…`) or a staff token (`saldostaff_…`): "
        "`Authorization: Bearer <token>`"
    ),
)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request. Endpoints that write commit it themselves before they respond, so a
    failed commit is an error response, never a success the database did not keep.

    Declared async so FastAPI does not hand it to a worker thread: opening a session does no I/O
    (the connection is taken at the first query, in the endpoint's thread), and the closing rollback
    only returns the connection to the pool. Each thread hop costs about as much as the query."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DbSession = Annotated[Session, Depends(get_session)]
AppSettings = Annotated[Settings, Depends(get_settings)]


MAX_ID = 2**63 - 1  # PostgreSQL bigint
# A resource id in a path: a positive bigint, so an out-of-range number is a 422, never a database error.
PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
# Why a member of staff reads what a case holds about a person (logged; docs/security.md)
ReadPurpose = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=500,
        pattern=LINE_PATTERN,
        description="Why it is read (logged): a published purpose (GET /api/v1/staff/purposes) or a sentence. "
        "Needed unless the case is assigned to the caller or the caller opened it (then case_work).",
    ),
]


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise InvalidTokenError("missing API token: send `Authorization: Bearer <token>`")
    return credentials.credentials


def require_payer(session: DbSession, credentials: Credentials) -> PayerPrincipal:
    """The payer behind the request's bearer token; 401 without a valid, unrevoked token."""
    return authenticate(session, _token(credentials))


def require_bank(session: DbSession, credentials: Credentials) -> BankPrincipal:
    """The bank behind the request's bearer token; 401 without a valid, unrevoked bank token."""
    return authenticate_bank(session, _token(credentials))


def require_participant(session: DbSession, credentials: Credentials) -> PayerPrincipal | BankPrincipal:
    """A payer or a bank: those who may ask verification of payee."""
    token = _token(credentials)
    return authenticate_bank(session, token) if is_bank_token(token) else authenticate(session, token)


def require_staff(session: DbSession, credentials: Credentials) -> StaffPrincipal:
    """The staff member behind the request's bearer token; 401 without a valid one. Each endpoint
    then checks the role it needs (403 without it)."""
    return authenticate_staff(session, _token(credentials))


def require_register_keeper(session: DbSession, credentials: Credentials) -> KeeperPrincipal:
    """The register keeper behind the request's bearer token; 401 without a valid, unrevoked one."""
    return authenticate_keeper(session, _token(credentials))


SESSION_COOKIE = "saldo_session"


def session_of(request: Request, session: Session) -> SessionPrincipal | None:
    """Who the browser's session cookie belongs to, if anyone (a new last-seen time is committed)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    settings: Settings = request.app.state.settings
    principal, touched = session_principal(session, secret, idle_minutes=settings.session_idle_minutes)
    if touched:
        session.commit()
    return principal


async def require_citizen(request: Request, session: DbSession) -> SessionPrincipal:
    """A logged-in citizen, or a caseworker acting for one; otherwise the browser is sent to log in
    (pages) or answered 401 (the JSON behind them).

    Declared async, so the one indexed read it makes runs on the event loop instead of costing a hop
    to a worker thread: on the citizen's overview that took the JSON from 569 to 938 requests/s and
    its p99 from 339 to 72 ms (docs/benchmarks.md). It holds the loop for that read only."""
    principal = session_of(request, session)
    if principal is None or principal.audience is Audience.PAYER:  # a payer's user is not here as a citizen
        raise NotLoggedInError("log in with eID to see your payments")
    if principal.subject is None:
        raise NotActingError("choose the citizen you act for first")
    return principal


def require_staff_session(request: Request, session: DbSession) -> SessionPrincipal:
    """A member of staff logged in with eID; each page then checks the role it needs."""
    principal = session_of(request, session)
    if principal is None or principal.audience is not Audience.STAFF:
        raise NotLoggedInError("log in as staff of the payment authority")
    return principal


def require_payer_session(request: Request, session: DbSession) -> SessionPrincipal:
    """A person logged in with eID for the payer they work for; every page is scoped to that payer."""
    principal = session_of(request, session)
    if principal is None or principal.audience is not Audience.PAYER or principal.payer is None:
        raise NotLoggedInError("log in as a user of a connected payer")
    return principal


def check_csrf(principal: SessionPrincipal, token: str | None) -> None:
    """Every form a session sends carries its CSRF token (and the cookie is SameSite=Lax as well)."""
    if not token or not hmac.compare_digest(token, principal.csrf_token):
        raise CsrfError("the form is out of date or was not sent from Saldo's own page; reload and try again")


CurrentCitizen = Annotated[SessionPrincipal, Depends(require_citizen)]
CurrentStaffSession = Annotated[SessionPrincipal, Depends(require_staff_session)]
CurrentPayerSession = Annotated[SessionPrincipal, Depends(require_payer_session)]
CurrentPayer = Annotated[PayerPrincipal, Depends(require_payer)]
CurrentBank = Annotated[BankPrincipal, Depends(require_bank)]
CurrentParticipant = Annotated[PayerPrincipal | BankPrincipal, Depends(require_participant)]
CurrentStaff = Annotated[StaffPrincipal, Depends(require_staff)]
CurrentKeeper = Annotated[KeeperPrincipal, Depends(require_register_keeper)]
AUTH_DEPENDENCIES = (
    require_payer,
    require_bank,
    require_participant,
    require_staff,
    require_register_keeper,
    require_citizen,
    require_staff_session,
    require_payer_session,
)


# The OpenAPI request body of an endpoint that takes a CSV file as its body (read by receive_to_file).
CSV_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}}


async def receive_to_file(
    request: Request,
    path: Path,
    limit: int,
    *,
    too_large: Callable[[str], Exception],
    empty: Callable[[str], Exception],
) -> bytes:
    """Stream the request body to ``path`` (memory stays flat whatever the size) and return its SHA-256.
    Raises ``too_large`` past ``limit`` bytes (declared or received) and ``empty`` for no body."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(f"the upload is {declared} bytes; the limit is {limit}")
    return await save_stream(request.stream(), path, limit, too_large=too_large, empty=empty)


async def save_stream(
    chunks: AsyncIterator[bytes],
    path: Path,
    limit: int,
    *,
    too_large: Callable[[str], Exception],
    empty: Callable[[str], Exception],
) -> bytes:
    """Write ``chunks`` to ``path`` and return their SHA-256; ``too_large`` past ``limit`` bytes,
    ``empty`` for nothing at all. A request body and a file of a browser form both come this way."""
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as sink:
        async for part in chunks:
            size += len(part)
            if size > limit:
                raise too_large(f"the upload is larger than the {limit}-byte limit")
            digest.update(part)
            sink.write(part)
    if size == 0:
        raise empty("the request body is empty")
    return digest.digest()


async def upload_chunks(upload: UploadFile, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    """A file of a browser form, a megabyte at a time (for ``save_stream``)."""
    while part := await upload.read(size):
        yield part
