"""An information request's answer carries, for each category asked, text or the category's own
form — never a field of an excluded category (health, diagnosis ...), wherever it is put."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from saldo.inforequests.errors import InvalidAnswerError
from saldo.inforequests.service.answers import check_answer_data
from saldo.kit.clock import today
from saldo.staff.models import Role
from tests.audit.conftest import SCHEME, World
from tests.audit.test_cases import open_case
from tests.factories import auth


def test_each_category_takes_text_or_its_own_form() -> None:
    income = [{"month": "2026-03", "amount_minor": 1250000}]
    assert check_answer_data({"declared_income": income}) == {
        "declared_income": [{"month": "2026-03", "amount_minor": 1250000, "currency": "SEK"}]
    }
    assert check_answer_data({"household": {"adults": 2, "children": 1}}) == {"household": {"adults": 2, "children": 1}}
    assert check_answer_data({"decision_basis": "  Beslut 2026-03-01  "}) == {"decision_basis": "Beslut 2026-03-01"}


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"declared_income": {"diagnosis": "F32"}}, "declared_income.diagnosis"),
        ({"declared_income": [{"month": "2026-03", "amount_minor": 1, "health_status": "x"}]}, "health"),
        ({"declared_income": [{"month": "March", "amount_minor": 1}]}, "declared_income.0.month"),
        ({"household": {"adults": 0, "children": 1}}, "household.adults"),
        ({"decision_basis": {"religion": "x"}}, "decision_basis.religion"),
        ({"decision_basis": 12}, "decision_basis"),
        ({"address_history": [{"address": "Storgatan 1", "valid_from": 0}]}, "YYYY-MM-DD"),
    ],
)
def test_an_answer_that_does_not_fit_is_refused(data: dict[str, object], said: str) -> None:
    with pytest.raises(InvalidAnswerError, match=said):
        check_answer_data(data)


def test_the_api_refuses_a_health_field_in_a_declared_income_answer(client: TestClient, world: World) -> None:
    case_id = open_case(client, world, "death")["case"]["id"]
    sent = client.post(
        f"/api/v1/staff/cases/{case_id}/information-requests",
        json={
            "payer_id": world.payer_a.payer_id,
            "person": {"scheme": SCHEME, "identifier": world.persons[2]},
            "categories": ["declared_income"],
            "question": "What income was declared for March?",
            "deadline": (today() + dt.timedelta(days=5)).isoformat(),
        },
        headers=auth(world.staff_tokens[Role.AUDITOR]),
    )
    assert sent.status_code == 201, sent.text
    url = f"/api/v1/information-requests/{sent.json()['id']}/answers"
    refused = client.post(url, json={"data": {"declared_income": {"diagnosis": "F32"}}}, headers=auth(world.token_a))
    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid_answer"
    rows = [{"month": "2026-03", "amount_minor": 1250000}]
    taken = client.post(url, json={"data": {"declared_income": rows}}, headers=auth(world.token_a))
    assert taken.status_code == 201, taken.text
