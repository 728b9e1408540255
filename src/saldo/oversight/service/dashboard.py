"""The auditor's dashboard: what the latest analysis run found per rule, what payers decided month by
month, and how precise each rule has proved — the figures behind the workbench's charts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from saldo.analysis.repository import AnalysisRepository
from saldo.analysis.service.catalogue import load_catalogue
from saldo.oversight.repository import OversightRepository
from saldo.oversight.service.precision import RulePrecision, rule_precision
from saldo.staff.models import Role
from saldo.staff.schemas import StaffPrincipal
from saldo.staff.service import require_role

READERS = (Role.ANALYST, Role.AUDITOR, Role.SUPERVISOR)


@dataclass(frozen=True, slots=True)
class RuleFindings:
    rule_id: str
    title_sv: str
    title_en: str
    findings: int
    selected: int
    at_risk_minor: int
    selected_at_risk_minor: int


@dataclass(frozen=True, slots=True)
class MonthOutcomes:
    month: str
    confirmed: int
    no_error: int
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    run_id: int | None
    run_finished_at: dt.datetime | None
    engine: str | None
    rules: list[RuleFindings]
    months: list[MonthOutcomes]
    precision: list[RulePrecision]
    overview: dict[str, int]

    @property
    def findings(self) -> int:
        return sum(r.findings for r in self.rules)

    @property
    def selected(self) -> int:
        return sum(r.selected for r in self.rules)

    @property
    def at_risk_minor(self) -> int:
        return sum(r.selected_at_risk_minor for r in self.rules)


def dashboard(session: Session, principal: StaffPrincipal, *, prior_weight: float) -> Dashboard:
    """The latest finished run's findings per rule, outcomes by month and each rule's precision."""
    require_role(principal, *READERS)
    run = AnalysisRepository(session).latest_run()
    repository = OversightRepository(session)
    titles = {rule.id: (rule.title_sv, rule.title_en) for rule in load_catalogue()}
    rules = [
        RuleFindings(
            rule_id=r.rule_id,
            title_sv=titles.get(r.rule_id, (r.rule_id, r.rule_id))[0],
            title_en=titles.get(r.rule_id, (r.rule_id, r.rule_id))[1],
            findings=int(r.findings),
            selected=int(r.selected),
            at_risk_minor=int(r.at_risk),
            selected_at_risk_minor=int(r.selected_at_risk),
        )
        for r in (repository.findings_by_rule(run.id) if run is not None else [])
    ]
    months = [
        MonthOutcomes(month=r.month, confirmed=int(r.confirmed), no_error=int(r.no_error), amount_minor=int(r.amount))
        for r in repository.outcomes_by_month()
    ]
    return Dashboard(
        run_id=run.id if run else None,
        run_finished_at=run.finished_at if run else None,
        engine=run.engine if run else None,
        rules=rules,
        months=months,
        precision=rule_precision(session, prior_weight=prior_weight),
        overview=repository.overview(),
    )
