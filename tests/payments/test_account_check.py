"""The pre-payment check: a payment goes only to an open account its payee holds (and designated)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from saldo.kit.clock import today
from saldo.payments.jobs import run_account_check
from saldo.payments.models import AccountCheck
from saldo.payments.service.verify import check_payment_accounts
from tests.factories import (
    VALID_PNR,
    account_record,
    auth,
    payment_body,
    pnr,
    se_iban,
)

OWN, SOMEONE_ELSES, CLOSED, SECOND_OWN = se_iban(1), se_iban(2), se_iban(3), se_iban(4)


@pytest.fixture
def register(client: TestClient, bank_token: str) -> None:
    anna = (VALID_PNR, "Anna Andersson")
    closed_on = (today() - dt.timedelta(days=3)).isoformat()
    records = [
        account_record(OWN, anna),
        account_record(SOMEONE_ELSES, (pnr(9), "Berit Lind")),
        account_record(CLOSED, anna, closed_on=closed_on),
        account_record(SECOND_OWN, anna),
    ]
    assert client.post("/api/v1/bank/accounts", json={"accounts": records}, headers=auth(bank_token)).status_code == 200


def register_payment(client: TestClient, token: str, account: str) -> int:
    response = client.post("/api/v1/payments", json=payment_body(account=account), headers=auth(token))
    assert response.status_code == 201, response.text
    payment_id: int = response.json()["id"]
    return payment_id


def payment(client: TestClient, token: str, payment_id: int) -> dict[str, object]:
    body: dict[str, object] = client.get(f"/api/v1/payments/{payment_id}", headers=auth(token)).json()
    return body


@pytest.mark.usefixtures("register")
class TestAccountCheck:
    def test_each_payment_is_verified_or_held_with_its_reason(
        self, client: TestClient, token: str, session: Session
    ) -> None:
        ids = {
            account: register_payment(client, token, account) for account in (OWN, SOMEONE_ELSES, CLOSED, se_iban(77))
        }
        summary = check_payment_accounts(session)
        session.commit()
        assert summary.verified == 1
        assert summary.held == {
            AccountCheck.NOT_HOLDER: 1,
            AccountCheck.ACCOUNT_CLOSED: 1,
            AccountCheck.ACCOUNT_UNKNOWN: 1,
        }
        seen = {account: payment(client, token, pid) for account, pid in ids.items()}
        assert [(p["status"], p["account_check"]) for p in seen.values()] == [
            ("verified", "passed"),
            ("held", "not_holder"),
            ("held", "account_closed"),
            ("held", "account_unknown"),
        ]
        history = client.get(f"/api/v1/payments/{ids[SOMEONE_ELSES]}/history", headers=auth(token)).json()
        assert history[-1]["to_status"] == "held"
        assert history[-1]["actor"] == "system:account-check"
        assert history[-1]["reason"] == "account check: the payee does not hold this account"

    def test_a_designated_account_is_the_only_one_paid_to(
        self, client: TestClient, token: str, bank_token: str, session: Session
    ) -> None:
        body = {"payee": {"identifier": VALID_PNR}, "account": SECOND_OWN}
        assert client.post("/api/v1/bank/designations", json=body, headers=auth(bank_token)).status_code == 200
        to_other = register_payment(client, token, OWN)
        to_designated = register_payment(client, token, SECOND_OWN)
        check_payment_accounts(session)
        session.commit()
        assert payment(client, token, to_other)["account_check"] == "not_designated"
        assert payment(client, token, to_designated)["status"] == "verified"

    def test_a_held_payment_is_verified_once_the_register_is_corrected(
        self, client: TestClient, token: str, bank_token: str, session: Session
    ) -> None:
        held = register_payment(client, token, SOMEONE_ELSES)
        check_payment_accounts(session)
        session.commit()
        joint = account_record(SOMEONE_ELSES, (pnr(9), "Berit Lind"), (VALID_PNR, "Anna Andersson"))
        assert (
            client.post("/api/v1/bank/accounts", json={"accounts": [joint]}, headers=auth(bank_token)).status_code
            == 200
        )
        again = check_payment_accounts(session)
        session.commit()
        assert (again.verified, again.moved) == (1, 1)
        seen = payment(client, token, held)
        assert (seen["status"], seen["account_check"]) == ("verified", "passed")
        statuses = [e["to_status"] for e in client.get(f"/api/v1/payments/{held}/history", headers=auth(token)).json()]
        assert statuses == ["registered", "held", "verified"]

    def test_checking_twice_changes_nothing_the_second_time(
        self, client: TestClient, token: str, session: Session
    ) -> None:
        register_payment(client, token, se_iban(77))
        check_payment_accounts(session)
        again = check_payment_accounts(session)
        assert (again.checked, again.moved) == (1, 0)

    def test_a_verified_payment_is_not_checked_again(self, client: TestClient, token: str, session: Session) -> None:
        register_payment(client, token, OWN)
        check_payment_accounts(session)
        assert check_payment_accounts(session).checked == 0


@pytest.mark.usefixtures("register")
def test_a_check_in_parts_checks_each_payment_once(
    client: TestClient, token: str, sessions: sessionmaker[Session]
) -> None:
    accounts = [OWN, SOMEONE_ELSES, CLOSED, se_iban(77), OWN, OWN, SOMEONE_ELSES]
    for account in accounts:
        register_payment(client, token, account)
    summary = run_account_check(sessions, workers=1, chunk_ids=2)  # four parts of at most two ids
    assert (summary.checked, summary.verified, summary.moved) == (7, 3, 7)
    assert summary.held == {
        AccountCheck.NOT_HOLDER: 2,
        AccountCheck.ACCOUNT_CLOSED: 1,
        AccountCheck.ACCOUNT_UNKNOWN: 1,
    }
    assert run_account_check(sessions, workers=1, chunk_ids=2).moved == 0
