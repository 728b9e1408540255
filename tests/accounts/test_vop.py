"""Verification of payee: the EPC VOP answer for an account and a name or identifier."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from saldo.accounts.schemas import VopCheckIn
from saldo.accounts.service.verify import check_payee
from saldo.kit.clock import today
from saldo.kit.name_match import Thresholds
from tests.factories import account_record, auth, pnr, se_iban

ANNA = (pnr(1), "Anna Maria Andersson")
BERIT = (pnr(2), "Berit Lind")
JOINT = se_iban(1)
CLOSED = se_iban(2)
COMPANY = se_iban(3)


@pytest.fixture
def register(client: TestClient, bank_token: str) -> None:
    closed_on = (today() - dt.timedelta(days=1)).isoformat()
    company = {
        "account": COMPANY,
        "opened_on": "2010-01-01",
        "holders": [{"id_scheme": "se_organisationsnummer", "identifier": "5560360793", "name": "Saab Aktiebolag"}],
    }
    records = [account_record(JOINT, ANNA, BERIT), account_record(CLOSED, BERIT, closed_on=closed_on), company]
    response = client.post("/api/v1/bank/accounts", json={"accounts": records}, headers=auth(bank_token))
    assert response.status_code == 200, response.text


def check(client: TestClient, token: str, **body: object) -> dict[str, object]:
    response = client.post("/api/v1/vop/checks", json=body, headers=auth(token))
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


@pytest.mark.usefixtures("register")
class TestSingleCheck:
    def test_match(self, client: TestClient, payer_token: str) -> None:
        result = check(client, payer_token, account=JOINT, name="Anna Andersson")
        assert result == {
            "outcome": "match",
            "epc_code": "MTCH",
            "reason": "given_name_omitted",
            "registered_name": None,
        }

    def test_close_match_shows_the_registered_name(self, client: TestClient, payer_token: str) -> None:
        result = check(client, payer_token, account=JOINT, name="A. Andersson")
        assert (result["outcome"], result["reason"]) == ("close_match", "initials")
        assert result["registered_name"] == "Anna Maria Andersson"

    def test_no_match_reveals_nothing(self, client: TestClient, payer_token: str) -> None:
        result = check(client, payer_token, account=JOINT, name="Carl Svensson")
        assert (result["outcome"], result["epc_code"], result["registered_name"]) == ("no_match", "NMTC", None)

    def test_any_holder_of_a_joint_account_matches(self, client: TestClient, payer_token: str) -> None:
        assert check(client, payer_token, account=JOINT, name="Berit Lind")["outcome"] == "match"

    def test_unknown_and_closed_accounts_are_not_possible(self, client: TestClient, payer_token: str) -> None:
        unknown = check(client, payer_token, account=se_iban(99), name="Anna Andersson")
        closed = check(client, payer_token, account=CLOSED, name="Berit Lind")
        assert (unknown["outcome"], unknown["epc_code"], unknown["reason"]) == (
            "not_possible",
            "NOAP",
            "account_unknown",
        )
        assert (closed["outcome"], closed["reason"]) == ("not_possible", "account_closed")

    def test_an_identifier_is_the_stronger_check(self, client: TestClient, payer_token: str) -> None:
        held = check(client, payer_token, account=JOINT, party={"identifier": BERIT[0]}, name="Someone Else")
        not_held = check(client, payer_token, account=JOINT, party={"identifier": pnr(5)})
        assert (held["outcome"], held["reason"]) == ("match", "identifier_match")
        assert (not_held["outcome"], not_held["reason"]) == ("no_match", "identifier_mismatch")

    def test_organisations_match_without_their_legal_form(self, client: TestClient, payer_token: str) -> None:
        result = check(client, payer_token, account=COMPANY, name="Saab AB")
        assert (result["outcome"], result["reason"]) == ("match", "normalised")
        by_orgnr = check(
            client,
            payer_token,
            account=COMPANY,
            party={"id_scheme": "se_organisationsnummer", "identifier": "556036-0793"},
        )
        assert by_orgnr["outcome"] == "match"

    def test_a_bank_may_ask_too(self, client: TestClient, other_bank_token: str) -> None:
        assert check(client, other_bank_token, account=JOINT, name="Berit Lind")["outcome"] == "match"


class TestBadChecks:
    @pytest.mark.parametrize(
        ("body", "error"),
        [
            ({"account": "SE4550000000058398257467", "name": "Anna"}, "invalid_account"),
            ({"account": "0001-1234567", "account_scheme": "se_clearing", "name": "Anna"}, "invalid_account"),
            ({"account": se_iban(1)}, "invalid_check"),
            ({"account": se_iban(1), "name": "   "}, "invalid_check"),
            ({"account": se_iban(1), "name": "%%%"}, "invalid_check"),
            ({"account": se_iban(1), "party": {"identifier": "198001010000"}}, "invalid_identifier"),
            ({"account": se_iban(1), "name": "x" * 141}, "invalid_request"),
        ],
    )
    def test_rejected_with_the_reason(
        self, client: TestClient, payer_token: str, body: dict[str, object], error: str
    ) -> None:
        response = client.post("/api/v1/vop/checks", json=body, headers=auth(payer_token))
        assert response.status_code == 422
        assert response.json()["error"] == error

    def test_without_a_token(self, client: TestClient) -> None:
        assert client.post("/api/v1/vop/checks", json={"account": JOINT, "name": "A"}).status_code == 401


@pytest.mark.usefixtures("register")
class TestBulk:
    def test_each_check_gets_its_answer_or_its_error_in_order(self, client: TestClient, payer_token: str) -> None:
        checks = [
            {"account": JOINT, "name": "Anna Andersson"},
            {"account": "SE00bad", "name": "Anna"},
            {"account": JOINT, "name": "A. Andersson"},
            {"account": CLOSED, "name": "Berit Lind"},
            {"account": se_iban(50), "name": "Nobody"},
        ]
        response = client.post("/api/v1/vop/bulk", json={"checks": checks}, headers=auth(payer_token))
        assert response.status_code == 200, response.text
        body = response.json()
        assert [i["index"] for i in body["results"]] == [0, 1, 2, 3, 4]
        assert body["results"][1]["error"].startswith("not a valid IBAN")
        assert [i["result"]["outcome"] for i in body["results"] if i["result"]] == [
            "match",
            "close_match",
            "not_possible",
            "not_possible",
        ]
        assert body["counts"] == {"match": 1, "error": 1, "close_match": 1, "not_possible": 2}

    def test_an_oversized_bulk_request_is_refused(self, client: TestClient, payer_token: str) -> None:
        limit = client.app.state.settings.vop_bulk_max  # type: ignore[attr-defined]
        checks = [{"account": JOINT, "name": "A"}] * (limit + 1)
        response = client.post("/api/v1/vop/bulk", json={"checks": checks}, headers=auth(payer_token))
        assert response.status_code == 413
        assert response.json()["error"] == "too_many_checks"


def test_an_unreachable_register_answers_not_possible() -> None:
    # A server that is not there: the check must say so rather than fail or guess.
    engine = create_engine("postgresql+psycopg://saldo@127.0.0.1:9/none", connect_args={"connect_timeout": 2})
    with Session(engine) as session:
        result = check_payee(session, VopCheckIn(account=JOINT, name="Anna"), thresholds=Thresholds())
    assert (result.outcome.value, result.reason) == ("not_possible", "register_unavailable")
