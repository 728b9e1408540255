from __future__ import annotations


class PayerError(Exception):
    """Base of the payer domain's errors."""


class PayerExistsError(PayerError):
    """A payer with this organisation number is already connected."""


class UnknownPayerError(PayerError, LookupError):
    """No connected payer has this organisation number or id."""


class InvalidTokenError(PayerError):
    """The API token is malformed, unknown or revoked."""


class InvalidPayerError(PayerError, ValueError):
    """The payer's details contradict what is registered (e.g. its debtor account's bank)."""
