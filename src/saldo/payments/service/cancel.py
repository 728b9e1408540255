"""Cancelling a payment the payer no longer wants paid, while it has not been sent."""

from __future__ import annotations

from sqlalchemy.orm import Session

from saldo.payers.schemas import PayerPrincipal
from saldo.payments.errors import PaymentNotFoundError, TransitionError
from saldo.payments.models import PaymentStatus
from saldo.payments.repository import PaymentRepository
from saldo.payments.schemas import PaymentOut
from saldo.payments.service.hold import end_hold_by_cancelling
from saldo.payments.service.lifecycle import can_transition
from saldo.payments.service.query import get_payment
from saldo.payments.service.register import payer_actor


def cancel_payment(session: Session, *, payer: PayerPrincipal, payment_id: int, reason: str) -> PaymentOut:
    """Cancel one of the payer's payments that has not been sent; cancelling twice is refused."""
    repository = PaymentRepository(session)
    payment = repository.lock_for_payer(payer.payer_id, payment_id)
    if payment is None:
        raise PaymentNotFoundError(f"no payment {payment_id} for this payer")
    if not can_transition(payment.status, PaymentStatus.CANCELLED):
        raise TransitionError(f"payment {payment_id} is {payment.status.value} and can no longer be cancelled")
    actor = payer_actor(payer)
    end_hold_by_cancelling(session, payment, actor=actor, reason=reason.strip())
    repository.move(payment, PaymentStatus.CANCELLED, actor=actor, reason=reason.strip())
    session.flush()
    session.expire(payment)
    return get_payment(session, payer_id=payer.payer_id, payment_id=payment_id)
