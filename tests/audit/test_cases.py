"""Triage and case work over the API: roles on every endpoint, re-identification only when a case
is opened, every read of a person's data in the access log, and an append-only history."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from saldo.accesslog.models import AccessLogEntry
from saldo.cases.models import CaseStatus
from saldo.staff.models import Role
from tests.audit.conftest import SCHEME, World
from tests.factories import auth


def log_of(session: Session) -> list[AccessLogEntry]:
    return list(session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.seq)))


def open_case(client: TestClient, world: World, *findings: str) -> dict:
    response = client.post(
        "/api/v1/staff/cases",
        json={"finding_ids": [world.findings[f].id for f in findings], "purpose": "in-depth audit of a selection"},
        headers=auth(world.staff_tokens[Role.ANALYST]),
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_triage_shows_pseudonyms_and_logs_nothing(client: TestClient, world: World, session: Session) -> None:
    response = client.get("/api/v1/staff/findings/triage", headers=auth(world.staff_tokens[Role.ANALYST]))
    assert response.status_code == 200
    ids = [f["id"] for f in response.json()]
    assert ids == [world.findings[k].id for k in ("double", "death", "small")]  # shadow never reaches triage
    assert all(p not in response.text for p in world.persons)
    assert log_of(session) == []


def test_opening_a_case_re_identifies_the_subject_and_logs_it(
    client: TestClient, world: World, session: Session
) -> None:
    case = open_case(client, world, "double")
    assert case["case"]["status"] == "open"
    assert case["case"]["reference"].startswith("G-")
    assert case["persons"] == [{"person_scheme": SCHEME, "person_id": world.persons[0], "subject": True}]
    assert {p["payer_id"] for p in case["payments"]} == {world.payer_a.payer_id, world.payer_b.payer_id}
    entries = log_of(session)
    assert [(e.action, e.person_id, e.actor, e.case_id) for e in entries] == [
        ("re_identify", world.persons[0], "test.analyst", case["case"]["id"])
    ]
    assert entries[0].purpose == "in-depth audit of a selection"
    # the finding left the triage queue and cannot be reviewed twice
    again = client.post(
        "/api/v1/staff/cases",
        json={"finding_ids": [world.findings["double"].id], "purpose": "suspected_error"},
        headers=auth(world.staff_tokens[Role.ANALYST]),
    )
    assert again.status_code == 409
    assert "reviewed already" in again.json()["detail"]


def test_a_dismissal_needs_a_reason_and_re_identifies_nobody(
    client: TestClient, world: World, session: Session
) -> None:
    headers = auth(world.staff_tokens[Role.ANALYST])
    url = f"/api/v1/staff/findings/{world.findings['small'].id}/dismissal"
    assert client.post(url, json={"reason": ""}, headers=headers).status_code == 422
    response = client.post(url, json={"reason": "under SEK 500"}, headers=headers)
    assert response.status_code == 200
    assert response.json()["decision"] == "dismissed"
    assert log_of(session) == []


def test_shadow_findings_and_mixed_subjects_are_refused(client: TestClient, world: World) -> None:
    headers = auth(world.staff_tokens[Role.ANALYST])
    shadow = client.post(
        "/api/v1/staff/cases",
        json={"finding_ids": [world.findings["shadow"].id], "purpose": "suspected_error"},
        headers=headers,
    )
    assert shadow.status_code == 409
    assert "shadow mode" in shadow.json()["detail"]
    mixed = client.post(
        "/api/v1/staff/cases",
        json={"finding_ids": [world.findings["double"].id, world.findings["death"].id], "purpose": "suspected_error"},
        headers=headers,
    )
    assert mixed.status_code == 409
    assert "different subjects" in mixed.json()["detail"]


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        (Role.AUDITOR, "post", "/api/v1/staff/cases", {"finding_ids": [1], "purpose": "suspected_error"}),
        (Role.LOG_AUDITOR, "get", "/api/v1/staff/findings/triage", None),
        (Role.ANALYST, "get", "/api/v1/staff/access-log", None),
        (Role.AUDITOR, "get", "/api/v1/staff/statistics", None),
        (Role.ANALYST, "post", "/api/v1/staff/rules/payment_after_death/mode", {"mode": "shadow", "reason": "x"}),
        (Role.LOG_AUDITOR, "get", "/api/v1/staff/cases", None),
        (Role.ANALYST, "post", "/api/v1/staff/access-log/verification", None),
    ],
)
def test_every_staff_endpoint_checks_the_role(
    client: TestClient, world: World, role: Role, method: str, path: str, body: dict | None
) -> None:
    response = client.request(method, path, json=body, headers=auth(world.staff_tokens[role]))
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "forbidden"


def test_payer_tokens_and_no_tokens_do_not_open_staff_endpoints(client: TestClient, world: World) -> None:
    assert client.get("/api/v1/staff/cases", headers=auth(world.token_a)).status_code == 401
    assert client.get("/api/v1/staff/cases").status_code == 401
    assert client.get("/api/v1/feed", headers=auth(world.staff_tokens[Role.AUDITOR])).status_code == 401


def test_case_work_is_history(client: TestClient, world: World, session: Session) -> None:
    case_id = open_case(client, world, "death")["case"]["id"]
    auditor, supervisor = auth(world.staff_tokens[Role.AUDITOR]), auth(world.staff_tokens[Role.SUPERVISOR])
    # an auditor takes a case for themself, not for someone else
    assert (
        client.post(
            f"/api/v1/staff/cases/{case_id}/assignment", json={"to": "someone.else"}, headers=auditor
        ).status_code
        == 409
    )
    taken = client.post(f"/api/v1/staff/cases/{case_id}/assignment", json={"to": "test.auditor"}, headers=auditor)
    assert taken.json()["status"] == "in_progress"
    assert taken.json()["assigned_to"] == "test.auditor"
    assert (
        client.post(
            f"/api/v1/staff/cases/{case_id}/notes", json={"text": "Death date checked"}, headers=auditor
        ).status_code
        == 201
    )
    evidence = {
        "description": "Extract of the population register",
        "source": "population register",
        "reference": "DOC-1",
    }
    assert client.post(f"/api/v1/staff/cases/{case_id}/evidence", json=evidence, headers=auditor).status_code == 201
    assert (
        client.post(
            f"/api/v1/staff/cases/{case_id}/deadline", json={"deadline": "2027-01-31"}, headers=supervisor
        ).status_code
        == 200
    )
    no_reason = client.post(f"/api/v1/staff/cases/{case_id}/status", json={"status": "closed"}, headers=auditor)
    assert no_reason.status_code == 409
    assert "reason" in no_reason.json()["detail"]
    closed = client.post(
        f"/api/v1/staff/cases/{case_id}/status",
        json={"status": "closed", "reason": "payer notified by phone"},
        headers=auditor,
    )
    assert closed.json()["status"] == CaseStatus.CLOSED
    late = client.post(f"/api/v1/staff/cases/{case_id}/notes", json={"text": "late"}, headers=auditor)
    assert late.status_code == 409
    assert "closed" in late.json()["detail"]
    detail = client.get(f"/api/v1/staff/cases/{case_id}", params={"purpose": "quality_review"}, headers=auditor).json()
    assert [e["kind"] for e in detail["events"]] == ["opened", "assigned", "note", "evidence", "deadline", "status"]
    # a list reveals nobody
    listed = client.get("/api/v1/staff/cases", headers=auditor)
    assert listed.status_code == 200
    assert world.persons[2] not in listed.text
    with pytest.raises(DBAPIError, match="refused"), session.begin_nested():
        session.execute(text("UPDATE case_events SET body = '{}'"))


def test_the_log_auditor_sees_who_read_whose_data(client: TestClient, world: World) -> None:
    case_id = open_case(client, world, "double")["case"]["id"]
    client.get(
        f"/api/v1/staff/cases/{case_id}",
        params={"purpose": "checking the payer"},
        headers=auth(world.staff_tokens[Role.AUDITOR]),
    )
    headers = auth(world.staff_tokens[Role.LOG_AUDITOR])
    about = client.get(
        "/api/v1/staff/access-log", params={"person_scheme": SCHEME, "person_id": world.persons[0]}, headers=headers
    )
    assert about.status_code == 200
    assert [(e["actor"], e["action"], e["purpose"]) for e in about.json()] == [
        ("test.analyst", "re_identify", "in-depth audit of a selection"),
        ("test.auditor", "read_case_without_role", "checking the payer"),
    ]
    assert all(len(e["hash"]) == 64 for e in about.json())
    nobody = client.get(
        "/api/v1/staff/access-log", params={"person_scheme": SCHEME, "person_id": world.persons[2]}, headers=headers
    )
    assert nobody.json() == []
    bad = client.get("/api/v1/staff/access-log", params={"person_id": "1\x00"}, headers=headers)
    assert bad.status_code == 422
