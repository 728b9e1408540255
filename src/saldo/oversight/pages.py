"""The auditor's workbench: the dashboard of the latest analysis run and the fairness report, as
charts with the same figures in tables beside them; and the case page, where the case's persons,
findings, payments, history, information requests and notifications meet, and an auditor adds
notes and notifies the payers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from saldo.analysis.service.run import AnalysisError
from saldo.cases.errors import CaseNotFoundError, CaseStateError
from saldo.cases.service import add_note, read_case
from saldo.inforequests.service import case_requests
from saldo.notifications.errors import NothingToNotifyError, OutcomeRejectedError
from saldo.notifications.service import case_notifications, notify_payers
from saldo.oversight.dashboard import READERS, dashboard
from saldo.oversight.fairness import fairness_report
from saldo.settings import Settings
from saldo.staff.errors import ForbiddenError
from saldo.staff.service import require_role
from saldo.web.charts import Bar, bar_chart, interval_chart
from saldo.web.deps import CurrentStaffSession, DbSession, PathId, check_csrf
from saldo.web.i18n import choose_language, money, translations
from saldo.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/staff/workbench", response_class=HTMLResponse)
def workbench(request: Request, session: DbSession, principal: CurrentStaffSession) -> HTMLResponse:
    """Findings by rule, amounts at risk, outcomes over time and each rule's precision."""
    settings: Settings = request.app.state.settings
    figures = dashboard(session, principal.as_staff(), prior_weight=settings.precision_prior_weight)
    language = choose_language(request)
    _ = translations(language).gettext
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
            [(p.rule_id, p.measured, p.low, p.high) for p in figures.precision if p.decided],
            title=_("Precision by rule"),
            description=_("Each rule's measured precision (dot) and its 95 % interval (line)."),
        ),
    }
    return render(request, "staff/workbench.html", {"d": figures, "charts": charts}, principal=principal)


@router.get("/staff/fairness", response_class=HTMLResponse)
def fairness(request: Request, session: DbSession, principal: CurrentStaffSession) -> HTMLResponse:
    """Flag rates, case rates and precision by age band, sex and region, with the alerts."""
    require_role(principal.as_staff(), *READERS)
    settings: Settings = request.app.state.settings
    _ = translations(choose_language(request)).gettext
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
            Bar(f"{group.rule_id} · {group.group}", (group.flag_ratio,), f"{group.flag_ratio:.2f}")
        )
    charts = {
        name: bar_chart(
            bars,
            title=_("Flag ratio by %(dimension)s") % {"dimension": name},
            description=_("A group's flag rate divided by the rule's overall flag rate; 1.00 is parity."),
        )
        for name, bars in dimensions.items()
    }
    return render(request, "staff/fairness.html", {"report": report, "charts": charts}, principal=principal)


@router.get("/staff/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, session: DbSession, principal: CurrentStaffSession, case_id: PathId) -> Response:
    """One case with the persons it is about: the read is in the access log, per person."""
    return _case(request, session, principal, case_id, error=None, status=200)


@router.post("/staff/cases/{case_id}/note", response_class=HTMLResponse)
def case_note(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    case_id: PathId,
    text: Annotated[str, Form(max_length=4000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(principal, csrf)
    try:
        add_note(session, principal.as_staff(), case_id, text=text)
    except (CaseStateError, CaseNotFoundError) as exc:
        session.rollback()
        return _case(request, session, principal, case_id, error=str(exc), status=422)
    session.commit()
    return RedirectResponse(f"/staff/cases/{case_id}", status_code=303)


@router.post("/staff/cases/{case_id}/notify", response_class=HTMLResponse)
def case_notify(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    case_id: PathId,
    summary: Annotated[str, Form(max_length=4000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Notify every payer whose payments the case is about, each of its own payments only."""
    check_csrf(principal, csrf)
    try:
        notify_payers(session, principal.as_staff(), case_id, summary=summary, channel="web")
    except (OutcomeRejectedError, NothingToNotifyError, CaseStateError, CaseNotFoundError, ForbiddenError) as exc:
        session.rollback()
        return _case(request, session, principal, case_id, error=str(exc), status=422)
    session.commit()
    return RedirectResponse(f"/staff/cases/{case_id}", status_code=303)


def _case(
    request: Request,
    session: DbSession,
    principal: CurrentStaffSession,
    case_id: int,
    *,
    error: str | None,
    status: int,
) -> HTMLResponse:
    try:
        view = read_case(session, principal.as_staff(), case_id, purpose="case work in the workbench", channel="web")
    except CaseNotFoundError:
        return render(request, "staff/not_found.html", {}, principal=principal, status_code=404)
    session.commit()  # the read is logged
    context = {
        "view": view,
        "notifications": case_notifications(session, case_id),
        "requests": case_requests(session, case_id),
        "error": error,
    }
    return render(request, "staff/case.html", context, principal=principal, status_code=status)
