"""The test apps answer the plain cases on the fast paths, inside the test's own transaction: every
ordinary API test that registers a payment, checks a payee, lists a payer's payments or opens a
citizen's overview runs the fast path, not only the documented route. Here the documented routes
cannot be reached (their database sessions refuse), so only a fast path can answer."""

from __future__ import annotations

from typing import NoReturn

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import (
    account_record,
    auth,
    make_bank,
    make_bank_token,
    make_payer,
    make_token,
    payment_body,
    pnr,
    se_iban,
)
from tests.web_login import dev_login

PERSON = pnr(7)


class DocumentedRouteReachedError(AssertionError):
    """A request went past the fast path to the documented route."""


def refuse() -> NoReturn:
    raise DocumentedRouteReachedError


@pytest.fixture
def payer_token(session: Session) -> str:
    token = make_token(session, make_payer(session))
    session.commit()
    return token


def test_a_payment_a_payee_check_and_a_listing_are_answered_on_the_fast_path(
    app: FastAPI, client: TestClient, session: Session, payer_token: str
) -> None:
    bank = make_bank_token(session, make_bank(session))
    session.commit()
    record = account_record(se_iban(1), (PERSON, "Anna Andersson"))
    assert client.post("/api/v1/bank/accounts", json={"accounts": [record]}, headers=auth(bank)).status_code == 200
    app.state.session_factory = refuse
    registered = client.post("/api/v1/payments", json=payment_body(payee_id=PERSON), headers=auth(payer_token))
    assert registered.status_code == 201, registered.text
    assert registered.json()["payee_id"] == PERSON
    check = client.post(
        "/api/v1/vop/checks", json={"account": se_iban(1), "name": "Anna Andersson"}, headers=auth(payer_token)
    )
    assert (check.status_code, check.json()["outcome"]) == (200, "match")
    listing = client.get("/api/v1/payments", params={"order": "newest", "limit": 5}, headers=auth(payer_token))
    assert listing.status_code == 200, listing.text
    assert [p["id"] for p in listing.json()["items"]] == [registered.json()["id"]]
    with pytest.raises(DocumentedRouteReachedError):  # and the documented route really is shut
        client.get(f"/api/v1/payments/{registered.json()['id']}", headers=auth(payer_token))


def test_a_citizen_s_overview_is_answered_on_the_fast_path(
    web_app: FastAPI, web: TestClient, session: Session, payer_token: str
) -> None:
    body = payment_body(payee_id=PERSON, amount_minor=125000)
    assert web.post("/api/v1/payments", json=body, headers=auth(payer_token)).status_code == 201
    assert dev_login(web, PERSON).status_code == 303
    web_app.state.session_factory = refuse
    overview = web.get("/api/v1/me/overview")
    assert overview.status_code == 200, overview.text
    assert [p["amount_minor"] for p in overview.json()["payments"]] == [125000]
    page = web.get("/me")
    assert page.status_code == 200
    assert "1 250,00" in page.text.replace("\xa0", " ")
