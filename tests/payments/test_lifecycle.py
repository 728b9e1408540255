"""Cancelling, the status history, and the guarantees the database keeps on its own."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from saldo.payers.models import ConnectionModel
from saldo.payers.schemas import PayerPrincipal
from saldo.payments.errors import TransitionError
from saldo.payments.models import PaymentStatus
from saldo.payments.repository import PaymentRepository
from saldo.payments.service.cancel import cancel_payment
from saldo.payments.service.hold import hold_payment, release_payment
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
        for statement in (
            "UPDATE payment_events SET note_id = 0",
            "DELETE FROM payment_events",
            "UPDATE payment_event_notes SET reason = 'changed'",  # nor what a transition says
            "DELETE FROM payment_event_notes",
        ):
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


STEPS = ["hold", "release", "cancel", "verify", "send", "settle", "return"]
SYSTEM_STEPS = {
    "verify": PaymentStatus.VERIFIED,
    "send": PaymentStatus.SENT,
    "settle": PaymentStatus.SETTLED,
    "return": PaymentStatus.RETURNED,
}


class TestEveryDoorKeepsTheTransitionTable:
    """Random sequences of what payers, the account check, runs and banks do to one payment: every
    step either follows the transition table or is refused, the history is one unbroken chain, a
    hold in force means the payment is held, and cancelled is final whatever comes after."""

    @hyp_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=st.lists(st.sampled_from(STEPS), min_size=1, max_size=10))
    @example(steps=["hold", "cancel", "release"])  # a cancelled payment came back as registered
    @example(steps=["verify", "hold"])  # the hold was recorded as held -> held
    def test_random_sequences_of_steps(
        self, client: TestClient, token: str, session: Session, steps: list[str]
    ) -> None:
        pid = client.post("/api/v1/payments", json=payment_body(), headers=auth(token)).json()["id"]
        payer_id = payment_payer(session, pid)
        payer = PayerPrincipal(payer_id, "", "", ConnectionModel.FULL, token_id=0)
        cancelled = False
        for step in steps:
            before = status_now(session, pid)
            try:
                with session.begin_nested():
                    take_step(session, step, pid, payer)
            except TransitionError:
                assert status_now(session, pid) == before  # a refused step changes nothing
            session.expire_all()
            now = status_now(session, pid)
            if cancelled:
                assert now == "cancelled", f"{steps}: {step} moved a cancelled payment to {now}"
            cancelled = now == "cancelled"
            assert_history_is_one_chain(session, pid, now)
            hold_id = session.execute(text("SELECT hold_id FROM payments WHERE id = :p"), {"p": pid}).scalar()
            assert hold_id is None or now == "held"


def take_step(session: Session, step: str, pid: int, payer: PayerPrincipal) -> None:
    """One step through the door each actor uses; a step the table does not allow raises TransitionError."""
    if step == "hold":
        hold_payment(session, payment_id=pid, actor="payer:1:user:1", reason="r", payer_id=payer.payer_id)
    elif step == "release":
        release_payment(session, payment_id=pid, actor="payer:1:user:1", reason="r", payer_id=payer.payer_id)
    elif step == "cancel":
        cancel_payment(session, payer=payer, payment_id=pid, reason="r")
    else:  # the account check, a payment run, the bank: each moves only what the table allows
        repository = PaymentRepository(session)
        locked = repository.lock(pid)
        assert locked is not None
        if not can_transition(locked.status, SYSTEM_STEPS[step]) or locked.hold_id is not None:
            raise TransitionError(f"{step} cannot follow {locked.status.value}")
        repository.move(locked, SYSTEM_STEPS[step], actor="system", reason=step)


def status_now(session: Session, pid: int) -> str:
    return str(session.execute(text("SELECT status FROM payments WHERE id = :p"), {"p": pid}).scalar_one())


def assert_history_is_one_chain(session: Session, pid: int, now: str) -> None:
    events = session.execute(
        text(
            "SELECT e.from_status, e.to_status, n.reason FROM payment_events e "
            "JOIN payment_event_notes n ON n.id = e.note_id WHERE e.payment_id = :p ORDER BY e.id"
        ),
        {"p": pid},
    ).all()
    previous = "registered"
    for from_status, to_status, reason in events:
        assert from_status == previous, events  # each transition starts where the last one ended
        held_again = from_status == to_status == "held" and reason.startswith("held:")
        assert held_again or can_transition(PaymentStatus(from_status), PaymentStatus(to_status)), events
        previous = to_status
    assert previous == now
