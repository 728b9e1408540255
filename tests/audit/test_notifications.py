"""Notifications, information requests and outcomes between the authority and payers, over the API:
each payer sees only its own, exempt categories are refused by the system, outcomes are history."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from saldo.accesslog.models import AccessLogEntry
from saldo.inforequests.service import send_reminders
from saldo.kit.clock import today
from saldo.payers.models import Payer
from saldo.staff.models import Role
from tests.audit.conftest import SCHEME, World
from tests.audit.test_cases import open_case
from tests.factories import auth


def notify(client: TestClient, world: World, case_id: int) -> list[dict]:
    response = client.post(
        f"/api/v1/staff/cases/{case_id}/notifications",
        json={"summary": "Both benefits were paid for March."},
        headers=auth(world.staff_tokens[Role.AUDITOR]),
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_each_paying_payer_is_notified_of_its_own_payments_only(
    client: TestClient, world: World, session: Session
) -> None:
    case_id = open_case(client, world, "double")["case"]["id"]
    sent = notify(client, world, case_id)
    by_payer = {
        world.payer_a.payer_id: world.payments[world.persons[0]][0],
        world.payer_b.payer_id: world.payments[world.persons[0]][1],
    }
    assert len(sent) == 2
    for token, payer in ((world.token_a, world.payer_a), (world.token_b, world.payer_b)):
        own = client.get("/api/v1/notifications", headers=auth(token)).json()
        assert len(own) == 1
        content = own[0]["content"]
        assert content["payment_ids"] == [by_payer[payer.payer_id]]
        assert content["person"] == {"scheme": SCHEME, "identifier": world.persons[0]}
        assert content["rule"]["id"] == "mutually_exclusive_benefits"
        assert content["rule"]["title_en"]
        assert content["reason_en"]
        assert content["reason_sv"]
        assert content["evidence"]["summary"]
        feed = client.get("/api/v1/feed", headers=auth(token)).json()
        assert [(m["seq"], m["kind"], m["ref_id"]) for m in feed] == [(1, "notification", own[0]["id"])]
    # another payer's notification is as unknown as a missing one
    other = next(n for n in sent if n["content"]["payment_ids"] == [by_payer[world.payer_b.payer_id]])
    assert client.get(f"/api/v1/notifications/{other['id']}", headers=auth(world.token_a)).status_code == 404
    outcome = {"kind": "no_error"}
    assert (
        client.post(
            f"/api/v1/notifications/{other['id']}/outcomes", json=outcome, headers=auth(world.token_a)
        ).status_code
        == 404
    )
    case = client.get(
        f"/api/v1/staff/cases/{case_id}",
        params={"purpose": "quality_review"},
        headers=auth(world.staff_tokens[Role.AUDITOR]),
    ).json()
    assert case["case"]["status"] == "notified"
    disclosed = session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "disclose_to_payer")).all()
    assert len(disclosed) == 2
    # the log says which payer in words the person reads: a published purpose and the payer's name
    payer_names = {session.get(Payer, p.payer_id).name for p in (world.payer_a, world.payer_b)}  # type: ignore[union-attr]
    assert {(d.purpose, d.details["payer"]) for d in disclosed} == {("notify_payer", name) for name in payer_names}


def test_outcomes_are_history_and_checked(client: TestClient, world: World, session: Session) -> None:
    case_id = open_case(client, world, "death")["case"]["id"]
    (notification,) = notify(client, world, case_id)
    url = f"/api/v1/notifications/{notification['id']}/outcomes"
    headers = auth(world.token_a)
    claim = client.post(url, json={"kind": "recovery_claim"}, headers=headers)
    assert claim.status_code == 422
    assert "amount" in claim.json()["detail"]
    future = (today() + dt.timedelta(days=2)).isoformat()
    assert client.post(url, json={"kind": "no_error", "decided_on": future}, headers=headers).status_code == 422
    assert client.post(url, json={"kind": "no_error", "amount_minor": 5}, headers=headers).status_code == 422
    assert client.post(url, json={"kind": "bogus"}, headers=headers).status_code == 422
    first = client.post(url, json={"kind": "payment_stopped", "amount_minor": 125000}, headers=headers)
    assert first.status_code == 201
    again = client.post(url, json={"kind": "payment_stopped", "amount_minor": 125000}, headers=headers)
    assert again.json()["id"] == first.json()["id"]  # idempotent re-send
    later = client.post(
        url, json={"kind": "recovery_claim", "amount_minor": 250000, "note": "two months"}, headers=headers
    )
    assert later.status_code == 201
    shown = client.get(f"/api/v1/notifications/{notification['id']}", headers=headers).json()
    assert [o["kind"] for o in shown["outcomes"]] == ["payment_stopped", "recovery_claim"]
    with pytest.raises(DBAPIError, match="refused"), session.begin_nested():
        session.execute(text("DELETE FROM notification_outcomes"))


def test_information_requests_refuse_patient_confidential_categories(client: TestClient, world: World) -> None:
    case_id = open_case(client, world, "double")["case"]["id"]
    headers = auth(world.staff_tokens[Role.AUDITOR])
    deadline = (today() + dt.timedelta(days=10)).isoformat()
    body = {
        "payer_id": world.payer_b.payer_id,
        "person": {"scheme": SCHEME, "identifier": world.persons[0]},
        "categories": ["decision_basis", "medical_certificate"],
        "question": "What was the sickness benefit decided on?",
        "deadline": deadline,
    }
    url = f"/api/v1/staff/cases/{case_id}/information-requests"
    refused = client.post(url, json=body, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["error"] == "category_refused"
    assert "medical_certificate: patient-confidential" in refused.json()["detail"]
    for category in ("diagnosis", "ethnicity", "shoe_size"):
        response = client.post(url, json={**body, "categories": [category]}, headers=headers)
        assert response.status_code == 422, category
    outsider = client.post(
        url,
        json={**body, "categories": ["decision_basis"], "person": {"scheme": SCHEME, "identifier": world.persons[2]}},
        headers=headers,
    )
    assert outsider.status_code == 409
    assert "not a person of case" in outsider.json()["detail"]
    past = client.post(
        url, json={**body, "categories": ["decision_basis"], "deadline": today().isoformat()}, headers=headers
    )
    assert past.status_code == 409
    sent = client.post(url, json={**body, "categories": ["decision_basis", "declared_income"]}, headers=headers)
    assert sent.status_code == 201, sent.text
    request_id = sent.json()["id"]
    # payer A never sees payer B's request
    assert client.get("/api/v1/information-requests", headers=auth(world.token_a)).json() == []
    assert client.get(f"/api/v1/information-requests/{request_id}", headers=auth(world.token_a)).status_code == 404
    mine = client.get("/api/v1/information-requests", headers=auth(world.token_b)).json()
    assert [r["id"] for r in mine] == [request_id]
    answer_url = f"/api/v1/information-requests/{request_id}/answers"
    extra = client.post(answer_url, json={"data": {"diagnosis": "x"}}, headers=auth(world.token_b))
    assert extra.status_code == 409
    assert "not asked for" in extra.json()["detail"]
    answered = client.post(
        answer_url, json={"data": {"decision_basis": "Sick leave 100 %"}}, headers=auth(world.token_b)
    )
    assert answered.status_code == 201
    assert (
        client.post(answer_url, json={"data": {"decision_basis": "again"}}, headers=auth(world.token_b)).status_code
        == 409
    )
    read = client.get(
        f"/api/v1/staff/information-requests/{request_id}", params={"purpose": "quality_review"}, headers=headers
    ).json()
    assert read["answers"][0]["data"] == {"decision_basis": "Sick leave 100 %"}
    case = client.get(f"/api/v1/staff/cases/{case_id}", params={"purpose": "quality_review"}, headers=headers).json()
    assert case["case"]["status"] == "awaiting_information"
    assert [e["kind"] for e in case["events"]][-3:] == ["request_sent", "status", "answer_received"]


def test_a_payer_can_answer_with_a_file_and_is_reminded_before_the_deadline(
    client: TestClient, world: World, session: Session
) -> None:
    case_id = open_case(client, world, "death")["case"]["id"]
    headers = auth(world.staff_tokens[Role.AUDITOR])
    body = {
        "payer_id": world.payer_a.payer_id,
        "person": {"scheme": SCHEME, "identifier": world.persons[2]},
        "categories": ["payment_account_history"],
        "question": "Which accounts was the allowance paid to?",
        "deadline": (today() + dt.timedelta(days=2)).isoformat(),
    }
    first = client.post(f"/api/v1/staff/cases/{case_id}/information-requests", json=body, headers=headers).json()
    later = client.post(
        f"/api/v1/staff/cases/{case_id}/information-requests",
        json={**body, "deadline": (today() + dt.timedelta(days=20)).isoformat()},
        headers=headers,
    ).json()
    assert send_reminders(session, days_before=3) == 1
    assert send_reminders(session, days_before=3) == 0  # once per request
    session.commit()
    feed = client.get("/api/v1/feed", headers=auth(world.token_a)).json()
    assert [(m["kind"], m["ref_id"]) for m in feed] == [
        ("information_request", first["id"]),
        ("information_request", later["id"]),
        ("reminder", first["id"]),
    ]
    assert [m["seq"] for m in feed] == [1, 2, 3]
    assert client.get("/api/v1/feed", params={"after": 2}, headers=auth(world.token_a)).json()[0]["kind"] == "reminder"
    upload = client.post(
        f"/api/v1/information-requests/{first['id']}/answer-files",
        params={"filename": "accounts.pdf"},
        content=b"%PDF-1.7 account history",
        headers={**auth(world.token_a), "Content-Type": "application/octet-stream"},
    )
    assert upload.status_code == 201
    assert upload.json()["filename"] == "accounts.pdf"
    bad_name = client.post(
        f"/api/v1/information-requests/{later['id']}/answer-files",
        params={"filename": "../etc/passwd"},
        content=b"x",
        headers=auth(world.token_a),
    )
    assert bad_name.status_code == 422
