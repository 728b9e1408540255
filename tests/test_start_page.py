"""The public start page and health check."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import auth, make_payer, make_token, payment_body


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
    assert '<span class="pill">registered 1</span>' in page.text


def test_health_reports_a_reachable_database(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
