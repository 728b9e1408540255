"""Who a browser's session belongs to: a citizen (or staff acting for one), a member of staff, or a
payer's user; the CSRF check of their forms; and how a page answers someone not logged in."""

from __future__ import annotations

import hmac
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from saldo.http.deps import DbSession
from saldo.http.errors import problem_response
from saldo.identity.errors import CsrfError, NotActingError, NotLoggedInError
from saldo.identity.models import Audience
from saldo.identity.schemas import SessionPrincipal
from saldo.identity.service import session_principal
from saldo.settings import Settings

SESSION_COOKIE = "saldo_session"


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure when Saldo is reached over https (directly or behind a trusted proxy)."""
    settings: Settings = request.app.state.settings
    return settings.base_url.startswith("https://") or request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, secret: str) -> None:
    """The cookie of a session a login just opened (every way of logging in sets it so)."""
    response.set_cookie(SESSION_COOKIE, secret, path="/", httponly=True, samesite="lax", secure=secure_cookies(request))


def local_path(target: str | None, default: str) -> str:
    """Only a path on this site may be returned to after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


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


# --- how a page answers (the API answers these as Problems, like every other error) ---------------


async def _not_logged_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotLoggedInError)
    if request.url.path.startswith("/api/"):
        return problem_response(exc)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    audience = "staff" if request.url.path.startswith("/staff") else "citizen"
    if request.url.path.startswith("/payer"):
        audience = "payer"
    return RedirectResponse(f"/login?{urlencode({'next': target, 'audience': audience})}", status_code=303)


async def _not_acting(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotActingError)
    if request.url.path.startswith("/api/"):
        return problem_response(exc)
    return RedirectResponse("/staff/assist", status_code=303)


async def _csrf_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CsrfError)
    if request.url.path.startswith("/api/"):
        return problem_response(exc)
    return PlainTextResponse(str(exc), status_code=403)


PAGE_HANDLERS: dict[type[Exception], Any] = {
    NotLoggedInError: _not_logged_in,
    NotActingError: _not_acting,
    CsrfError: _csrf_refused,
}
