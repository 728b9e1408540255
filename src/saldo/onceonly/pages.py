"""The person's pages of the once-only exchange (docs/once-only.md).

Where Saldo asks (requester): on an application, the person chooses evidence to fetch from an
authority abroad instead of uploading it, goes to that authority's preview, comes back, and finds
the evidence attached with where it came from.

The caseworker deciding the application reads the evidence beside it (each read logged).

Where Saldo provides: the person, sent here by a procedure abroad, logs in, sees the statement of
their public payments that would be sent, who asks for it and why, and approves or refuses; then
goes back to the procedure. Nothing is sent without the approval, and nothing of another person's is
shown at a preview address."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from babel import Locale
from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParameter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from saldo.citizens.service import person_overview
from saldo.citizens.service.statement import statement_pdf
from saldo.eessi.service.seds import COUNTRIES
from saldo.http import i18n
from saldo.http.deps import DbSession
from saldo.http.rendering import render
from saldo.identity.http import CurrentCitizen, CurrentStaffSession, check_csrf
from saldo.identity.schemas import SessionPrincipal
from saldo.identity.service import log_assisted_read
from saldo.kit.clock import utcnow
from saldo.onceonly import service
from saldo.onceonly.api import deliver_soon
from saldo.onceonly.models import EvidenceExchange, ExchangeState
from saldo.procedures import service as procedures
from saldo.procedures.models import Application, ApplicationKind, ApplicationState
from saldo.settings import Settings
from saldo.staff.models import Role
from saldo.staff.service import require_role

router = APIRouter(include_in_schema=False)
Reference = Annotated[str, PathParameter(max_length=16, pattern=r"^A-[A-Z0-9]{10}$")]
Token = Annotated[str, PathParameter(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ReturnUrl = Annotated[str | None, Query(max_length=2000)]
PROCEDURES = {ApplicationKind.PDA1: "U1", ApplicationKind.EHIC: "U3"}  # the SDG Annex II codes


def N_(message: str) -> str:  # noqa: N802 — gettext's marker: the page translates the text when shown
    return message


STATE_WORDS = {
    ExchangeState.REQUESTED.value: N_("Asked; waiting for the authority's answer"),
    ExchangeState.PREVIEW.value: N_("Waiting for you to see the evidence and approve it"),
    ExchangeState.APPROVED.value: N_("You approved it; it goes when the authority asks again"),
    ExchangeState.REFUSED.value: N_("You refused; nothing was sent"),
    ExchangeState.DELIVERED.value: N_("Delivered"),
    ExchangeState.FAILED.value: N_("The authority could not provide it"),
    ExchangeState.EXPIRED.value: N_("Expired"),
    ExchangeState.WITHDRAWN.value: N_("Withdrawn"),
}
PROCEDURE_WORDS = {
    "U1": N_("Determination of the legislation that applies to you (PDA1)"),
    "U3": N_("Application for a European Health Insurance Card"),
}
STATEMENT_TITLE = N_("Statement of public payments")


def _words() -> dict[str, Any]:
    return {"state_words": STATE_WORDS, "procedure_words": PROCEDURE_WORDS}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _countries(language: str) -> dict[str, str]:
    names = Locale.parse(language).territories
    return {code: names.get(code, code) for code in COUNTRIES}


def _applicant(principal: SessionPrincipal, application: Application) -> service.Applicant:
    family = str(application.details.get("family_name") or "")
    given = str(application.details.get("given_names") or "")
    if not family:
        given, _, family = principal.name.strip().rpartition(" ")
        given, family = (given, family) if given else (family, family)
    return service.Applicant(
        scheme=application.person_scheme, person_id=application.person_id, given_name=given, family_name=family
    )


# ---- where Saldo asks -----------------------------------------------------------------------------


@router.get("/me/applications/{reference}/evidence", response_class=HTMLResponse)
def application_evidence(
    reference: Reference, request: Request, session: DbSession, principal: CurrentCitizen
) -> HTMLResponse:
    """The evidence of an application fetched from abroad, and what more may be fetched."""
    application = procedures.own_application(session, reference, *principal.subject_key())
    gateway = service.gateway_from_settings(_settings(request))
    log_assisted_read(session, principal, action="read_evidence", details={"application": reference})
    session.commit()
    language = i18n.choose_language(request)
    context = {
        "application": application,
        "exchanges": service.of_application(session, application.id),
        "choices": service.evidence_choices(gateway, PROCEDURES[application.kind])
        if application.state is ApplicationState.SUBMITTED
        else [],
        "country_names": _countries(language),
        **_words(),
    }
    return render(request, "onceonly/application.html", context, principal=principal)


@router.post("/me/applications/{reference}/evidence")
def fetch_evidence(
    reference: Reference,
    request: Request,
    session: DbSession,
    principal: CurrentCitizen,
    choice: Annotated[str, Form(max_length=80, pattern=r"^[0-9a-f-]{36}:[A-Z]{2}$")],
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Ask the authority abroad for the evidence chosen (``<evidence type>:<country>``)."""
    check_csrf(principal, csrf)
    application = procedures.own_application(session, reference, *principal.subject_key())
    if application.state is not ApplicationState.SUBMITTED:
        return RedirectResponse(f"/me/applications/{reference}/evidence", status_code=303)
    gateway = service.gateway_from_settings(_settings(request))
    evidence_type, country = choice.split(":")
    exchange = service.ask(
        session,
        gateway,
        applicant=_applicant(principal, application),
        evidence_type=evidence_type,
        country=country,
        procedure=PROCEDURES[application.kind],
        application_pk=application.id,
        language=i18n.choose_language(request),
        now=utcnow(),
    )
    log_assisted_read(session, principal, action="fetch_evidence", details={"application": reference})
    deliver_soon(session)
    session.commit()
    return RedirectResponse(f"/me/evidence/{exchange.id}", status_code=303)


@router.get("/me/evidence/{exchange_id}", response_class=HTMLResponse)
def my_exchange(exchange_id: int, request: Request, session: DbSession, principal: CurrentCitizen) -> HTMLResponse:
    """Where the request stands, and what the person can do next."""
    exchange = service.owned(session, exchange_id, *principal.subject_key())
    return_url = f"{_settings(request).base_url}/me/evidence/{exchange.id}/returned"
    context = {
        "exchange": exchange,
        "preview": service.preview_address(exchange, return_url) if exchange.state is ExchangeState.PREVIEW else None,
        "country_names": _countries(i18n.choose_language(request)),
        **_words(),
    }
    page = render(request, "onceonly/exchange.html", context, principal=principal)
    page.headers["Cache-Control"] = "no-store"
    return page


@router.get("/me/evidence/{exchange_id}/returned")
def returned(exchange_id: int, request: Request, session: DbSession, principal: CurrentCitizen) -> Response:
    """Back from the preview abroad: ask again, so the evidence comes if the person approved it."""
    exchange = service.owned(session, exchange_id, *principal.subject_key())
    if service.returned(session, service.gateway_from_settings(_settings(request)), exchange, now=utcnow()):
        deliver_soon(session)
    session.commit()
    return RedirectResponse(f"/me/evidence/{exchange.id}", status_code=303)


@router.get("/me/evidence/{exchange_id}/document")
def evidence_document(exchange_id: int, session: DbSession, principal: CurrentCitizen) -> Response:
    """The evidence as it arrived from the authority abroad."""
    exchange = service.owned(session, exchange_id, *principal.subject_key())
    if exchange.evidence is None:
        return Response("no evidence has arrived", status_code=404, media_type="text/plain")
    log_assisted_read(session, principal, action="read_evidence", details={"exchange": exchange.id})
    session.commit()
    filename = f"evidence-{exchange.id}.{'pdf' if exchange.evidence_format == 'application/pdf' else 'bin'}"
    return Response(
        exchange.evidence,
        media_type=exchange.evidence_format or "application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/me/evidence/{exchange_id}/withdraw")
def withdraw(
    exchange_id: int, session: DbSession, principal: CurrentCitizen, csrf: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    check_csrf(principal, csrf)
    exchange = service.owned(session, exchange_id, *principal.subject_key())
    service.withdraw(exchange, now=utcnow())
    log_assisted_read(session, principal, action="withdraw_evidence", details={"exchange": exchange.id})
    session.commit()
    return RedirectResponse(f"/me/evidence/{exchange.id}", status_code=303)


# ---- where Saldo provides -------------------------------------------------------------------------


def _statement(session: Session, exchange: EvidenceExchange, language: str, authority: str) -> bytes:
    scheme, person_id = exchange.person_scheme or "", exchange.person_id or ""
    overview = person_overview(session, scheme, person_id, year=exchange.created_at.year)
    translations = i18n.translations(language)
    return statement_pdf(
        overview,
        authority=authority,
        gettext=translations.gettext,
        money=lambda minor, currency: i18n.money(minor, currency, language),
        date=lambda value: i18n.date(value, language, "short"),
        language=language,
        benefit_name=lambda sv, en: sv if language == "sv" else en,
    )


def statement_evidence(authority: str) -> service.Evidence:
    """What Saldo provides: the statement of the person's public payments of the year the request
    came in, in the language the requester wished when Saldo has it (else English)."""

    def evidence(session: Session, exchange: EvidenceExchange) -> tuple[bytes, str]:
        language = exchange.language if exchange.language in i18n.LANGUAGES else "en"
        title = f"{i18n.translations(language).gettext(STATEMENT_TITLE)} {exchange.created_at.year}.pdf"
        return _statement(session, exchange, language, authority), title

    return evidence


@router.get("/me/evidence/preview/{token}", response_class=HTMLResponse)
def preview(
    token: Token, request: Request, session: DbSession, principal: CurrentCitizen, returnurl: ReturnUrl = None
) -> HTMLResponse:
    """The evidence an authority abroad asks for, shown to the person it is about, to approve or refuse."""
    exchange = service.preview(session, token, *principal.subject_key())
    gateway = service.gateway_from_settings(_settings(request))
    language = i18n.choose_language(request)
    overview = person_overview(
        session, exchange.person_scheme or "", exchange.person_id or "", year=exchange.created_at.year
    )
    log_assisted_read(session, principal, action="preview_evidence", details={"exchange": exchange.id})
    session.commit()
    context = {
        "exchange": exchange,
        "overview": overview,
        "token": token,
        "returnurl": service.safe_return(gateway, exchange, returnurl),
        "waiting": exchange.state is ExchangeState.PREVIEW and utcnow() <= exchange.expires_at,
        "country_names": _countries(language),
        **_words(),
    }
    page = render(request, "onceonly/preview.html", context, principal=principal)
    page.headers["Cache-Control"] = "no-store"
    return page


@router.get("/me/evidence/preview/{token}/statement.pdf")
def preview_statement(token: Token, request: Request, session: DbSession, principal: CurrentCitizen) -> Response:
    """The evidence itself, as it would be sent."""
    exchange = service.preview(session, token, *principal.subject_key())
    language = i18n.choose_language(request)
    pdf = _statement(session, exchange, language, _settings(request).authority_name)
    log_assisted_read(session, principal, action="preview_evidence", details={"exchange": exchange.id})
    session.commit()
    return Response(pdf, media_type="application/pdf", headers={"Cache-Control": "no-store"})


@router.post("/me/evidence/preview/{token}")
def decide(
    token: Token,
    request: Request,
    session: DbSession,
    principal: CurrentCitizen,
    decision: Annotated[str, Form(pattern=r"^(approve|refuse)$")],
    csrf: Annotated[str, Form(max_length=64)] = "",
    returnurl: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    """The person's decision, shown on the preview page with the way back to the procedure abroad
    (a link: the pages' Content-Security-Policy lets a form lead only to Saldo itself)."""
    check_csrf(principal, csrf)
    if principal.assisted:  # the consent is the person's own: a caseworker cannot give it for them
        return Response("only the person can approve sending their evidence", status_code=403, media_type="text/plain")
    exchange = service.preview(session, token, *principal.subject_key())
    gateway = service.gateway_from_settings(_settings(request))
    service.decide(exchange, approve=decision == "approve", now=utcnow())
    session.commit()
    back = service.safe_return(gateway, exchange, returnurl)
    query = f"?returnurl={quote(back, safe='')}" if back else ""
    return RedirectResponse(f"/me/evidence/preview/{token}{query}", status_code=303)


# ---- the caseworker who decides the application -----------------------------------------------


@router.get("/staff/applications/{reference}/evidence", response_class=HTMLResponse)
def staff_evidence(
    reference: Reference, request: Request, session: DbSession, principal: CurrentStaffSession
) -> HTMLResponse:
    """The evidence fetched from abroad for an application, for the issuer deciding it (read logged)."""
    staff = principal.as_staff()
    require_role(staff, Role.ISSUER)
    application = procedures.get_application(session, reference)
    procedures.log_read(session, application, actor=staff.username, channel="web")
    session.commit()
    context = {
        "application": application,
        "exchanges": service.of_application(session, application.id),
        "country_names": _countries(i18n.choose_language(request)),
        **_words(),
    }
    return render(request, "onceonly/staff.html", context, principal=principal)


@router.get("/staff/applications/{reference}/evidence/{exchange_id}/document")
def staff_evidence_document(
    reference: Reference, exchange_id: int, session: DbSession, principal: CurrentStaffSession
) -> Response:
    """One evidence as it arrived, for the issuer deciding the application (the read is logged)."""
    staff = principal.as_staff()
    require_role(staff, Role.ISSUER)
    application = procedures.get_application(session, reference)
    exchange = next((e for e in service.of_application(session, application.id) if e.id == exchange_id), None)
    if exchange is None or exchange.evidence is None:
        return Response("no such evidence for this application", status_code=404, media_type="text/plain")
    service.log_evidence_read(session, exchange, actor=staff.username)
    session.commit()
    return Response(
        exchange.evidence,
        media_type=exchange.evidence_format or "application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="evidence-{exchange.id}.pdf"'},
    )
