"""The audit on a generated country: the analysis finds, a simulated round of audit carries the
selection through cases and notifications to the payers' outcomes, and what is measured feeds back
into the next run; rules in shadow mode and retired rules behave as they say."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from saldo.accesslog.models import AccessLogEntry
from saldo.analysis.models import Finding, RuleMode
from saldo.analysis.service.modes import set_rule_mode
from saldo.analysis.service.pseudonyms import Pseudonymiser, load_or_create_key
from saldo.analysis.service.run import run_analysis
from saldo.analysis.service.snapshot import export_snapshot
from saldo.cli.country import load_country
from saldo.oversight.service.fairness import ALL_RULES, fairness_report
from saldo.oversight.service.precision import rule_precision, selection_precision
from saldo.oversight.service.statistics import payer_rule_statistics
from saldo.settings import Settings
from saldo.synthetic.audit_round import simulate_audit
from saldo.synthetic.country import generate_country

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audit-country")
    generate_country(folder, persons=4_000, seed=23, as_of=dt.date(2026, 11, 22), anomaly_rate=0.004)
    return folder


def test_a_round_of_audit_measures_the_rules_and_feeds_the_next_selection(
    session: Session, sessions: sessionmaker[Session], settings: Settings, country: Path
) -> None:
    load_country(sessions, settings, country, loaded_by="staff:test")
    export_snapshot(session, settings, created_by="staff:test")
    first = run_analysis(session, settings, started_by="staff:test")
    done = simulate_audit(
        session, Pseudonymiser(load_or_create_key(settings.pseudonym_key_path)), country / "ground_truth.csv"
    )
    assert done.cases > 10
    assert done.notifications >= done.cases
    assert done.outcomes > 0
    assert done.cases + done.dismissed <= first.selected
    # every re-identification is in the access log, with the case and the purpose
    reidentified = session.scalar(select(func.count()).where(AccessLogEntry.action == "re_identify"))
    assert reidentified is not None
    assert reidentified >= done.cases

    measured = {r.rule_id: r for r in rule_precision(session, prior_weight=settings.precision_prior_weight)}
    decided = sum(r.decided for r in measured.values())
    confirmed = sum(r.confirmed for r in measured.values())
    assert decided == done.outcomes
    assert 0.75 < confirmed / decided <= 1.0  # the planted cases, less what payers explain away
    for r in measured.values():
        if r.measured is not None:
            assert r.low <= r.measured <= r.high

    stats = payer_rule_statistics(session, handling_cost_minor=settings.handling_cost_minor)
    assert sum(s.notifications for s in stats) == done.notifications
    assert sum(s.decided for s in stats) == done.outcomes
    assert sum(s.stopped_minor + s.claimed_minor for s in stats) > 0
    assert all(s.median_days_to_outcome is None or 3 <= s.median_days_to_outcome <= 76 for s in stats)

    report = fairness_report(session, run_id=first.id, threshold=1.25, min_flagged=10)
    overall = [g for g in report.groups if g.rule_id == ALL_RULES]
    assert {g.dimension for g in overall} == {"age band", "sex", "region"}
    for dimension in ("age band", "sex", "region"):
        groups = [g for g in overall if g.dimension == dimension]
        assert sum(g.persons for g in groups) == 4_000
        assert 0 < sum(g.cased for g in groups) <= done.cases  # a person with a case counts once

    # The supervisor puts one rule in shadow mode and retires another; the next run obeys.
    set_rule_mode(
        session, rule_id="duplicate_payment", mode=RuleMode.SHADOW, reason="measuring", changed_by="sara.chef"
    )
    set_rule_mode(session, rule_id="payment_after_death", mode=RuleMode.RETIRED, reason="test", changed_by="sara.chef")
    weights = selection_precision(session, prior_weight=settings.precision_prior_weight)
    second = run_analysis(session, settings, started_by="staff:test", precision=weights)
    ran = {r["id"]: r["mode"] for r in second.rules}
    assert "payment_after_death" not in ran
    assert ran["duplicate_payment"] == "shadow"
    findings = session.scalars(select(Finding).where(Finding.run_id == second.id)).all()
    shadow = [f for f in findings if f.rule_id == "duplicate_payment"]
    assert shadow
    assert all(f.shadow and not f.selected for f in shadow)
    for f in findings:
        assert f.expected_value_minor == round(f.amount_at_risk_minor * weights[f.rule_id])
