"""Payers with verified payments, a run's files, and the helpers the mediation tests share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from saldo.app import create_app
from saldo.banks.service import create_bank, find_bank, issue_bank_token
from saldo.kit.clock import today
from saldo.mediation.jobs import JobResources, execute_run
from saldo.mediation.models import PaymentRun
from saldo.mediation.service.runs import plan_payment_runs
from saldo.payers.models import Payer
from saldo.payments.service.verify import check_payment_accounts
from saldo.settings import Settings
from tests.factories import VALID_PNR, account_record, auth, make_payer, make_token, payment_body, se_iban

OWN_ACCOUNT = se_iban(1)


@pytest.fixture
def run_settings(settings: Settings, tmp_path: Path) -> Settings:
    """One writer (the test's transaction is not visible to other processes) and an outbox per test."""
    return settings.model_copy(update={"run_workers": 1, "outbox_dir": tmp_path / "outbox"})


@pytest.fixture
def payer(session: Session, bank_token: str) -> Payer:
    """A payer whose debtor account the bank of ``bank_token`` (SEB) holds."""
    payer = make_payer(session, name="Testkommun", bank_id=find_bank(session, "ESSESESS").id)
    session.commit()
    return payer


@pytest.fixture
def token(session: Session, payer: Payer) -> str:
    token = make_token(session, payer)
    session.commit()
    return token


@pytest.fixture
def register_accounts(client: TestClient, bank_token: str) -> None:
    records = [account_record(OWN_ACCOUNT, (VALID_PNR, "Anna Andersson"))]
    response = client.post("/api/v1/bank/accounts", json={"accounts": records}, headers=auth(bank_token))
    assert response.status_code == 200, response.text


RegisterPayments = Callable[..., list[int]]


@pytest.fixture
def verified(client: TestClient, session: Session, token: str, register_accounts: None) -> RegisterPayments:
    """Register payments through the API and run the account check: they come back verified."""

    def register(n: int, *, due: dt.date | None = None, as_payer: str | None = None, **overrides: object) -> list[int]:
        ids = []
        for _ in range(n):
            body = payment_body(account=OWN_ACCOUNT, due_date=(due or today()).isoformat(), **overrides)
            response = client.post("/api/v1/payments", json=body, headers=auth(as_payer or token))
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        check_payment_accounts(session)
        session.commit()
        return ids

    return register


RunPayments = Callable[..., PaymentRun]


@pytest.fixture
def run_payments(sessions: sessionmaker[Session], session: Session, run_settings: Settings) -> RunPayments:
    """Plan today's runs and execute them here, as the worker would; returns the (only) run."""

    def run(*, max_file: int = 50_000, on: dt.date | None = None, settings: Settings | None = None) -> PaymentRun:
        planned = plan_payment_runs(
            session, execution_date=on or today(), requested_by="staff:test", max_file_transactions=max_file
        )
        session.commit()
        assert len(planned) == 1
        resources = JobResources(settings=settings or run_settings, sessions=sessions, database_url="unused")
        return execute_run(resources, planned[0].id)

    return run


@dataclass
class Live:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    def planned_run(self, payments: int, *, max_file: int) -> PaymentRun:
        """Committed verified payments and today's run for them, queued."""
        with self.sessions() as session:
            bank = create_bank(session, bic="ESSESESS", name="SEB")
            token = make_token(session, make_payer(session, bank_id=bank.id))
            bank_token = issue_bank_token(session, bank_id=bank.id, label="test").token
            session.commit()
        with TestClient(create_app(self.settings, engine=self.engine)) as client:
            record = account_record(se_iban(1), (VALID_PNR, "Anna Andersson"))
            response = client.post("/api/v1/bank/accounts", json={"accounts": [record]}, headers=auth(bank_token))
            assert response.status_code == 200, response.text
            bodies = [payment_body(account=se_iban(1)) for _ in range(payments)]
            response = client.post("/api/v1/payment-batches", json=bodies, headers=auth(token))
            assert response.status_code == 201, response.text
        with self.sessions() as session:
            check_payment_accounts(session)
            [run] = plan_payment_runs(
                session, execution_date=today(), requested_by="staff:test", max_file_transactions=max_file
            )
            session.commit()
        return run
