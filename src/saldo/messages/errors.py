from __future__ import annotations


class MessageError(Exception):
    """Base of the payer messages domain's errors."""


class InvalidWebhookError(MessageError):
    """The webhook URL is not an http(s) URL Saldo can deliver to."""


class NoWebhookError(MessageError, LookupError):
    """The payer has no webhook."""
