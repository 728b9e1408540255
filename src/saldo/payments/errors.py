from __future__ import annotations

from typing import Any

from saldo.kit.problem import ErrorItem, ProblemError
from saldo.payments.service.records import FieldError


class PaymentError(ProblemError):
    """Base of the payment domain's errors."""


class PaymentNotFoundError(PaymentError, LookupError):
    """No payment with that id or reference belongs to the calling payer."""

    status = 404
    error = "not_found"


class ReferenceConflictError(PaymentError):
    """The payer's reference is already used for a payment with different content."""

    status = 409
    error = "reference_conflict"

    def __init__(self, reference: str, payment_id: int, fields: list[str]) -> None:
        super().__init__(
            f"reference {reference!r} is already used by payment {payment_id} with different "
            f"{', '.join(fields)}; a reference identifies one payment"
        )
        self.reference = reference
        self.payment_id = payment_id
        self.fields = fields

    def problem_extra(self) -> dict[str, Any]:
        return {"payment_id": self.payment_id, "fields": self.fields}


class TransitionError(PaymentError):
    """The payment's status does not allow the requested change."""

    status = 409
    error = "conflict"


class PaymentRejectedError(PaymentError):
    """One payment failed validation."""

    status = 422
    error = "payment_rejected"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors

    def problem_detail(self) -> str:
        return "the payment was not registered"

    def problem_items(self) -> list[ErrorItem]:
        return [ErrorItem(line=None, record=None, field=e.field, reason=e.reason) for e in self.errors]


class BatchFormatError(PaymentError):
    """The batch as a whole cannot be read: wrong format, missing columns, malformed syntax."""

    status = 422
    error = "batch_unreadable"

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.reason = reason
        self.line = line


class BatchTooLargeError(PaymentError):
    """The batch exceeds the configured size limit."""

    status = 413
    error = "batch_too_large"
