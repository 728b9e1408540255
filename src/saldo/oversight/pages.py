"""The auditor's workbench: the dashboard of the latest analysis run and the fairness report, as
charts with the same figures in tables beside them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from saldo.analysis.service.run import AnalysisError
from saldo.oversight.dashboard import READERS, dashboard
from saldo.oversight.fairness import fairness_report
from saldo.settings import Settings
from saldo.staff.service import require_role
from saldo.web.charts import Bar, bar_chart, interval_chart
from saldo.web.deps import CurrentStaffSession, DbSession
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
