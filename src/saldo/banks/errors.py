from __future__ import annotations


class BankError(Exception):
    """Base of the bank domain's errors."""


class BankExistsError(BankError):
    """A bank with this BIC is already connected."""


class UnknownBankError(BankError, LookupError):
    """No connected bank has this BIC or id."""


class InvalidBankError(BankError, ValueError):
    """The bank's BIC or name is not acceptable."""


class InvalidBankTokenError(BankError):
    """The bank API token is malformed, unknown or revoked."""
