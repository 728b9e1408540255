"""Cancelling, the status history, and the guarantees the database keeps on its own."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from saldo.payments.models import PaymentStatus
from saldo.payments.repository import PaymentRepository
from saldo.payments.service.lifecycle import CANCELLABLE, TRANSITIONS, can_transition
from tests.factories import auth, payment_body


class TestCancel:
    def test_registered_payment_is_cancelled_with_its_reason_in_the_history(
        self, client: TestClient, token: str
    ) -> None:
        payment = client.post("/api/v1/payments", json=payment_body(), headers=auth(token)).json()
        response = client.post(
            f"/api/v1/payments/{payment['id']}/cancel", json={"reason": "Beslutet ändrat"}, headers=auth(token)
        )
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        history = client.get(f"/api/v1/payments/{payment['id']}/history", headers=auth(token)).json()
        assert [(h["from_status"], h["to_status"]) for h in history] == [
            (None, "registered"),
            ("registered", "cancelled"),
        ]
        assert history[1]["reason"] == "Beslutet ändrat"
        assert history[1]["actor"].startswith("payer:")

    def test_cancelling_twice_is_refused(self, client: TestClient, token: str) -> None:
        payment = client.post("/api/v1/payments", json=payment_body(), headers=auth(token)).json()
        client.post(f"/api/v1/payments/{payment['id']}/cancel", json={"reason": "x"}, headers=auth(token))
        again = client.post(f"/api/v1/payments/{payment['id']}/cancel", json={"reason": "x"}, headers=auth(token))
        assert again.status_code == 409
        assert "cancelled and can no longer be cancelled" in again.json()["detail"]

    def test_sent_payment_can_no_longer_be_cancelled(self, client: TestClient, token: str, session: Session) -> None:
        payment = client.post("/api/v1/payments", json=payment_body(), headers=auth(token)).json()
        repository = PaymentRepository(session)
        for status in (PaymentStatus.VERIFIED, PaymentStatus.SCHEDULED, PaymentStatus.SENT):
            locked = repository.lock_for_payer(payment_payer(session, payment["id"]), payment["id"])
            assert locked is not None
            repository.move(locked, status, actor="system", reason="test")
        session.commit()
        response = client.post(f"/api/v1/payments/{payment['id']}/cancel", json={"reason": "x"}, headers=auth(token))
        assert response.status_code == 409
        history = client.get(f"/api/v1/payments/{payment['id']}/history", headers=auth(token)).json()
        assert [h["to_status"] for h in history] == ["registered", "verified", "scheduled", "sent"]

    def test_cancel_needs_a_reason(self, client: TestClient, token: str) -> None:
        payment = client.post("/api/v1/payments", json=payment_body(), headers=auth(token)).json()
        response = client.post(f"/api/v1/payments/{payment['id']}/cancel", json={"reason": ""}, headers=auth(token))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "reason"


def payment_payer(session: Session, payment_id: int) -> int:
    return int(session.execute(text("SELECT payer_id FROM payments WHERE id = :id"), {"id": payment_id}).scalar_one())


class TestLifecycle:
    def test_money_once_sent_cannot_be_cancelled_or_held(self) -> None:
        assert PaymentStatus.SENT not in CANCELLABLE
        assert not can_transition(PaymentStatus.SENT, PaymentStatus.HELD)

    def test_every_status_has_its_transitions_defined(self) -> None:
        assert set(TRANSITIONS) == set(PaymentStatus)

    def test_final_statuses_lead_nowhere(self) -> None:
        for final in (PaymentStatus.REJECTED, PaymentStatus.RETURNED, PaymentStatus.CANCELLED):
            assert TRANSITIONS[final] == frozenset()


class TestDatabaseGuarantees:
    def test_history_cannot_be_rewritten(self, client: TestClient, token: str, connection: Connection) -> None:
        payment = client.post("/api/v1/payments", json=payment_body(), headers=auth(token)).json()
        client.post(f"/api/v1/payments/{payment['id']}/cancel", json={"reason": "x"}, headers=auth(token))
        for statement in ("UPDATE payment_events SET reason = 'changed'", "DELETE FROM payment_events"):
            savepoint = connection.begin_nested()
            with pytest.raises(DBAPIError, match=r"append-only|refused"):
                connection.execute(text(statement))
            savepoint.rollback()

    @pytest.mark.parametrize("table", ["payers", "payees", "benefits", "payment_batches"])
    def test_rows_payments_refer_to_are_never_removed(self, connection: Connection, table: str) -> None:
        savepoint = connection.begin_nested()
        with pytest.raises(DBAPIError, match="refused"):
            connection.execute(text(f"DELETE FROM {table}"))
        savepoint.rollback()
