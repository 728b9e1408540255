"""Login with an eID of another EU/EEA country, through this country's eIDAS-Connector: the request
goes out by redirect, the answer comes back by POST, and the person lands on their own pages — or,
when they cannot be matched with certainty, on a page that says so and how to get help."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from saldo.crossborder.errors import ForeignLoginRefusedError
from saldo.crossborder.models import MatchStrength
from saldo.crossborder.service import OPENS, match, record_login
from saldo.crossborder.service.eidas import (
    ACS_PATH,
    MAX_RESPONSE_BYTES,
    METADATA_PATH,
    answered_request,
    connector_from_settings,
    login_redirect,
    read_answer,
    sp_metadata,
)
from saldo.http.deps import AppSettings, DbSession
from saldo.http.rendering import render
from saldo.identity.errors import LoginRefusedError
from saldo.identity.http import SESSION_COOKIE
from saldo.identity.models import Audience
from saldo.identity.service import open_session, start_login, take_login
from saldo.identity.service.oidc import VerifiedIdentity
from saldo.kit.clock import utcnow

router = APIRouter(include_in_schema=False)
PROVIDER = "eidas"
HOME = "/me"


def N_(message: str) -> str:  # noqa: N802 — gettext's marker: the page translates the text when shown
    return message


# why a foreign login was refused, in the words the person reads (docs/cross-border-citizen.md)
REASON_WORDS = {
    "malformed": N_("The answer from your country's eID service could not be read."),
    "unsolicited": N_("The answer from your country's eID service does not belong to a login started here."),
    "replayed": N_("This login has already been used, or took too long. Start again."),
    "invalid": N_(
        "The answer from your country's eID service did not pass the checks: it may be forged or misaddressed."
    ),
    "loa_too_low": N_("Your eID is not of a high enough level: it must be at least substantial."),
    "bad_identifier": N_("Your eID's identifier is not in the form the eIDAS network uses."),
    "bad_attribute": N_(
        "Your eID's answer lacks your name or birth date, or gives them in a form that is not accepted."
    ),
}
STRENGTH_WORDS = {
    MatchStrength.AMBIGUOUS.value: N_("More than one person here could be you, or the match is not certain enough."),
    MatchStrength.UNMATCHED.value: N_(
        "We found no one here with your identifier, or born on your birth date with your name."
    ),
}


def _local(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


@router.get("/login/eidas")
def start(request: Request, session: DbSession, settings: AppSettings, next: str | None = None) -> Response:
    """Send the browser to the eIDAS-Connector with a signed request; the login is recorded first."""
    connector = connector_from_settings(settings)
    # a RelayState the Connector hands back untouched (the return address is kept here, with the login)
    request_id, url = login_redirect(connector, relay_state=secrets.token_urlsafe(12))
    start_login(session, provider=PROVIDER, audience=Audience.CITIZEN, return_to=_local(next), state=request_id)
    session.commit()
    return RedirectResponse(url, status_code=303)


@router.post(ACS_PATH, response_class=HTMLResponse)
def answer(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    saml_response: Annotated[str, Form(alias="SAMLResponse", max_length=MAX_RESPONSE_BYTES)] = "",
) -> Response:
    """The Connector posts the answer here: check it, match the person, open their session."""
    connector = connector_from_settings(settings)
    request_id = None
    try:
        request_id = answered_request(saml_response)
        try:
            attempt = take_login(session, provider=PROVIDER, state=request_id)
        except LoginRefusedError as error:
            raise ForeignLoginRefusedError("replayed", str(error)) from None
        identity = read_answer(connector, saml_response, request_id=request_id)
    except ForeignLoginRefusedError as error:
        session.rollback()
        if request_id is not None:
            _use_up(session, request_id)  # a refused answer uses its login up too: no second try with it
        refused = {"reason": REASON_WORDS[error.reason], "detail": str(error)}
        return render(request, "crossborder/refused.html", refused, status_code=403)
    found = match(session, identity, country=connector.country)
    login = record_login(session, identity, found, now=utcnow())
    if found.strength not in OPENS or found.person is None:
        session.commit()
        context: dict[str, object] = {"login": login, "because": STRENGTH_WORDS[found.strength.value]}
        return render(request, "crossborder/unmatched.html", context)
    secret, _ = open_session(
        session,
        VerifiedIdentity(
            provider=PROVIDER,
            subject=identity.person_identifier[:255],
            person_scheme=found.person[0],
            person_id=found.person[1],
            name=f"{identity.given_name} {identity.family_name}"[:200],
            loa=identity.loa,
        ),
        audience=attempt.audience,
        max_hours=settings.session_max_hours,
    )
    session.commit()
    response = RedirectResponse(attempt.return_to, status_code=303)
    secure = settings.base_url.startswith("https://")
    response.set_cookie(SESSION_COOKIE, secret, path="/", httponly=True, samesite="lax", secure=secure)
    return response


def _use_up(session: DbSession, request_id: str) -> None:
    try:
        take_login(session, provider=PROVIDER, state=request_id)
    except LoginRefusedError:
        return  # unknown, or already used
    session.commit()


@router.get(METADATA_PATH)
def metadata(settings: AppSettings) -> Response:
    """Saldo's SAML service provider metadata, for the eIDAS-Connector's operator."""
    return Response(sp_metadata(connector_from_settings(settings)), media_type="application/samlmetadata+xml")
