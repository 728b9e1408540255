"""The auditor's workbench: the dashboard of the latest analysis run and the fairness report, as
charts with the same figures in tables beside them; and the case page, where the case's persons,
findings, payments, history, information requests and notifications meet, and an auditor works
it: takes it (a supervisor assigns it), sets its deadline, adds notes, asks a payer for information,
notifies the payers and closes it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from saldo.accesslog.service.purposes import PURPOSES, AccessKind, PurposeError, chosen, published
from saldo.analysis.service.catalogue import load_catalogue
from saldo.analysis.service.run import AnalysisError
from saldo.cases.errors import CaseNotFoundError, CaseStateError, PurposeRequiredError
from saldo.cases.models import CaseStatus
from saldo.cases.service import add_note, assign_case, assignable_staff, read_case, set_deadline, set_status
from saldo.eessi import service as eessi
from saldo.eessi.errors import ExchangeError
from saldo.eessi.service.directory import Institution
from saldo.eessi.service.seds import BENEFIT_TYPES
from saldo.http.charts import Bar, bar_chart, interval_chart
from saldo.http.deps import DbSession, PathId
from saldo.http.i18n import choose_language, decimal, money, translations
from saldo.http.rendering import render
from saldo.identity.http import CurrentStaffSession, check_csrf
from saldo.inforequests.errors import RequestError
from saldo.inforequests.service import case_requests, send_request
from saldo.inforequests.service.catalogue import categories
from saldo.kit.clock import today
from saldo.notifications.errors import NothingToNotifyError, OutcomeRejectedError
from saldo.notifications.service import case_notifications, notify_payers
from saldo.oversight.service.abroad import BUC, Question, ask_abroad
from saldo.oversight.service.dashboard import READERS, dashboard
from saldo.oversight.service.fairness import ALL_RULES, DIMENSION_WORDS, GROUP_CODE_WORDS, fairness_report
from saldo.oversight.service.next_steps import case_next_step, waiting_work
from saldo.payers.errors import UnknownPayerError
from saldo.payers.service import describe_payer
from saldo.payments.service.actors import name_actors
from saldo.settings import Settings
from saldo.staff.errors import ForbiddenError
from saldo.staff.models import Role
from saldo.staff.service import require_role

router = APIRouter(include_in_schema=False)
ReadPurpose = Annotated[str, Form(max_length=500)]  # why a case worker without a role on the case reads it


@router.get("/staff/workbench", response_class=HTMLResponse)
def workbench(request: Request, session: DbSession, principal: CurrentStaffSession) -> HTMLResponse:
    """Findings by rule, amounts at risk, outcomes over time and each rule's precision."""
    settings: Settings = request.app.state.settings
    figures = dashboard(session, principal.as_staff(), prior_weight=settings.precision_prior_weight)
    language = choose_language(request)
    _ = translations(language).gettext
    titles = _rule_titles(language)
    charts = {
        "rules": bar_chart(
            [
                Bar(
                    r.title_sv if language == "sv" else r.title_en,
                    (r.selected, r.findings - r.selected),
                    f"{r.findings} · {money(r.at_risk_minor, 'SEK', language)}",
                )
                for r in figures.rules
            ],
            title=_("Findings by rule"),
            description=_("Findings of the latest run per rule, the selected first, with their amount at risk."),
            series=(_("selected"), _("not selected")),
        ),
        "months": bar_chart(
            [Bar(m.month, (m.confirmed, m.no_error), f"{m.confirmed} / {m.no_error}") for m in figures.months],
            title=_("Outcomes by month"),
            description=_("The payers' outcomes in force per month: errors confirmed, then no error found."),
            series=(_("error confirmed"), _("no error")),
        ),
        "precision": interval_chart(
            [(titles.get(p.rule_id, p.rule_id), p.measured, p.low, p.high) for p in figures.precision if p.decided],
            title=_("Precision by rule"),
            description=_("Each rule's measured precision (dot) and its 95 % interval (line)."),
        ),
    }
    waiting = waiting_work(session, principal.as_staff(), today=today())
    context = {"d": figures, "charts": charts, "waiting": waiting}
    return render(request, "staff/workbench.html", context, principal=principal)


@router.get("/staff/fairness", response_class=HTMLResponse)
def fairness(request: Request, session: DbSession, principal: CurrentStaffSession) -> HTMLResponse:
    """Flag rates, case rates and precision by age band, sex and region, with the alerts."""
    require_role(principal.as_staff(), *READERS)
    settings: Settings = request.app.state.settings
    language = choose_language(request)
    _ = translations(language).gettext
    titles = {**_rule_titles(language), ALL_RULES: _("All rules together")}
    try:
        report = fairness_report(
            session,
            run_id=None,
            threshold=settings.fairness_disparity_threshold,
            min_flagged=settings.fairness_min_flagged,
        )
    except AnalysisError:
        return render(request, "staff/fairness.html", {"report": None, "charts": {}}, principal=principal)
    dimensions: dict[str, list[Bar]] = {}
    for group in report.groups:
        if group.flag_ratio is None or group.flagged < settings.fairness_min_flagged:
            continue
        dimensions.setdefault(group.dimension, []).append(
            Bar(
                f"{titles.get(group.rule_id, group.rule_id)} · {_(GROUP_CODE_WORDS.get(group.group, group.group))}",
                (group.flag_ratio,),
                _("%(ratio)s times as often") % {"ratio": decimal(group.flag_ratio, language, 2)},
            )
        )
    charts = {
        name: bar_chart(
            bars,
            title=_("How often each group is flagged, by %(dimension)s")
            % {"dimension": _(DIMENSION_WORDS.get(name, name))},
            description=_(
                "How many times as often as everyone each group is flagged by a rule: 1.00 is as often, "
                "2.00 twice as often."
            ),
        )
        for name, bars in dimensions.items()
    }
    return render(request, "staff/fairness.html", {"report": report, "charts": charts}, principal=principal)


def _rule_titles(language: str) -> dict[str, str]:
    """Each rule's title in the page's language (Swedish, else English), for the charts' labels."""
    return {rule.id: rule.title_sv if language == "sv" else rule.title_en for rule in load_catalogue()}


@router.get("/staff/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    case_id: PathId,
    purpose: Annotated[str, Query(max_length=500)] = "",
    purpose_other: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """One case with the persons it is about: the read is in the access log, per person. Whoever
    has no role on the case first says why they read it (a form of the published purposes)."""
    return _case(request, session, principal, case_id, error=None, status=200, purpose=chosen(purpose, purpose_other))


CASE_ERRORS = (
    CaseStateError,
    CaseNotFoundError,
    ForbiddenError,
    OutcomeRejectedError,
    NothingToNotifyError,
    RequestError,
    UnknownPayerError,
    ExchangeError,
)


def _act(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    case_id: int,
    csrf: str,
    action: Callable[[], object],
    read_purpose: str = "",
) -> Response:
    """Do one piece of case work in its own transaction: kept whole and back to the case page, or
    undone whole and the case page again with the reason. Whoever read the case for a purpose (no
    role on it) comes back to it for the same purpose."""
    check_csrf(principal, csrf)
    try:
        action()
    except CASE_ERRORS as exc:
        session.rollback()
        status = 403 if isinstance(exc, ForbiddenError) else 422
        return _case(request, session, principal, case_id, error=str(exc), status=status, purpose=read_purpose)
    session.commit()
    query = f"?{urlencode({'purpose': read_purpose})}" if read_purpose else ""
    return RedirectResponse(f"/staff/cases/{case_id}{query}", status_code=303)


@router.post("/staff/cases/{case_id}/note", response_class=HTMLResponse)
def case_note(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    case_id: PathId,
    text: Annotated[str, Form(max_length=4000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    read_purpose: ReadPurpose = "",
) -> Response:
    return _act(
        request,
        session,
        principal,
        case_id,
        csrf,
        lambda: add_note(session, principal.as_staff(), case_id, text=text),
        read_purpose,
    )


@router.post("/staff/cases/{case_id}/notify", response_class=HTMLResponse)
def case_notify(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    case_id: PathId,
    summary: Annotated[str, Form(max_length=4000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    read_purpose: ReadPurpose = "",
) -> Response:
    """Notify every payer whose payments the case is about, each of its own payments only."""

    def notify() -> object:
        return notify_payers(session, principal.as_staff(), case_id, summary=summary, channel="web")

    return _act(request, session, principal, case_id, csrf, notify, read_purpose)


@router.post("/staff/cases/{case_id}/assign", response_class=HTMLResponse)
def case_assign(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    case_id: PathId,
    to: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    read_purpose: ReadPurpose = "",
) -> Response:
    """An auditor takes the case; a supervisor assigns it to any auditor or supervisor."""
    staff = principal.as_staff()
    return _act(
        request,
        session,
        principal,
        case_id,
        csrf,
        lambda: assign_case(session, staff, case_id, to=to or staff.username),
        read_purpose,
    )


@router.post("/staff/cases/{case_id}/deadline", response_class=HTMLResponse)
def case_deadline(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    case_id: PathId,
    deadline: Annotated[str, Form(max_length=10)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    read_purpose: ReadPurpose = "",
) -> Response:
    def change() -> object:
        return set_deadline(session, principal.as_staff(), case_id, deadline=_date("deadline", deadline))

    return _act(request, session, principal, case_id, csrf, change, read_purpose)


@router.post("/staff/cases/{case_id}/close", response_class=HTMLResponse)
def case_close(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    case_id: PathId,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    read_purpose: ReadPurpose = "",
) -> Response:
    """Close the case with the reason; a closed case stays closed."""

    def close() -> object:
        return set_status(session, principal.as_staff(), case_id, status=CaseStatus.CLOSED, reason=reason)

    return _act(request, session, principal, case_id, csrf, close, read_purpose)


@router.post("/staff/cases/{case_id}/request", response_class=HTMLResponse)
async def case_request(
    request: Request, session: DbSession, principal: CurrentStaffSession, case_id: PathId
) -> Response:
    """Ask a payer of the case for data on one of its persons, by data category, with a deadline.
    The form has one checkbox per requestable category, so it is read whole here."""
    form = await request.form(max_files=0, max_fields=64)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    person = fields.get("person", "")
    scheme, _, identifier = person.partition(":")

    def send() -> object:
        return send_request(
            session,
            principal.as_staff(),
            case_id=case_id,
            payer_id=_int("payer", fields.get("payer", "")),
            person=(scheme, identifier),
            categories_asked=[v for k, v in form.multi_items() if k == "category" and isinstance(v, str)],
            question=fields.get("question", "")[:4000],
            deadline=_date("deadline", fields.get("deadline", "")),
            channel="web",
        )

    csrf, read_purpose = fields.get("csrf", ""), fields.get("read_purpose", "")[:500]
    return await run_in_threadpool(_act, request, session, principal, case_id, csrf, send, read_purpose)


@router.post("/staff/cases/{case_id}/abroad", response_class=HTMLResponse)
def case_abroad(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    case_id: PathId,
    person: Annotated[str, Form(max_length=60)] = "",
    family_name: Annotated[str, Form(max_length=200)] = "",
    forename: Annotated[str, Form(max_length=200)] = "",
    partner: Annotated[str, Form(max_length=32)] = "",
    benefit_type: Annotated[str, Form(max_length=32)] = "",
    start: Annotated[str, Form(max_length=10)] = "",
    end: Annotated[str, Form(max_length=10)] = "",
    question: Annotated[str, Form(max_length=4000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    read_purpose: ReadPurpose = "",
) -> Response:
    """Ask an institution abroad whether it pays a person of the case a benefit for a period
    (H_BUC_01): the cross-border case is opened and its H001 queued, and the case notes it."""
    settings: Settings = request.app.state.settings

    def ask() -> object:
        if benefit_type not in BENEFIT_TYPES:
            raise CaseStateError("benefit: choose one from the list")
        scheme, _, identifier = person.partition(":")
        asked = Question(
            person=(scheme, identifier),
            family_name=family_name,
            forename=forename,
            partner=partner,
            benefit_type=benefit_type,
            start=_date("from", start),
            end=_date("to", end) if end.strip() else None,
            question=question,
        )
        return ask_abroad(session, principal.as_staff(), eessi.node_from_settings(settings), case_id, asked)

    return _act(request, session, principal, case_id, csrf, ask, read_purpose)


def _abroad(settings: Settings) -> list[Institution]:
    """The institutions abroad an H_BUC_01 can be asked of, or none where this node takes no part."""
    try:
        return eessi.partners_for(eessi.node_from_settings(settings), BUC)
    except ExchangeError:  # no part in the exchange, or a directory that cannot be read
        return []


def _date(field: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise CaseStateError(f"{field}: {value.strip()!r} is not a date (YYYY-MM-DD)") from None


def _int(field: str, value: str) -> int:
    if not value.strip().isdigit() or len(value.strip()) > 18:
        raise CaseStateError(f"{field}: choose one from the list")
    return int(value)


def _case(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    case_id: int,
    *,
    error: str | None,
    status: int,
    purpose: str,
) -> HTMLResponse:
    try:
        view = read_case(session, principal.as_staff(), case_id, purpose=purpose or None, channel="web")
    except CaseNotFoundError:
        return render(request, "staff/not_found.html", {}, principal=principal, status_code=404)
    except (PurposeRequiredError, PurposeError) as exc:
        session.rollback()
        refused = isinstance(exc, PurposeError)
        known = purpose in PURPOSES
        asked: dict[str, object] = {
            "case_id": case_id,
            "error": str(exc) if refused else None,
            "purpose_choices": published(AccessKind.READ_CASE, has_role=False),
            "form": {"purpose": purpose if known else "other" if purpose else "", "other": "" if known else purpose},
        }
        return render(
            request, "staff/case_purpose.html", asked, principal=principal, status_code=422 if refused else 200
        )
    session.commit()  # the read is logged
    staff = principal.as_staff()
    payer_ids = sorted({int(p["payer_id"]) for p in view.payments})
    assignable = assignable_staff(session)
    actors = [e.actor for e in view.events] + [f"staff:{u}" for u in assignable]
    actors += [f"staff:{e.body['to']}" for e in view.events if e.kind.value == "assigned" and e.body.get("to")]
    actors += [f"staff:{name}" for name in (view.case.assigned_to, view.case.opened_by) if name]
    requests, notifications = case_requests(session, case_id), case_notifications(session, case_id)
    context = {
        "view": view,
        "actors": name_actors(session, actors),
        "read_purpose": view.grounds.purpose if view.grounds and view.grounds.basis == "reason" else "",
        "notifications": notifications,
        "requests": requests,
        "next_step": case_next_step(session, view.case, requests, notifications, today=today()),
        "error": error,
        "can_work": staff.has(Role.AUDITOR) or staff.has(Role.SUPERVISOR),
        "is_supervisor": staff.has(Role.SUPERVISOR),
        "can_ask": staff.has(Role.AUDITOR),
        "username": staff.username,
        "assignable": assignable,
        "payers": [describe_payer(session, i) for i in payer_ids],
        "categories": [c for c in categories().values() if not c.patient_confidential],
        "earliest_deadline": today() + dt.timedelta(days=1),
        "asked_abroad": eessi.cases_from_audit_case(session, case_id),
        "abroad_partners": _abroad(request.app.state.settings) if staff.has(Role.AUDITOR) else [],
        "benefit_types": BENEFIT_TYPES,
        "latest_start": today(),
    }
    return render(request, "staff/case.html", context, principal=principal, status_code=status)
