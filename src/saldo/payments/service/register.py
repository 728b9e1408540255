"""Registering one payment: validate, find or create the payee, insert idempotently."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from saldo.payees.service import resolve_payee
from saldo.payers.schemas import PayerPrincipal
from saldo.payments.errors import PaymentRejectedError, ReferenceConflictError
from saldo.payments.models import PaymentStatus
from saldo.payments.repository import CONTENT_COLUMNS, PaymentRepository
from saldo.payments.schemas import PaymentIn, PaymentOut
from saldo.payments.service.policy import RegistrationPolicy, build_validator
from saldo.payments.service.query import payment_out
from saldo.payments.service.records import RecordRejectedError, ValidPayment


def initial_status(payer: PayerPrincipal) -> PaymentStatus:
    """What a payment starts as: registered, to be checked and paid by Saldo; or reported, when the
    payer is connected for analysis only and has paid it through its own bank."""
    return PaymentStatus.REGISTERED if payer.connection_model.pays_through_saldo else PaymentStatus.REPORTED


def payer_actor(payer: PayerPrincipal) -> str:
    if payer.user_id is not None:
        return f"payer:{payer.payer_id}:user:{payer.user_id}"
    return f"payer:{payer.payer_id}:token:{payer.token_id}"


def register_payment(
    session: Session, *, payer: PayerPrincipal, payment: PaymentIn, policy: RegistrationPolicy, today: dt.date
) -> tuple[PaymentOut, bool]:
    """Register one payment. Returns (payment, created); an identical re-send returns the original."""
    validator = build_validator(session, payer.payer_id, policy, today)
    try:
        valid = validator.validate(payment.as_record())
    except RecordRejectedError as exc:
        raise PaymentRejectedError(exc.errors) from exc
    payee_id = resolve_payee(session, valid.payee_scheme, valid.payee_identifier)
    repository = PaymentRepository(session)
    values = dict(zip(CONTENT_COLUMNS, valid.content(payee_id), strict=True))
    status = initial_status(payer)
    inserted = repository.insert_registered(
        {"payer_id": payer.payer_id, "reference": valid.reference, **values}, status=status
    )
    if inserted is None:
        return _existing(repository, payer.payer_id, valid, payee_id), False
    payment_id, registered_at = inserted
    return registered_payment_out(valid, payment.benefit.strip(), payment_id, registered_at, status), True


def registered_payment_out(
    valid: ValidPayment,
    benefit_code: str,
    payment_id: int,
    registered_at: dt.datetime,
    status: PaymentStatus = PaymentStatus.REGISTERED,
) -> PaymentOut:
    """The answer for a payment just registered, without reading it back."""
    return PaymentOut.model_validate(
        {
            "id": payment_id,
            "reference": valid.reference,
            "status": status.value,
            "payee_scheme": valid.payee_scheme,
            "payee_id": valid.payee_identifier,
            "payee_name": valid.payee_name,
            "benefit": benefit_code,
            "amount_minor": valid.amount_minor,
            "currency": valid.currency,
            "decision_reference": valid.decision_reference,
            "period_start": valid.period_start,
            "period_end": valid.period_end,
            "due_date": valid.due_date,
            "account_scheme": valid.account_scheme,
            "account": valid.account_number,
            "remittance_info": valid.remittance_info,
            "batch_id": None,
            "registered_at": registered_at,
            "updated_at": registered_at,
        }
    )


def _existing(repository: PaymentRepository, payer_id: int, valid: ValidPayment, payee_id: int) -> PaymentOut:
    row = repository.get_by_reference(payer_id, valid.reference)
    assert row is not None
    stored = tuple(getattr(row[0], c) for c in CONTENT_COLUMNS)
    differing = [c for c, old, new in zip(CONTENT_COLUMNS, stored, valid.content(payee_id), strict=True) if old != new]
    if differing:
        raise ReferenceConflictError(valid.reference, row[0].id, differing)
    return payment_out(row)
