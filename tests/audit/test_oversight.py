"""What the audit measures: per-rule precision from outcomes (with Wilson intervals, fed back into
the selection), statistics per payer and rule, the fairness report, and rule modes with history."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from saldo.oversight.service.precision import wilson_interval
from saldo.staff.models import Role
from tests.audit.conftest import World
from tests.audit.test_cases import open_case
from tests.audit.test_notifications import notify
from tests.factories import auth


def test_wilson_interval_matches_published_values() -> None:
    # Wilson (1927) / Newcombe (1998), table I: 81 of 263 -> 0.2553 to 0.3662
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4)
    assert high == pytest.approx(0.3662, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(10, 10)
    assert high == pytest.approx(1.0)
    assert low == pytest.approx(0.7225, abs=1e-4)


def _decide(client: TestClient, world: World) -> None:
    """Two notified cases: A stops the double payment, B finds no error; A claims back the death case."""
    double = notify(client, world, open_case(client, world, "double")["case"]["id"])
    death = notify(client, world, open_case(client, world, "death")["case"]["id"])
    a, b = auth(world.token_a), auth(world.token_b)
    for n in double:
        token = a if n["content"]["payment_ids"] == [world.payments[world.persons[0]][0]] else b
        outcome = {"kind": "payment_stopped", "amount_minor": 900000} if token is a else {"kind": "no_error"}
        assert client.post(f"/api/v1/notifications/{n['id']}/outcomes", json=outcome, headers=token).status_code == 201
    claim = {"kind": "recovery_claim", "amount_minor": 125000}
    assert client.post(f"/api/v1/notifications/{death[0]['id']}/outcomes", json=claim, headers=a).status_code == 201


def test_precision_statistics_and_fairness_come_from_outcomes(client: TestClient, world: World) -> None:
    _decide(client, world)
    supervisor = auth(world.staff_tokens[Role.SUPERVISOR])
    rules = {r["rule_id"]: r for r in client.get("/api/v1/staff/rules", headers=supervisor).json()}
    double = rules["mutually_exclusive_benefits"]
    assert (double["notified"], double["decided"], double["confirmed"], double["precision"]) == (2, 2, 1, 0.5)
    assert double["precision_low"] < 0.5 < double["precision_high"]
    prior = double["prior_precision"]
    assert double["selection_precision"] == pytest.approx((prior * 20 + 1) / 22)
    untouched = rules["duplicate_payment"]
    assert untouched["decided"] == 0
    assert untouched["selection_precision"] == untouched["prior_precision"]

    stats = client.get("/api/v1/staff/statistics", headers=supervisor).json()
    by_key = {(s["payer_name"], s["rule_id"]): s for s in stats}
    death = by_key["Kommun A", "payment_after_death"]
    assert (death["recovery_claims"], death["claimed_minor"], death["handling_cost_minor"]) == (1, 125000, 250000)
    assert death["net_minor"] == 125000 - 250000
    assert by_key["Kommun A", "mutually_exclusive_benefits"]["stopped_minor"] == 900000
    assert by_key["Region B", "mutually_exclusive_benefits"]["no_error"] == 1
    assert death["median_days_to_outcome"] is not None
    assert death["median_days_to_outcome"] >= 0

    report = client.get("/api/v1/staff/fairness", headers=supervisor).json()
    overall = {(g["dimension"], g["group"]): g for g in report["groups"] if g["rule_id"] == "*"}
    # 40 persons in the snapshot; three are flagged (the shadow finding's subject is flagged too)
    assert sum(g["persons"] for (d, _), g in overall.items() if d == "sex") == 40
    stockholm = overall["region", "Stockholm"]
    assert (stockholm["persons"], stockholm["flagged"], stockholm["cased"]) == (2, 2, 1)
    assert stockholm["flag_ratio"] == pytest.approx((2 / 2) / (3 / 40))
    assert overall["region", "Västra Götaland"]["flagged"] == 0
    assert overall["age band", "65+"]["decided"] == 1
    assert overall["age band", "65+"]["precision"] == 1.0
    assert report["alerts"] == []  # min_flagged 10: three persons are too few to alert on


def test_a_disparity_past_the_threshold_raises_an_alert(client: TestClient, world: World) -> None:
    client.app.state.settings = client.app.state.settings.model_copy(update={"fairness_min_flagged": 1})  # type: ignore[attr-defined]
    report = client.get("/api/v1/staff/fairness", headers=auth(world.staff_tokens[Role.ANALYST])).json()
    flag = "flags region Stockholm 13.3 times as often as everyone: 1000.0 of every 1,000 persons in the group"
    assert any(flag in a for a in report["alerts"]), report["alerts"]


def test_rule_modes_are_recorded_with_who_and_why(client: TestClient, world: World) -> None:
    supervisor = auth(world.staff_tokens[Role.SUPERVISOR])
    url = "/api/v1/staff/rules/payment_after_death/mode"
    assert client.post(url, json={"mode": "shadow", "reason": ""}, headers=supervisor).status_code == 422
    shadow = client.post(
        url, json={"mode": "shadow", "reason": "flags too many deaths late in the month"}, headers=supervisor
    )
    assert shadow.status_code == 201
    assert shadow.json()["changed_by"] == "test.supervisor"
    again = client.post(url, json={"mode": "shadow", "reason": "again"}, headers=supervisor)
    assert again.status_code == 422
    assert "already" in again.json()["detail"]
    assert client.post(url, json={"mode": "retired", "reason": "replaced"}, headers=supervisor).status_code == 201
    unknown = client.post(
        "/api/v1/staff/rules/no_such_rule/mode", json={"mode": "shadow", "reason": "x"}, headers=supervisor
    )
    assert unknown.status_code == 422
    history = client.get("/api/v1/staff/rules/payment_after_death/modes", headers=supervisor).json()
    assert [h["mode"] for h in history] == ["shadow", "retired"]
    rules = {r["rule_id"]: r for r in client.get("/api/v1/staff/rules", headers=supervisor).json()}
    assert rules["payment_after_death"]["mode"] == "retired"
    assert rules["payment_after_death"]["reason"] == "replaced"
