"""The public start page and health check, and what every caller sees when the database is down."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from saldo.app import create_app
from saldo.payments.service.query import registry_overview
from saldo.settings import Settings
from tests.conftest import serve_in_thread
from tests.factories import account_record, auth, make_payer, make_token, payment_body, pnr, se_iban


def test_start_page_says_what_is_here_and_how_to_call_it(client: TestClient, session: Session) -> None:
    payer = make_payer(session, name="Exempelkommunen")
    token = make_token(session, payer)
    session.commit()
    client.post("/api/v1/payments", json=payment_body(), headers=auth(token))
    page = client.get("/")
    assert page.status_code == 200
    assert "Exempelkommunen" in page.text
    assert "Authorization: Bearer $TOKEN" in page.text
    assert "Barnbidrag" in page.text  # the catalogue
    assert '<span class="pill">Registrerad 1</span>' in page.text


def test_start_page_shows_the_account_register_and_its_banks(
    client: TestClient, session: Session, bank_token: str
) -> None:
    record = account_record(se_iban(1), (pnr(1), "Anna Andersson"))
    client.post("/api/v1/bank/accounts", json={"accounts": [record]}, headers=auth(bank_token))
    page = client.get("/")
    assert "<td>SEB</td><td><code>ESSESESS</code></td>" in page.text
    assert "<dt>Accounts</dt><dd>1</dd>" in page.text
    assert "/api/v1/vop/checks" in page.text


def test_start_page_shows_the_payment_runs(client: TestClient) -> None:
    page = client.get("/")
    assert "<dt>Runs</dt><dd>0</dd>" in page.text
    assert "<dt>Unmatched bank entries</dt><dd>0</dd>" in page.text
    assert "/api/v1/bank/payment-messages" in page.text


def test_health_reports_a_reachable_database(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_an_unreachable_database_is_a_503_that_names_no_host(settings: Settings) -> None:
    dead = create_engine("postgresql+psycopg://saldo@127.0.0.1:9/none", connect_args={"connect_timeout": 2})
    with TestClient(create_app(settings.model_copy(update={"fast_path": False}), engine=dead)) as client:
        response = client.get("/api/v1/payer", headers={"Authorization": "Bearer saldo_00000000_x"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json()["error"] == "unavailable"
    assert "127.0.0.1" not in response.text


def test_a_large_registry_is_shown_with_postgresql_s_estimates(client: TestClient, session: Session) -> None:
    token = make_token(session, make_payer(session, name="Exempelkommunen"))
    session.commit()
    for n in range(3):
        body = payment_body(reference=f"EST-{n}", payee_id=pnr(n + 1))
        assert client.post("/api/v1/payments", json=body, headers=auth(token)).status_code == 201
    assert "estimated" not in registry_overview(session)  # a small registry is counted exactly
    session.execute(text("ANALYZE payments"))
    session.execute(text("ANALYZE payees"))
    estimated = registry_overview(session, exact_up_to=0)  # as if the registry were large
    assert estimated == {"payees": 3, "payments": 3, "by_status": {"registered": 3}, "estimated": True}


def test_with_the_database_down_every_caller_gets_a_503_at_once_fast_paths_included(settings: Settings) -> None:
    """Not only the first few: twenty callers at once, on the fast paths' own pool as well, each told
    to come back (Retry-After) instead of waiting for the pool's connection timeout (30 s by default)."""
    dead = "postgresql+psycopg://saldo@127.0.0.1:9/none"
    app = create_app(settings.model_copy(update={"fast_path": True, "database_url": dead}))
    url, stop = serve_in_thread(app)
    token = {"Authorization": "Bearer saldo_00000000_x"}
    calls = [
        ("POST", "/api/v1/payments", {"json": payment_body(), "headers": token}),
        ("POST", "/api/v1/vop/checks", {"json": {"account": se_iban(1), "name": "Anna"}, "headers": token}),
        ("GET", "/api/v1/me/overview", {"cookies": {"saldo_session": "x"}}),
    ]

    def call(n: int) -> tuple[int, str | None, float]:
        method, path, options = calls[n % len(calls)]
        started = time.monotonic()
        response = httpx.request(method, url + path, timeout=60, **options)  # type: ignore[arg-type]
        return response.status_code, response.headers.get("Retry-After"), time.monotonic() - started

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(call, range(20)))
    finally:
        stop()
    assert {(status, retry) for status, retry, _ in answers} == {(503, "5")}
    assert max(seconds for _, _, seconds in answers) < 5  # the pool alone would have held them for 30 s
