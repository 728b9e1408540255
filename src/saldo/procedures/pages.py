"""The pages of the online procedures: the person applies for a PDA1 or an EHIC, follows it,
withdraws it and reads the decision (also as a letter); staff with the issuer role work the queue and
decide with the facts in front of them. Every page works without JavaScript; a form sent twice makes
one application."""

from __future__ import annotations

from typing import Annotated, Any

from babel import Locale
from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParameter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from saldo.credentials import service as credentials
from saldo.credentials.errors import CredentialError
from saldo.credentials.pages import STATUS_CONFIRMATION_WORDS
from saldo.eessi import service as eessi
from saldo.eessi.errors import ExchangeError, ExchangeNotConfiguredError
from saldo.eessi.service.seds import COUNTRIES
from saldo.http import i18n
from saldo.http.deps import DbSession
from saldo.http.rendering import render
from saldo.identity.http import CurrentCitizen, CurrentStaffSession, check_csrf
from saldo.identity.schemas import SessionPrincipal
from saldo.identity.service import log_assisted_read
from saldo.kit import crash_points
from saldo.kit.clock import today, utcnow
from saldo.procedures import service
from saldo.procedures.errors import ProcedureError, ProcedureNotDecidedError
from saldo.procedures.models import Application, ApplicationKind, ApplicationState, RefusalGround
from saldo.procedures.schemas import Grant, Refusal
from saldo.procedures.service.letter import decision_letter
from saldo.settings import Settings
from saldo.staff.models import Role
from saldo.staff.service import require_role

router = APIRouter(include_in_schema=False)
Reference = Annotated[str, PathParameter(max_length=16, pattern=r"^A-[A-Z0-9]{10}$")]
PLACES = 3  # places of work the form offers (the API takes up to five)


def N_(message: str) -> str:  # noqa: N802 — gettext's marker: the page translates the text when shown
    return message


KIND_WORDS = {
    "pda1": N_("PDA1: which country's social security covers you"),
    "ehic": N_("European Health Insurance Card"),
}
STATE_WORDS = {
    "submitted": N_("Waiting for a decision"),
    "granted": N_("Granted"),
    "refused": N_("Refused"),
    "withdrawn": N_("Withdrawn"),
}
SITUATION_WORDS = {
    "01": N_("I am employed and my employer sends me to work in another country for a limited time"),
    "02": N_("I am employed and normally work in two or more countries"),
    "03": N_("I am self-employed and go to work in another country for a limited time"),
    "04": N_("I am self-employed and normally work in two or more countries"),
}
REASON_WORDS = {
    "first": N_("My first card"),
    "expired": N_("My card has expired or soon will"),
    "lost": N_("My card was lost or stolen"),
}
GROUND_WORDS = {
    "not_insured": N_("You are not insured in this country for the period applied for."),
    "not_competent": N_("Another country's social security covers you, or another institution decides."),
    "incomplete": N_("What is needed to decide was missing and was not sent when asked for."),
    "other": N_("For the reason the caseworker gives below."),
}
# what is wrong with an application, in words the person reads in their language
# (saldo.procedures.errors.InvalidApplicationError.code), and the fields it can be about
ERROR_WORDS = {
    "missing": N_("Fill in: %(field)s."),
    "not_a_date": N_("Give a date: %(field)s."),
    "not_a_choice": N_("Choose one of the options: %(field)s."),
    "invalid": N_("Check what you wrote: %(field)s."),
    "ends_before_start": N_("The period ends before it starts."),
    "too_long": N_("A PDA1 covers at most five years."),
    "posting_too_long": N_("A posting lasts at most 24 months. For longer, apply as working in two or more countries."),
    "not_coordination_state": N_("The place of work must be in the EU, the EEA, Switzerland or the United Kingdom."),
    "period_ended": N_("The period has ended: apply for a period that has not."),
    "too_early": N_("A card is applied for from today, or at most a month back."),
    "no_form_key": N_("The form has expired: open it again."),
    "already_waiting": N_(
        "You have an application of the same kind waiting for a decision: withdraw it to apply anew."
    ),
}
FIELD_WORDS = {
    "situation": N_("Your work"),
    "employer": N_("Your employer (or your own business)"),
    "work_places": N_("Where you will work"),
    "starting_date": N_("From"),
    "ending_date": N_("Until"),
    "family_name": N_("Family name"),
    "given_names": N_("Given names"),
    "note": N_("Anything the caseworker should know (optional)"),
    "reason": N_("Why you apply"),
}


def form_error(problem: ProcedureError, language: str) -> str:
    """What is wrong, in the person's language: the reason, and the part of the form it is in."""
    gettext = i18n.translations(language).gettext
    code = getattr(problem, "code", "invalid")
    field = str(getattr(problem, "field", "")).split(".")[0]
    words = ERROR_WORDS.get(code, ERROR_WORDS["invalid"])
    named = gettext(FIELD_WORDS[field]) if field in FIELD_WORDS else field
    return gettext(words) % {"field": named} if "%(field)s" in words else gettext(words)


EESSI_NAMES = {"EL": "GR", "UK": "GB"}  # EESSI's codes for Greece and the United Kingdom; Babel's names


def countries(language: str) -> list[tuple[str, str]]:
    """The EU/EEA countries and Switzerland and the UK, by their name in the page's language."""
    names = Locale.parse(language).territories
    return sorted(((code, names.get(EESSI_NAMES.get(code, code), code)) for code in COUNTRIES), key=lambda c: c[1])


def _words() -> dict[str, Any]:
    return {
        "kind_words": KIND_WORDS,
        "state_words": STATE_WORDS,
        "situation_words": SITUATION_WORDS,
        "reason_words": REASON_WORDS,
        "ground_words": GROUND_WORDS,
        "confirmations": STATUS_CONFIRMATION_WORDS,
    }


# ---- the person's pages ----------------------------------------------------------------------------


@router.get("/me/applications", response_class=HTMLResponse)
def my_applications(request: Request, session: DbSession, principal: CurrentCitizen) -> HTMLResponse:
    """The person's applications, newest first, and the ways to apply."""
    found = service.applications_of(session, *principal.subject_key())
    log_assisted_read(session, principal, action="read_applications", details={})
    session.commit()
    return render(request, "procedures/mine.html", {"applications": found, **_words()}, principal=principal)


def _split_name(name: str) -> tuple[str, str]:
    given, _, family = name.strip().rpartition(" ")
    return (family, given) if given else (name.strip(), "")


def _form_page(
    request: Request,
    principal: SessionPrincipal,
    kind: ApplicationKind,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    detail: str | None = None,
) -> HTMLResponse:
    family, given = _split_name(principal.name if not principal.assisted else "")
    shown = {"family_name": family, "given_names": given, "starting_date": today().isoformat(), **(values or {})}
    context = {
        "kind": kind.value,
        "values": shown,
        "form_key": (values or {}).get("form_key") or service.new_form_key(),
        "error": error,
        "detail": detail,
        "countries": countries(i18n.choose_language(request)),
        "places": PLACES,
        **_words(),
    }
    return render(request, "procedures/apply.html", context, principal=principal, status_code=422 if error else 200)


@router.get("/me/applications/new/{kind}", response_class=HTMLResponse)
def application_form(kind: ApplicationKind, request: Request, principal: CurrentCitizen) -> HTMLResponse:
    return _form_page(request, principal, kind)


def details_from_form(kind: ApplicationKind, fields: dict[str, str]) -> dict[str, Any]:
    """The application's details as the schema takes them, from the form's flat fields."""

    def given(name: str) -> str | None:
        return fields.get(name, "").strip() or None

    if kind is ApplicationKind.EHIC:
        return {"reason": given("reason"), "starting_date": given("starting_date"), "note": given("note")}
    places = []
    for n in range(1, PLACES + 1):
        place = {
            "street_address": given(f"place_{n}_street"),
            "postal_code": given(f"place_{n}_postal"),
            "locality": given(f"place_{n}_locality"),
            "country": given(f"place_{n}_country"),
        }
        if n == 1 or any(place.values()):
            places.append({k: v for k, v in place.items() if v is not None or k in ("locality", "country")})
    return {
        "situation": given("situation"),
        "employer": {"id": given("employer_id"), "name": given("employer_name"), "country": given("employer_country")},
        "work_places": places,
        "starting_date": given("starting_date"),
        "ending_date": given("ending_date"),
        "family_name": given("family_name"),
        "given_names": given("given_names"),
        "note": given("note"),
    }


@router.post("/me/applications/new/{kind}", response_class=HTMLResponse)
async def apply(kind: ApplicationKind, request: Request, session: DbSession, principal: CurrentCitizen) -> Response:
    """Send the application: written whole or not at all; the same form sent again lands on the
    application it made."""
    form = await request.form()
    fields = {k: str(v)[:2000] for k, v in form.items() if isinstance(v, str)}
    check_csrf(principal, fields.get("csrf"))
    scheme, person_id = principal.subject_key()
    try:
        application = service.submit(
            session,
            kind=kind,
            person_scheme=scheme,
            person_id=person_id,
            details={k: v for k, v in details_from_form(kind, fields).items() if v is not None},
            language=i18n.choose_language(request),
            form_key=fields.get("form_key", ""),
            by=principal.acted_by,
        )
    except ProcedureError as problem:
        session.rollback()
        said = form_error(problem, i18n.choose_language(request))
        return _form_page(request, principal, kind, values=fields, error=said, detail=str(problem))
    log_assisted_read(session, principal, action="apply", details={"application": application.reference})
    crash_points.reach("procedures.before_commit_application")
    session.commit()
    return RedirectResponse(f"/me/applications/{application.reference}?sent=1", status_code=303)


@router.get("/me/applications/{reference}", response_class=HTMLResponse)
def my_application(
    reference: Reference, request: Request, session: DbSession, principal: CurrentCitizen, sent: bool = False
) -> HTMLResponse:
    """The application, its status and, once decided, the decision and what it issued."""
    application = service.own_application(session, reference, *principal.subject_key())
    log_assisted_read(session, principal, action="read_application", details={"application": reference})
    session.commit()
    context = {
        "application": application,
        "credential": service.credential_of(session, application),
        "case": service.case_of(session, application),
        "sent": sent,
        "once_only": request.app.state.settings.onceonly_party is not None,
        "country_names": dict(countries(i18n.choose_language(request))),
        **_words(),
    }
    return render(request, "procedures/application.html", context, principal=principal)


@router.post("/me/applications/{reference}/withdraw")
def withdraw(
    reference: Reference,
    session: DbSession,
    principal: CurrentCitizen,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(principal, csrf)
    application = service.own_application(session, reference, *principal.subject_key())
    service.withdraw(session, application, now=utcnow())
    log_assisted_read(session, principal, action="withdraw_application", details={"application": reference})
    session.commit()
    return RedirectResponse(f"/me/applications/{reference}", status_code=303)


def letter(request: Request, settings: Settings, application: Application, credential: Any, language: str) -> Response:
    """The decision letter in ``language``."""
    gettext = i18n.translations(language).gettext

    def date(value: Any) -> str:
        return i18n.date(value, language, "medium")

    details = application.details
    lines = {
        gettext("Reference"): application.reference,
        gettext("Applied for"): gettext(KIND_WORDS[application.kind.value]),
    }
    lines[gettext("Applied on")] = date(application.submitted_at.date())
    if application.state is ApplicationState.GRANTED and credential is not None:
        lines[gettext("Document number")] = credential.document_number
        lines[gettext("Valid")] = f"{date(credential.valid_from)} - {date(credential.valid_until)}"
        if application.kind is ApplicationKind.PDA1:
            lines[gettext("Legislation applies of")] = credential.claims.get("legislation_country", "")
            lines[gettext("Employer")] = details["employer"]["name"]
        decision = gettext("Your application is granted.")
    else:
        decision = gettext("Your application is refused.")
        if application.refusal_ground:
            decision += " " + gettext(GROUND_WORDS[application.refusal_ground.value])
    document = decision_letter(
        application,
        authority=settings.authority_name,
        title=gettext("Decision on your application"),
        lines=lines,
        decision=decision,
        explanation=application.explanation,
        gettext=gettext,
        date=date,
        language=language,
    )
    return Response(
        document,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="decision-{application.reference}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/me/applications/{reference}/decision.pdf")
def my_decision_letter(
    reference: Reference,
    request: Request,
    session: DbSession,
    principal: CurrentCitizen,
    lang: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    """The decision as a letter, in the language the person applied in (or ``?lang=``)."""
    application = service.own_application(session, reference, *principal.subject_key())
    if application.state not in (ApplicationState.GRANTED, ApplicationState.REFUSED):
        raise ProcedureNotDecidedError(f"application {reference} is not decided yet")
    log_assisted_read(session, principal, action="read_application", details={"application": reference})
    session.commit()
    language = lang if lang in i18n.LANGUAGES else application.language
    return letter(
        request, request.app.state.settings, application, service.credential_of(session, application), language
    )


# ---- staff ------------------------------------------------------------------------------------------


def _issuer(principal: SessionPrincipal) -> str:
    staff = principal.as_staff()
    require_role(staff, Role.ISSUER)
    return staff.username


@router.get("/staff/applications", response_class=HTMLResponse)
def queue(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    state: ApplicationState = ApplicationState.SUBMITTED,
) -> HTMLResponse:
    """Waiting applications, oldest first (or the latest of another state)."""
    _issuer(principal)
    context = {"applications": service.listed(session, state), "state": state.value, "today": today(), **_words()}
    return render(request, "procedures/queue.html", context, principal=principal)


def _node(settings: Settings) -> eessi.Node | None:
    try:
        return eessi.node_from_settings(settings)
    except ExchangeNotConfiguredError:
        return None


def _staff_page(
    request: Request,
    session: DbSession,
    principal: SessionPrincipal,
    application: Application,
    *,
    error: str | None = None,
) -> HTMLResponse:
    service.log_read(session, application, actor=principal.as_staff().username, channel="web")
    facts = service.facts(session, application)
    for credential in facts["credentials"]:
        credentials.log_read(session, credential, actor=principal.as_staff().username, role="issuer", channel="web")
    session.commit()
    node = _node(request.app.state.settings)
    partners = []
    if node is not None and application.kind is ApplicationKind.PDA1:
        partners = [
            p
            for p in eessi.partners_for(node, "LA_BUC_04")
            if p.country in {w["country"] for w in application.details["work_places"]}
        ]
    context = {
        "application": application,
        "facts": facts,
        "credential": service.credential_of(session, application),
        "case": service.case_of(session, application),
        "defaults": service.default_grant(application) if application.state is ApplicationState.SUBMITTED else {},
        "partners": partners,
        "home": node.institution[:2] if node else "SE",
        "grounds": [g.value for g in RefusalGround],
        "error": error,
        "once_only": request.app.state.settings.onceonly_party is not None,
        **_words(),
    }
    return render(request, "procedures/decide.html", context, principal=principal, status_code=422 if error else 200)


@router.get("/staff/applications/{reference}", response_class=HTMLResponse)
def application_page(
    reference: Reference, request: Request, session: DbSession, principal: CurrentStaffSession
) -> HTMLResponse:
    """The application with what is known of the person, and the forms to decide (each read logged)."""
    _issuer(principal)
    return _staff_page(request, session, principal, service.get_application(session, reference))


@router.post("/staff/applications/{reference}/{outcome}", response_class=HTMLResponse)
async def decide(
    reference: Reference,
    outcome: Annotated[str, PathParameter(pattern="^(grant|refuse)$")],
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
) -> Response:
    """Grant (the credential is issued, and a posting notified when asked) or refuse with the reason."""
    form = await request.form()
    fields = {k: str(v)[:2000] for k, v in form.items() if isinstance(v, str) and str(v).strip()}
    check_csrf(principal, fields.pop("csrf", None))
    by = _issuer(principal)
    settings: Settings = request.app.state.settings
    application = service.get_application(session, reference)
    try:
        if outcome == "grant":
            decision = Grant.model_validate(fields)
            service.grant(
                session, credentials.issuer_from_settings(settings), application, decision,
                node=_node(settings), by=by, now=utcnow(),
            )  # fmt: skip
        else:
            service.refuse(session, application, Refusal.model_validate(fields), by=by, now=utcnow())
    except ValidationError as error:
        session.rollback()
        return _staff_page(request, session, principal, application, error=str(service.first_error(error)))
    except (ProcedureError, CredentialError, ExchangeError) as problem:
        session.rollback()
        return _staff_page(request, session, principal, application, error=str(problem))
    session.commit()
    return RedirectResponse(f"/staff/applications/{reference}", status_code=303)
