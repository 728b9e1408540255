from __future__ import annotations

from saldo.payments.service.records import FieldError


class PaymentError(Exception):
    """Base of the payment domain's errors."""


class PaymentNotFoundError(PaymentError, LookupError):
    """No payment with that id or reference belongs to the calling payer."""


class ReferenceConflictError(PaymentError):
    """The payer's reference is already used for a payment with different content."""

    def __init__(self, reference: str, payment_id: int, fields: list[str]) -> None:
        super().__init__(
            f"reference {reference!r} is already used by payment {payment_id} with different "
            f"{', '.join(fields)}; a reference identifies one payment"
        )
        self.reference = reference
        self.payment_id = payment_id
        self.fields = fields


class TransitionError(PaymentError):
    """The payment's status does not allow the requested change."""


class PaymentRejectedError(PaymentError):
    """One payment failed validation."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors


class BatchFormatError(PaymentError):
    """The batch as a whole cannot be read: wrong format, missing columns, malformed syntax."""

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.reason = reason
        self.line = line


class BatchTooLargeError(PaymentError):
    """The batch exceeds the configured size limit."""
