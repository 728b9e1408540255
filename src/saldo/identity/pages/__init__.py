"""Login with eID, logout, and the caseworker's choice of the citizen they serve (assisted channel)."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from saldo.accesslog.service.purposes import AccessKind, chosen, published
from saldo.http.deps import DbSession
from saldo.http.rendering import render
from saldo.identity.errors import LoginRefusedError
from saldo.identity.http import (
    SESSION_COOKIE,
    CurrentStaffSession,
    check_csrf,
    local_path,
    secure_cookies,
    session_of,
    set_session_cookie,
)
from saldo.identity.models import Audience
from saldo.identity.pages.devprovider import dev_providers
from saldo.identity.service import act_for, end_session, open_session, start_login, stop_acting, take_login
from saldo.identity.service.oidc import LoginFailedError, LoginRequest, authorization_url, complete_login, discover
from saldo.kit.national_id import IdScheme, InvalidIdentifierError
from saldo.settings import OidcProviderSettings, Settings
from saldo.staff.errors import ForbiddenError

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "saldo_login"
HOME = {Audience.CITIZEN: "/me", Audience.STAFF: "/staff", Audience.PAYER: "/payer"}
CALLBACK = "/auth/callback/"


def providers(request: Request) -> list[OidcProviderSettings]:
    """The configured eID providers, and the development provider where it is switched on."""
    settings: Settings = request.app.state.settings
    found = list(settings.oidc_providers)
    if settings.dev_login:
        found += dev_providers(settings, settings.base_url)
    return found


def _provider(request: Request, name: str) -> OidcProviderSettings | None:
    return next((p for p in providers(request) if p.name == name), None)


def callback_url(request: Request, provider: str) -> str:
    """Where a provider sends the browser back: built from the configured address, never from the
    request's Host header (which a client chooses)."""
    settings: Settings = request.app.state.settings
    return settings.base_url + CALLBACK + provider


def _http(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.oidc_http
    return client


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None, audience: str = "citizen") -> HTMLResponse:
    """Choose the eID to log in with."""
    chosen = Audience(audience) if audience in {a.value for a in Audience} else Audience.CITIZEN
    offered = [p for p in providers(request) if p.audience == chosen.value]
    target = local_path(next, HOME[chosen])
    settings: Settings = request.app.state.settings
    citizen = chosen is Audience.CITIZEN
    context = {
        "providers": offered,
        "next": target,
        "audience": chosen.value,
        "eidas": settings.eidas_login and citizen,
        "wallet": settings.wallet_login and citizen,
    }
    return render(request, "identity/login.html", context)


@router.get("/login/{name}")
async def login(request: Request, session: DbSession, name: str, next: str | None = None) -> Response:
    """Send the browser to the provider, with state, nonce and PKCE recorded for its return."""
    provider = _provider(request, name)
    if provider is None:
        return _failed(request, "there is no eID provider by that name", 404)
    audience = Audience(provider.audience)
    target = local_path(next, HOME[audience])
    try:
        metadata, _ = await discover(_http(request), str(provider.issuer))
    except LoginFailedError as exc:
        return _failed(request, str(exc), 502)

    def record() -> LoginRequest:
        login_request = start_login(session, provider=provider.name, audience=audience, return_to=target)
        session.commit()
        return login_request

    login_request = await run_in_threadpool(record)
    redirect_uri = callback_url(request, provider.name)
    response = RedirectResponse(authorization_url(metadata, provider, login_request, redirect_uri), status_code=303)
    response.set_cookie(
        LOGIN_COOKIE,
        login_request.state,
        max_age=600,
        path=CALLBACK,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    return response


@router.get(CALLBACK + "{name}")
async def callback(
    request: Request,
    session: DbSession,
    name: str,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    """The provider sends the browser back here: check everything, then open the session."""
    provider = _provider(request, name)
    if provider is None:
        return _failed(request, "there is no eID provider by that name", 404)
    if error:
        return _failed(request, f"the eID provider answered {error}: {error_description or 'no details'}", 400)
    if not code or not state:
        return _failed(request, "the eID provider's answer has no code or state", 400)
    if request.cookies.get(LOGIN_COOKIE) != state:
        return _failed(request, "this login was not started in this browser; start again", 400)
    settings: Settings = request.app.state.settings

    def take() -> tuple[str, str, str, Audience]:
        attempt = take_login(session, provider=provider.name, state=state)
        session.commit()
        return attempt.nonce, attempt.code_verifier, attempt.return_to, attempt.audience

    try:
        nonce, verifier, return_to, audience = await run_in_threadpool(take)
        redirect_uri = callback_url(request, provider.name)
        identity = await complete_login(
            _http(request), provider, code=code, redirect_uri=redirect_uri, nonce=nonce, code_verifier=verifier
        )

        def open_() -> str:
            secret, _ = open_session(session, identity, audience=audience, max_hours=settings.session_max_hours)
            session.commit()
            return secret

        secret = await run_in_threadpool(open_)
    except (LoginRefusedError, LoginFailedError) as exc:
        return _failed(request, str(exc), 403 if isinstance(exc, LoginRefusedError) else 400)
    response = RedirectResponse(return_to, status_code=303)
    set_session_cookie(response, request, secret)
    response.delete_cookie(LOGIN_COOKIE, path=CALLBACK)
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    """End the session at once (the cookie no longer opens anything, even if copied)."""
    principal = session_of(request, session)
    if principal is not None:
        check_csrf(principal, csrf)
        end_session(session, principal)
        session.commit()
    response = RedirectResponse("/?logged_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/staff/assist", response_class=HTMLResponse)
def assist_page(request: Request, principal: CurrentStaffSession) -> HTMLResponse:
    """A caseworker chooses the citizen they serve, and says why."""
    return render(request, "identity/assist.html", _assist(None, {}), principal=principal)


def _assist(error: str | None, form: dict[str, str]) -> dict[str, object]:
    return {"error": error, "form": form, "purpose_choices": published(AccessKind.ACT_FOR)}


@router.post("/staff/assist", response_class=HTMLResponse)
def assist(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    personnummer: Annotated[str, Form(max_length=20)] = "",
    purpose: Annotated[str, Form(max_length=500)] = "",
    purpose_other: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Start serving the citizen, for a published purpose or one written in a sentence."""
    check_csrf(principal, csrf)
    given = chosen(purpose, purpose_other)
    try:
        try:
            act_for(session, principal, scheme=IdScheme.SE_PERSONNUMMER, identifier=personnummer, purpose=given)
        except InvalidIdentifierError:
            # a samordningsnummer (day of birth + 60) is not a valid personnummer, and the other way round
            act_for(session, principal, scheme=IdScheme.SE_SAMORDNINGSNUMMER, identifier=personnummer, purpose=given)
    except (InvalidIdentifierError, ValueError, ForbiddenError) as exc:
        session.rollback()
        form = {"personnummer": personnummer, "purpose": purpose, "purpose_other": purpose_other}
        return render(request, "identity/assist.html", _assist(str(exc), form), principal=principal, status_code=422)
    session.commit()
    return RedirectResponse("/me", status_code=303)


@router.post("/staff/assist/stop")
def assist_stop(
    session: DbSession, principal: CurrentStaffSession, csrf: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    check_csrf(principal, csrf)
    stop_acting(session, principal)
    session.commit()
    return RedirectResponse("/staff/assist", status_code=303)


def _failed(request: Request, reason: str, status: int) -> HTMLResponse:
    return render(request, "identity/login_failed.html", {"reason": reason}, status_code=status)


@router.get("/staff", response_class=HTMLResponse)
def staff_home(request: Request, principal: CurrentStaffSession) -> HTMLResponse:
    """Where staff land after login: what their roles let them do here."""
    return render(request, "identity/staff_home.html", {}, principal=principal)
