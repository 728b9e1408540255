from __future__ import annotations

from saldo.kit.problem import ProblemError


class PayerError(ProblemError):
    """Base of the payer domain's errors."""


class PayerExistsError(PayerError):
    """A payer with this organisation number is already connected."""

    status = 409
    error = "conflict"


class UnknownPayerError(PayerError, LookupError):
    """No connected payer has this organisation number or id."""

    status = 404
    error = "not_found"


class InvalidTokenError(PayerError):
    """The API token is malformed, unknown or revoked."""

    status = 401
    error = "unauthenticated"


class InvalidPayerError(PayerError, ValueError):
    """The payer's details contradict what is registered (e.g. its debtor account's bank)."""

    status = 422
    error = "invalid_payer"
