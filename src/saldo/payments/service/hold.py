"""Holding a payment before it is sent, and releasing it — a recorded human decision each time.

A hold says who, when and why; it stays in force until someone releases it, again with who, when
and why. A payer may hold and release its own payments; the authority (staff) may hold any
payment, and a hold the authority placed is released by the authority only. A payment is taken
into a run only when its file is written, so a hold placed before that keeps it out of the file;
after that it is sent and can no longer be held. A release sends the payment back through the
account check, so it is verified again before it can go in a run."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from saldo.payments.errors import PaymentNotFoundError, TransitionError
from saldo.payments.models import Payment, PaymentHold, PaymentStatus
from saldo.payments.repository import PaymentRepository
from saldo.payments.service.lifecycle import can_transition

PAYER_ACTOR_PREFIX = "payer:"


def staff_actor(name: str) -> str:
    """The actor of a person at the authority (eID login comes with the web interface)."""
    return f"staff:{name.strip()}"[:100]


def can_hold(status: PaymentStatus, hold_id: int | None) -> bool:
    """A decision can stop the payment: not sent, and no hold in force (one the account check put
    it in may be made a decision)."""
    return hold_id is None and (status is PaymentStatus.HELD or can_transition(status, PaymentStatus.HELD))


def end_hold_by_cancelling(session: Session, payment: Payment, *, actor: str, reason: str) -> None:
    """Close the hold in force on a payment that is being cancelled: cancelled is final, so
    nothing is left to release (the hold's record says how it ended)."""
    if payment.hold_id is None:
        return
    repository = PaymentRepository(session)
    now = dt.datetime.now(dt.UTC)
    repository.set_hold(payment.hold_id, released_by=actor, release_reason=f"cancelled: {reason}", released_at=now)
    repository.set_payment(payment.id, hold_id=None)


def payer_may_release(held_by: str) -> bool:
    """A payer releases its own holds only; the authority's stay the authority's."""
    return held_by.startswith(PAYER_ACTOR_PREFIX)


def _locked(repository: PaymentRepository, payment_id: int, payer_id: int | None) -> Payment:
    payment = repository.lock_for_payer(payer_id, payment_id) if payer_id is not None else repository.lock(payment_id)
    if payment is None:
        raise PaymentNotFoundError(f"no payment {payment_id}" + (" for this payer" if payer_id is not None else ""))
    return payment


def hold_payment(
    session: Session, *, payment_id: int, actor: str, reason: str, payer_id: int | None = None
) -> PaymentHold:
    """Stop a payment that has not been sent. ``payer_id`` scopes the lookup to that payer's payments."""
    repository = PaymentRepository(session)
    payment = _locked(repository, payment_id, payer_id)
    if payment.hold_id is not None:
        raise TransitionError(f"payment {payment_id} is already held (hold {payment.hold_id}); release it first")
    if not can_hold(payment.status, None):
        raise TransitionError(f"payment {payment_id} is {payment.status.value} and can no longer be held")
    current = payment.status  # read before the UPDATE, which refreshes the loaded payment
    hold = repository.add_hold(PaymentHold(payment_id=payment_id, held_by=actor, reason=reason.strip()))
    repository.set_payment(payment_id, status=PaymentStatus.HELD, hold_id=hold.id)
    repository.add_event(payment_id, current, PaymentStatus.HELD, actor=actor, reason=f"held: {hold.reason}")
    session.flush()
    return hold


def release_payment(
    session: Session, *, payment_id: int, actor: str, reason: str, payer_id: int | None = None
) -> PaymentHold:
    """Lift the hold in force; the payment is registered again and goes through the account check."""
    repository = PaymentRepository(session)
    payment = _locked(repository, payment_id, payer_id)
    hold = repository.get_hold(payment.hold_id) if payment.hold_id is not None else None
    if hold is None or payment.status is not PaymentStatus.HELD:
        raise TransitionError(f"payment {payment_id} is not held by a decision; there is nothing to release")
    if actor.startswith(PAYER_ACTOR_PREFIX) and not payer_may_release(hold.held_by):
        raise TransitionError(f"payment {payment_id} was held by the payment authority; only it can release it")
    now = dt.datetime.now(dt.UTC)
    repository.set_hold(hold.id, released_by=actor, release_reason=reason.strip(), released_at=now)
    repository.set_payment(payment_id, status=PaymentStatus.REGISTERED, hold_id=None, account_check=None)
    repository.add_event(
        payment_id, PaymentStatus.HELD, PaymentStatus.REGISTERED, actor=actor, reason=f"released: {reason.strip()}"
    )
    session.flush()
    session.refresh(hold)
    return hold
