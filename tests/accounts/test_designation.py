"""Designated accounts: one per payee, changed with a record of who/when/how and a letter."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from saldo.accounts.models import Letter
from tests.factories import account_record, auth, pnr, se_iban

ANNA = (pnr(1), "Anna Andersson")
BERIT = (pnr(2), "Berit Lind")


@pytest.fixture
def accounts(client: TestClient, bank_token: str) -> None:
    records = [account_record(se_iban(1), ANNA), account_record(se_iban(2), ANNA), account_record(se_iban(3), BERIT)]
    assert client.post("/api/v1/bank/accounts", json={"accounts": records}, headers=auth(bank_token)).status_code == 200


def designate(client: TestClient, token: str, person: str, account: str) -> tuple[int, dict[str, object]]:
    body = {"payee": {"identifier": person}, "account": account}
    response = client.post("/api/v1/bank/designations", json=body, headers=auth(token))
    result: dict[str, object] = response.json()
    return response.status_code, result


@pytest.mark.usefixtures("accounts")
class TestDesignating:
    def test_a_change_is_recorded_and_told_by_letter(
        self, client: TestClient, bank_token: str, session: Session
    ) -> None:
        status, first = designate(client, bank_token, ANNA[0], se_iban(1))
        assert status == 200, first
        assert (first["changed"], first["previous_account"], first["channel"]) == (True, None, "bank")
        status, second = designate(client, bank_token, ANNA[0], se_iban(2))
        assert (second["changed"], second["previous_account"]) == (True, se_iban(1))
        letters = session.scalars(select(Letter).order_by(Letter.id)).all()
        assert [letter.id for letter in letters] == [first["letter_id"], second["letter_id"]]
        payload = letters[-1].payload
        assert payload["account"] == f"{se_iban(2)[:4]} **** {se_iban(2)[-4:]}"  # never the full number
        assert payload["channel"] == "bank"
        assert letters[-1].status == "pending"

    def test_designating_the_same_account_again_changes_nothing(self, client: TestClient, bank_token: str) -> None:
        designate(client, bank_token, ANNA[0], se_iban(1))
        status, again = designate(client, bank_token, ANNA[0], se_iban(1))
        assert (status, again["changed"], again["letter_id"]) == (200, False, None)

    def test_only_an_account_the_payee_holds(self, client: TestClient, bank_token: str) -> None:
        status, body = designate(client, bank_token, ANNA[0], se_iban(3))
        assert (status, body["error"], body["detail"]) == (
            422,
            "designation_refused",
            "the payee does not hold this account",
        )

    def test_only_the_banks_own_accounts(self, client: TestClient, other_bank_token: str) -> None:
        status, body = designate(client, other_bank_token, ANNA[0], se_iban(1))
        assert (status, body["error"]) == (404, "not_found")

    def test_the_history_of_designations_cannot_be_rewritten(
        self, client: TestClient, bank_token: str, session: Session
    ) -> None:
        designate(client, bank_token, ANNA[0], se_iban(1))
        with pytest.raises(DBAPIError, match="refused"), session.begin_nested():
            session.execute(text("UPDATE account_designations SET channel = 'citizen'"))
