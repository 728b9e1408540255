"""Registering single payments through the payer API."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from saldo.kit.clock import today
from saldo.mediation.service.runs import plan_payment_runs
from saldo.payers.models import ApiToken, ConnectionModel
from saldo.payers.repository import PayerRepository
from saldo.payers.service import revoke_token
from saldo.payments.schemas import PaymentPage
from saldo.payments.service.verify import check_payment_accounts
from tests.factories import (
    OTHER_PNR,
    VALID_SAMORDNING,
    auth,
    make_payer,
    make_token,
    payment_body,
)


class TestRegisterPayment:
    def test_new_payment_lands_on_the_transaction_account(self, client: TestClient, token: str) -> None:
        body = payment_body(payee_id="19811228-9874")
        response = client.post("/api/v1/payments", json=body, headers=auth(token))
        assert response.status_code == 201
        payment = response.json()
        assert payment["status"] == "registered"
        assert (payment["payee_scheme"], payment["payee_id"]) == ("se_personnummer", "198112289874")  # canonical
        assert payment["amount_minor"] == 125000
        fetched = client.get(f"/api/v1/payments/{payment['id']}", headers=auth(token))
        assert fetched.json() == payment

    def test_samordningsnummer_is_accepted_under_its_own_scheme(self, client: TestClient, token: str) -> None:
        body = payment_body(payee_scheme="se_samordningsnummer", payee_id=VALID_SAMORDNING)
        assert client.post("/api/v1/payments", json=body, headers=auth(token)).status_code == 201

    def test_resent_payment_is_idempotent(self, client: TestClient, token: str) -> None:
        body = payment_body()
        first = client.post("/api/v1/payments", json=body, headers=auth(token))
        again = client.post("/api/v1/payments", json=body, headers=auth(token))
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        listed = client.get("/api/v1/payments", headers=auth(token)).json()["items"]
        assert [p["id"] for p in listed] == [first.json()["id"]]

    def test_same_reference_with_other_content_is_a_conflict(self, client: TestClient, token: str) -> None:
        body = payment_body()
        client.post("/api/v1/payments", json=body, headers=auth(token))
        response = client.post("/api/v1/payments", json={**body, "amount_minor": 99}, headers=auth(token))
        assert response.status_code == 409
        assert response.json()["extra"]["fields"] == ["amount_minor"]

    @pytest.mark.parametrize(
        ("field", "value", "reason"),
        [
            ("payee_id", "198112289875", "check digit"),
            ("payee_id", OTHER_PNR.replace("1843", "1844"), "check digit"),
            ("benefit", "NOPE", "unknown benefit"),
            ("benefit", "IP", "not registered to pay"),
            ("amount_minor", 0, "greater than zero"),
            ("amount_minor", -5, "greater than zero"),
            ("amount_minor", 10**15, "limit"),
            ("currency", "EUR", "SEK only"),
            ("currency", "XXY", "SEK only"),
            ("account", "SE4550000000058398257467", "checksum"),
            ("reference", "has space", "letters, digits"),
            ("period_start", "1999-12-01", "before 2000"),
            ("due_date", "2031-01-01", "within 400 days"),
        ],
    )
    def test_bad_field_is_named_with_a_reason(
        self, client: TestClient, token: str, field: str, value: object, reason: str
    ) -> None:
        response = client.post("/api/v1/payments", json=payment_body(**{field: value}), headers=auth(token))
        assert response.status_code == 422
        errors = response.json()["errors"]
        assert any(e["field"] == field and reason in e["reason"] for e in errors), errors

    def test_every_bad_field_is_reported_at_once(self, client: TestClient, token: str) -> None:
        body = payment_body(payee_id="198112289875", benefit="NOPE", amount_minor=-1)
        fields = {e["field"] for e in client.post("/api/v1/payments", json=body, headers=auth(token)).json()["errors"]}
        assert {"payee_id", "benefit", "amount_minor"} <= fields

    @pytest.mark.parametrize(
        ("field", "value"),
        [("period_end", "2026-02-30"), ("amount_minor", 12.5), ("amount_minor", "125000"), ("payee_scheme", "xx")],
    )
    def test_malformed_json_types_are_rejected(self, client: TestClient, token: str, field: str, value: object) -> None:
        response = client.post("/api/v1/payments", json=payment_body(**{field: value}), headers=auth(token))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field

    def test_organisation_cannot_receive_a_personal_benefit(self, client: TestClient, token: str) -> None:
        body = payment_body(payee_scheme="se_organisationsnummer", payee_id="2120000142")
        errors = client.post("/api/v1/payments", json=body, headers=auth(token)).json()["errors"]
        assert errors == [
            {
                "line": None,
                "record": None,
                "field": "payee_id",
                "reason": "benefit 'EKB' is paid to a person, not an organisation",
            }
        ]

    def test_rejected_payment_stores_nothing(self, client: TestClient, token: str) -> None:
        client.post("/api/v1/payments", json=payment_body(amount_minor=0), headers=auth(token))
        assert client.get("/api/v1/payments", headers=auth(token)).json()["items"] == []

    def test_a_payer_connected_for_analysis_only_reports_what_it_paid_and_saldo_never_pays_it(
        self, client: TestClient, session: Session
    ) -> None:
        payer = make_payer(session, connection_model=ConnectionModel.ANALYSIS_ONLY)
        token = make_token(session, payer)
        session.commit()
        response = client.post("/api/v1/payments", json=payment_body(), headers=auth(token))
        assert response.status_code == 201, response.text
        payment = response.json()
        assert payment["status"] == "reported"
        batch = client.post("/api/v1/payment-batches", json=[payment_body(), payment_body()], headers=auth(token))
        assert batch.status_code == 201, batch.text

        # The account check and the payment runs leave reported payments alone.
        check_payment_accounts(session)
        assert (
            plan_payment_runs(session, execution_date=today(), requested_by="staff:test", max_file_transactions=10)
            == []
        )
        listed = client.get("/api/v1/payments", headers=auth(token)).json()["items"]
        assert [p["status"] for p in listed] == ["reported"] * 3
        history = client.get(f"/api/v1/payments/{payment['id']}/history", headers=auth(token)).json()
        assert [e["to_status"] for e in history] == ["reported"]

        # A report can be withdrawn, not held: there is nothing for Saldo to stop.
        held = client.post(f"/api/v1/payments/{payment['id']}/hold", json={"reason": "check"}, headers=auth(token))
        assert held.status_code == 409, held.text
        cancelled = client.post(
            f"/api/v1/payments/{payment['id']}/cancel", json={"reason": "reported twice"}, headers=auth(token)
        )
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"


class TestAuthentication:
    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"Authorization": "Bearer nonsense"},
            {"Authorization": "Bearer saldo_00000000_unknown"},
            {"Authorization": "Basic dXNlcjpwYXNz"},
        ],
    )
    def test_request_without_a_valid_token_is_refused(self, client: TestClient, headers: dict[str, str]) -> None:
        response = client.get("/api/v1/payments", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    def test_revoked_token_stops_working_at_once(self, client: TestClient, session: Session) -> None:
        payer = make_payer(session)
        token = make_token(session, payer)
        session.commit()
        assert client.get("/api/v1/payer", headers=auth(token)).status_code == 200
        token_id = next(t.id for t in payer_tokens(session, payer.id))
        revoke_token(session, token_id=token_id)
        session.commit()
        assert client.get("/api/v1/payer", headers=auth(token)).status_code == 401

    def test_only_a_hash_of_the_token_is_stored(self, session: Session) -> None:
        payer = make_payer(session)
        token = make_token(session, payer)
        stored = payer_tokens(session, payer.id)[0]
        assert stored.secret_sha256 == hashlib.sha256(token.encode()).digest()
        secret = token.split("_", 2)[2]
        assert all(secret not in str(value) for value in vars(stored).values())
        assert token.split("_")[1] == stored.prefix


def payer_tokens(session: Session, payer_id: int) -> list[ApiToken]:
    return list(PayerRepository(session).tokens(payer_id))


class TestPayerIsolation:
    """A payer can never see or touch another payer's data."""

    @pytest.fixture
    def two_payers(self, client: TestClient, session: Session) -> tuple[str, str, int, int]:
        mine, theirs = make_payer(session, name="Min kommun"), make_payer(session, name="Annan kommun")
        my_token, their_token = make_token(session, mine), make_token(session, theirs)
        session.commit()
        payment = client.post("/api/v1/payments", json=payment_body(), headers=auth(their_token)).json()
        batch = client.post("/api/v1/payment-batches", json=[payment_body()], headers=auth(their_token)).json()
        return my_token, their_token, payment["id"], batch["batch_id"]

    def test_other_payers_payment_does_not_exist_for_me(
        self, client: TestClient, two_payers: tuple[str, str, int, int]
    ) -> None:
        my_token, _, payment_id, batch_id = two_payers
        for path in (
            f"/api/v1/payments/{payment_id}",
            f"/api/v1/payments/{payment_id}/history",
            f"/api/v1/payment-batches/{batch_id}",
        ):
            assert client.get(path, headers=auth(my_token)).status_code == 404, path

    def test_i_cannot_cancel_another_payers_payment(
        self, client: TestClient, two_payers: tuple[str, str, int, int]
    ) -> None:
        my_token, their_token, payment_id, _ = two_payers
        response = client.post(f"/api/v1/payments/{payment_id}/cancel", json={"reason": "x"}, headers=auth(my_token))
        assert response.status_code == 404
        still = client.get(f"/api/v1/payments/{payment_id}", headers=auth(their_token)).json()
        assert still["status"] == "registered"

    def test_listing_shows_only_my_payments(self, client: TestClient, two_payers: tuple[str, str, int, int]) -> None:
        my_token, their_token, _, batch_id = two_payers
        assert client.get("/api/v1/payments", headers=auth(my_token)).json()["items"] == []
        assert client.get(f"/api/v1/payments?batch_id={batch_id}", headers=auth(my_token)).json()["items"] == []
        assert len(client.get("/api/v1/payments", headers=auth(their_token)).json()["items"]) == 2

    def test_pages_walk_my_payments_only_both_ways(
        self, client: TestClient, two_payers: tuple[str, str, int, int]
    ) -> None:
        """Payments of two payers registered in turn: every page, oldest or newest first, from any
        cursor, holds the caller's own payments in order, and the pages together hold each once."""
        my_token, their_token, _, _ = two_payers
        mine = []
        for _ in range(7):
            mine.append(client.post("/api/v1/payments", json=payment_body(), headers=auth(my_token)).json()["id"])
            client.post("/api/v1/payments", json=payment_body(), headers=auth(their_token))
        for order, expected in (("oldest", mine), ("newest", mine[::-1])):
            seen, after = [], None
            while True:
                cursor = f"&after={after}" if after is not None else ""
                page = client.get(f"/api/v1/payments?limit=3&order={order}{cursor}", headers=auth(my_token)).json()
                seen += [item["id"] for item in page["items"]]
                if (after := page["next_after"]) is None:
                    break
            assert seen == expected, order

    def test_a_page_is_the_json_of_its_response_model_byte_for_byte(
        self, client: TestClient, two_payers: tuple[str, str, int, int]
    ) -> None:
        """The listing serialises its page once itself: the bytes are what FastAPI's response model
        gives for the same page, with a hold, a check result and a non-ASCII name among them."""
        _, their_token, payment_id, _ = two_payers
        client.post("/api/v1/payments", json=payment_body(payee_name="Åsa Öberg-Ünal"), headers=auth(their_token))
        held = client.post(
            f"/api/v1/payments/{payment_id}/hold", json={"reason": "Vi kontrollerar"}, headers=auth(their_token)
        )
        assert held.status_code == 200, held.text
        listed = client.get("/api/v1/payments", headers=auth(their_token))
        assert listed.status_code == 200, listed.text
        assert listed.headers["content-type"] == "application/json"
        assert listed.headers["Saldo-Read-From"] == "primary"
        page = PaymentPage.model_validate_json(listed.content)
        assert len(page.items) == 3
        assert any(item.hold is not None for item in page.items)
        assert listed.content == JSONResponse(jsonable_encoder(page)).body

    def test_same_reference_is_independent_per_payer(
        self, client: TestClient, two_payers: tuple[str, str, int, int]
    ) -> None:
        my_token, their_token, payment_id, _ = two_payers
        theirs = client.get(f"/api/v1/payments/{payment_id}", headers=auth(their_token)).json()
        body = payment_body(reference=theirs["reference"], amount_minor=1)
        assert client.post("/api/v1/payments", json=body, headers=auth(my_token)).status_code == 201
        by_ref = client.get(f"/api/v1/payments/by-reference/{theirs['reference']}", headers=auth(my_token)).json()
        assert by_ref["amount_minor"] == 1
