from __future__ import annotations

from saldo.kit.problem import ProblemError


class BankError(ProblemError):
    """Base of the bank domain's errors."""


class BankExistsError(BankError):
    """A bank with this BIC is already connected."""

    status = 409
    error = "conflict"


class UnknownBankError(BankError, LookupError):
    """No connected bank has this BIC or id."""

    status = 404
    error = "not_found"


class InvalidBankError(BankError, ValueError):
    """The bank's BIC or name is not acceptable."""

    status = 422
    error = "invalid_bank"


class InvalidBankTokenError(BankError):
    """The bank API token is malformed, unknown or revoked."""

    status = 401
    error = "unauthenticated"
