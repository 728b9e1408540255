"""Login with an eID of another EU/EEA country, through this country's eIDAS-Connector: the request
goes out by redirect, the answer comes back by POST, and the person lands on their own pages — or,
when they cannot be matched with certainty, on a page that says so and how to get help. The person's
own page of the eIDs linked to them, where a caseworker at a service office can link one too."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Annotated

import segno
from babel import Locale
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError

from saldo.credentials.pages import REASON_WORDS as WALLET_REASON_WORDS
from saldo.credentials.pages import RequestId
from saldo.credentials.service import pid_login
from saldo.credentials.service import verifier as verifying
from saldo.crossborder.errors import ForeignLoginRefusedError, LinkNotAllowedError, LinkRefusedError
from saldo.crossborder.models import ForeignLogin, MatchStrength
from saldo.crossborder.service import OPENS, linking, match, record_login
from saldo.crossborder.service.eidas import (
    ACS_PATH,
    MAX_RESPONSE_BYTES,
    METADATA_PATH,
    ForeignIdentity,
    answered_request,
    connector_from_settings,
    login_redirect,
    read_answer,
    sp_metadata,
)
from saldo.http import i18n
from saldo.http.deps import AppSettings, DbSession
from saldo.http.rendering import render
from saldo.identity.errors import LoginRefusedError
from saldo.identity.http import CurrentCitizen, check_csrf, local_path, secure_cookies, set_session_cookie
from saldo.identity.models import Audience
from saldo.identity.schemas import SessionPrincipal
from saldo.identity.service import log_assisted_read, open_session, start_login, take_login
from saldo.identity.service.oidc import VerifiedIdentity
from saldo.kit.clock import utcnow
from saldo.kit.national_id import InvalidIdentifierError
from saldo.staff.errors import ForbiddenError
from saldo.staff.models import Role

router = APIRouter(include_in_schema=False)
LoginId = Annotated[int, Path(ge=1, le=2**63 - 1)]
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


@router.get("/login/eidas")
def start(request: Request, session: DbSession, settings: AppSettings, next: str | None = None) -> Response:
    """Send the browser to the eIDAS-Connector with a signed request; the login is recorded first."""
    connector = connector_from_settings(settings)
    # a RelayState the Connector hands back untouched: the page's language, for the answer, whose
    # cross-site POST carries no cookie (the return address is kept here, with the login)
    relay_state = f"{i18n.choose_language(request)}.{secrets.token_urlsafe(12)}"
    request_id, url = login_redirect(connector, relay_state=relay_state)
    start_login(
        session, provider=PROVIDER, audience=Audience.CITIZEN, return_to=local_path(next, HOME), state=request_id
    )
    session.commit()
    return RedirectResponse(url, status_code=303)


@router.post(ACS_PATH, response_class=HTMLResponse)
def answer(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    saml_response: Annotated[str, Form(alias="SAMLResponse", max_length=MAX_RESPONSE_BYTES)] = "",
    relay_state: Annotated[str, Form(alias="RelayState", max_length=100)] = "",
) -> Response:
    """The Connector posts the answer here: check it, match the person, open their session. A
    refusal is told in the language the login started in (the RelayState carries it)."""
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
        language = relay_state.split(".", 1)[0]
        return render(request, "crossborder/refused.html", refused, status_code=403, language=language)
    return _open_or_explain(
        request, session, settings, identity, provider=PROVIDER, return_to=attempt.return_to, audience=attempt.audience
    )


def _open_or_explain(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    identity: ForeignIdentity,
    *,
    provider: str,
    return_to: str,
    audience: Audience = Audience.CITIZEN,
) -> Response:
    """Match the person; on a certain match open their session and send them on, else say why not
    and offer to ask for more (a code by letter) from this browser."""
    found = match(session, identity, country=settings.eidas_country)
    login = record_login(session, identity, found, provider=provider, now=utcnow())
    if found.strength not in OPENS or found.person is None:
        # on to a page of this site, so that the browser's cookies (the language chosen) come along:
        # the answer's cross-site POST carries none
        secret = linking.bind_browser(login)
        session.commit()
        response = RedirectResponse(f"{LINK_PATH}/{login.id}", status_code=303)
        response.set_cookie(
            LINK_COOKIE,
            secret,
            max_age=int(linking.ASK_FOR.total_seconds()),
            path=LINK_PATH,
            httponly=True,
            samesite="lax",
            secure=secure_cookies(request),
        )
        return response
    return _open(request, session, settings, login, found.person, return_to=return_to, audience=audience)


def _open(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    login: ForeignLogin,
    person: tuple[str, str],
    *,
    return_to: str = HOME,
    audience: Audience = Audience.CITIZEN,
) -> Response:
    secret, _ = open_session(
        session,
        VerifiedIdentity(
            provider=login.provider,
            subject=login.person_identifier[:255],
            person_scheme=person[0],
            person_id=person[1],
            name=f"{login.given_name} {login.family_name}"[:200],
            loa=login.loa,
        ),
        audience=audience,
        max_hours=settings.session_max_hours,
    )
    session.commit()
    response = RedirectResponse(return_to, status_code=303)
    set_session_cookie(response, request, secret)
    return response


def _unmatched(
    request: Request, session: DbSession, login: ForeignLogin, *, error: str | None = None, tries: int = 0
) -> HTMLResponse:
    """The page of a login that opened nothing: why, the letter to ask for or its code to enter, and
    the assisted channel's reference. ``error`` is a catalogue message."""
    context: dict[str, object] = {
        "login": login,
        "because": STRENGTH_WORDS.get(login.strength.value),
        "pending": linking.pending_link(session, login.person_identifier, now=utcnow()),
        "error": error,
        "tries": tries,
    }
    return render(request, "crossborder/unmatched.html", context, status_code=422 if error else 200)


# --- asking for more: a code by letter to the registered address (crossborder.service.linking) ---

LINK_COOKIE = "saldo_foreign_login"
LINK_PATH = "/login/foreign"
LINK_WORDS = {
    "not_this_browser": N_("This page belongs to a login made in another browser, or long ago. Log in again."),
    "too_late": N_("This page belongs to a login made in another browser, or long ago. Log in again."),
    "no_scheme": N_("Identity numbers cannot be given here."),
    "no_letter": N_(
        "No letter with a code is waiting for this eID, or its code has expired. You can ask for a new letter."
    ),
}
NOT_A_NUMBER = N_("This is not a valid personal identity number here. Check it and try again.")
WRONG_CODE = N_("The code is not right. Tries left: %(tries)s.")
BURNT = N_("The code was wrong too many times and no longer works. You can ask for a new letter.")


def _login_here(request: Request, session: DbSession, login_id: int) -> ForeignLogin | Response:
    try:
        return linking.login_in_browser(session, login_id, request.cookies.get(LINK_COOKIE), now=utcnow())
    except LinkRefusedError as error:
        session.rollback()
        refused = {"reason": LINK_WORDS[error.reason], "detail": str(error)}
        return render(request, "crossborder/refused.html", refused, status_code=403)


@router.get(LINK_PATH + "/{login_id}", response_class=HTMLResponse)
def unmatched(login_id: LoginId, request: Request, session: DbSession) -> Response:
    """Where a foreign login that opened nothing lands: why, and what the person can do."""
    login = _login_here(request, session, login_id)
    if not isinstance(login, ForeignLogin):
        return login
    session.rollback()  # nothing to write: let go of the login's row
    page = _unmatched(request, session, login)
    page.headers["Cache-Control"] = "no-store"
    return page


@router.post(LINK_PATH + "/{login_id}/letter", response_class=HTMLResponse)
def ask_for_letter(
    login_id: LoginId,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """The person's identity number here: a code goes by letter to that person's registered address
    when the number fits the eID's name and birth date. The answer is the same either way."""
    login = _login_here(request, session, login_id)
    if not isinstance(login, ForeignLogin):
        return login
    try:
        linking.ask_for_letter(session, login, number, country=settings.eidas_country, now=utcnow())
        session.commit()
    except InvalidIdentifierError:
        session.rollback()
        return _unmatched(request, session, login, error=NOT_A_NUMBER)
    except LinkRefusedError as error:
        session.rollback()
        return _unmatched(request, session, login, error=LINK_WORDS[error.reason])
    except IntegrityError:
        session.rollback()  # the same form sent twice at once: the other one's letter is on its way
    return render(request, "crossborder/letter_sent.html", {"login": login, "valid_days": linking.CODE_VALID.days})


@router.post(LINK_PATH + "/{login_id}/code", response_class=HTMLResponse)
def enter_code(
    login_id: LoginId,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    code: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """The code from the letter: the right one links the eID to the person and opens their pages."""
    login = _login_here(request, session, login_id)
    if not isinstance(login, ForeignLogin):
        return login
    try:
        outcome = linking.enter_code(session, login, code, now=utcnow())
    except LinkRefusedError as error:
        session.rollback()
        return _unmatched(request, session, login, error=LINK_WORDS[error.reason])
    if outcome.person is None:
        session.commit()  # the wrong try counts
        said = WRONG_CODE if outcome.tries_left else BURNT
        return _unmatched(request, session, login, error=said, tries=outcome.tries_left)
    login.browser_hash = None  # the page has done its work
    return _open(request, session, settings, login, outcome.person)


def _use_up(session: DbSession, request_id: str) -> None:
    try:
        take_login(session, provider=PROVIDER, state=request_id)
    except LoginRefusedError:
        return  # unknown, or already used
    session.commit()


# --- login with the PID in the EU wallet (OpenID4VP, the credentials' verifier) ------------------

WALLET_COOKIE = "saldo_wallet_login"
WALLET_PATH = "/login/wallet"
WALLET_PROVIDER = "wallet"


@router.get(WALLET_PATH)
def start_wallet_login(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """A request for the person's PID, bound to this browser by a cookie; its page shows it."""
    pid_login.pid_verifier(settings)  # 404 when no PID provider is trusted here
    secret = secrets.token_urlsafe(32)
    asked = pid_login.start(session, browser_secret=secret, now=utcnow())
    session.commit()
    response = RedirectResponse(f"{WALLET_PATH}/{asked.request_id}", status_code=303)
    response.set_cookie(
        WALLET_COOKIE,
        secret,
        max_age=900,
        path=WALLET_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    return response


@router.get(WALLET_PATH + "/{request_id}/state")
def wallet_login_state(request_id: RequestId, request: Request, session: DbSession) -> JSONResponse:
    """Whether the wallet has answered (the waiting page asks, then goes on)."""
    asked = pid_login.request_of(session, request_id, browser_secret=request.cookies.get(WALLET_COOKIE))
    answered = asked.answered_at is not None
    expired = not answered and utcnow() >= asked.expires_at
    return JSONResponse({"answered": answered, "expired": expired}, headers={"Cache-Control": "no-store"})


@router.get(WALLET_PATH + "/{request_id}", response_class=HTMLResponse)
def wallet_login(request_id: RequestId, request: Request, session: DbSession, settings: AppSettings) -> Response:
    """The request as a QR code and a same-device link until the wallet answers; then the person's
    own pages on a certain match, or why not."""
    verifier = pid_login.pid_verifier(settings)
    asked = pid_login.request_of(session, request_id, browser_secret=request.cookies.get(WALLET_COOKIE))
    if asked.answered_at is None:
        link = verifying.request_url(verifier, asked)
        context: dict[str, object] = {
            "asked": asked,
            "expired": utcnow() >= asked.expires_at,
            "link": link,
            "qr": segno.make(link, error="l").svg_data_uri(scale=4, border=2),
        }
        page = render(request, "crossborder/wallet_login.html", context)
        page.headers["Cache-Control"] = "no-store"
        return page
    outcome = asked.outcome or {}
    pid_login.used_up(session, asked)
    if not outcome.get("valid"):
        session.commit()
        words = WALLET_REASON_WORDS.get(str(outcome.get("reason")), WALLET_REASON_WORDS["malformed"])
        refused = {"reason": words, "detail": str(outcome.get("detail", ""))}
        return render(request, "crossborder/refused.html", refused, status_code=403)
    identity = _pid_identity(outcome["pid"], settings.eidas_country)
    return _open_or_explain(request, session, settings, identity, provider=WALLET_PROVIDER, return_to=HOME)


def _pid_identity(pid: dict[str, str], country: str) -> ForeignIdentity:
    origin = pid["issuing_country"].upper()[:2]
    number = pid["personal_administrative_number"]
    return ForeignIdentity(
        person_identifier=f"{origin}/{country}/{number}"[:256],
        origin=origin,
        national_part=number,
        given_name=pid["given_name"],
        family_name=pid["family_name"],
        birth_date=dt.date.fromisoformat(pid["birthdate"]),
        loa="high",  # a PID is issued at level high (eIDAS 2, art. 5a)
        assertion_id="",
    )


@router.get(METADATA_PATH)
def metadata(settings: AppSettings) -> Response:
    """Saldo's SAML service provider metadata, for the eIDAS-Connector's operator."""
    return Response(sp_metadata(connector_from_settings(settings)), media_type="application/samlmetadata+xml")


# --- the person's eIDs of other countries: seen, removed, linked at a service office -------------

LINKS_PATH = "/me/foreign-eids"
REFERENCE = re.compile(r"[0-9]{1,18}")  # a login's id as the page showed it (within PostgreSQL's bigint)
LinkId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DOCUMENT_WORDS = {
    "passport": N_("Passport"),
    "identity_card": N_("National identity card"),
    "residence_permit": N_("Residence permit"),
}
# why a caseworker could not link (saldo.crossborder.errors.LinkNotAllowedError.reason)
OFFICE_WORDS = {
    "no_document": N_("Say which identity document you saw, and its number."),
    "no_login": N_("No login with an eID of another country has this reference in the last 30 days."),
    "matched": N_("This login already opened a person's pages: there is nothing to link."),
    "other_birth_date": N_("The eID of this login gives another birth date than this person's."),
    "already_linked": N_("This eID already opens this person's pages."),
    "linked_to_another": N_("This eID is linked to another person here. That link must be removed first."),
}


def _links_page(
    request: Request,
    session: DbSession,
    principal: SessionPrincipal,
    *,
    error: str | None = None,
    detail: str | None = None,
    form: dict[str, str] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    context = {
        "links": linking.links_of(session, *principal.subject_key()),
        "country_names": Locale.parse(i18n.choose_language(request)).territories,
        "document_words": DOCUMENT_WORDS,
        "error": error,
        "detail": detail,
        "form": form or {},
        "done": done,
    }
    return render(request, "crossborder/links.html", context, principal=principal, status_code=422 if error else 200)


@router.get(LINKS_PATH, response_class=HTMLResponse)
def my_foreign_eids(
    request: Request, session: DbSession, principal: CurrentCitizen, done: Annotated[str, Query(max_length=10)] = ""
) -> HTMLResponse:
    """The eIDs of other countries that open the person's pages, and the letters with a code on their
    way; each can be removed. A caseworker serving the person can link one here."""
    log_assisted_read(session, principal, action="read_foreign_eids", details={})
    session.commit()
    return _links_page(request, session, principal, done=done if done in ("linked", "removed") else None)


@router.post(LINKS_PATH + "/{link_id}/remove")
def remove_foreign_eid(
    link_id: LinkId,
    session: DbSession,
    principal: CurrentCitizen,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The eID opens nothing from now on (or the letter's code stops working)."""
    check_csrf(principal, csrf)
    scheme, person_id = principal.subject_key()
    linking.remove_link(
        session, link_id, person_scheme=scheme, person_id=person_id, by=principal.acted_by, now=utcnow()
    )
    log_assisted_read(session, principal, action="remove_foreign_eid", details={"link": link_id})
    session.commit()
    return RedirectResponse(LINKS_PATH + "?done=removed", status_code=303)


@router.post(LINKS_PATH + "/link", response_class=HTMLResponse)
def link_foreign_eid(
    request: Request,
    session: DbSession,
    principal: CurrentCitizen,
    reference: Annotated[str, Form(max_length=20)] = "",
    document_kind: Annotated[str, Form(max_length=20)] = "",
    document_number: Annotated[str, Form(max_length=40)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """At a service office: the caseworker serving the person links the eID of the login whose
    reference the person gives, having seen the person's identity document."""
    check_csrf(principal, csrf)
    if not principal.assisted or Role.CASEWORKER not in principal.roles:
        raise ForbiddenError("only a caseworker serving the person at a service office links an eID here")
    scheme, person_id = principal.subject_key()
    form = {"reference": reference, "document_kind": document_kind, "document_number": document_number}
    try:
        link = linking.link_at_office(
            session,
            person_scheme=scheme,
            person_id=person_id,
            reference=int(reference) if REFERENCE.fullmatch(reference.strip()) else 0,  # 0: no such login
            document_kind=document_kind,
            document_number=document_number,
            caseworker=principal.acted_by,
            now=utcnow(),
        )
        log_assisted_read(
            session, principal, action="link_foreign_eid", details={"eid_country": link.origin, "login": link.login_id}
        )
        session.commit()
    except LinkNotAllowedError as refused:
        session.rollback()
        words = OFFICE_WORDS[refused.reason]
        return _links_page(request, session, principal, error=words, detail=str(refused), form=form)
    except IntegrityError:  # linked at the same moment by another form or a letter's code
        session.rollback()
        words = OFFICE_WORDS["linked_to_another"]
        return _links_page(request, session, principal, error=words, form=form)
    return RedirectResponse(LINKS_PATH + "?done=linked", status_code=303)
