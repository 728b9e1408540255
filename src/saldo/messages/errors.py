from __future__ import annotations

from saldo.kit.problem import ProblemError


class MessageError(ProblemError):
    """Base of the payer messages domain's errors."""


class InvalidWebhookError(MessageError):
    """The webhook URL is not an http(s) URL Saldo can deliver to."""

    status = 422
    error = "invalid_webhook"


class NoWebhookError(MessageError, LookupError):
    """The payer has no webhook."""

    status = 404
    error = "not_found"
