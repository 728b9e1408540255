from __future__ import annotations

from saldo.kit.problem import ProblemError


class NotificationError(ProblemError):
    """Base of the notifications domain's errors."""


class NotificationNotFoundError(NotificationError, LookupError):
    """No notification with this id for this payer."""

    status = 404
    error = "not_found"


class OutcomeRejectedError(NotificationError):
    """The outcome does not hold together (e.g. a recovery claim without an amount)."""

    status = 422
    error = "outcome_rejected"


class NothingToNotifyError(NotificationError):
    """The case has no payment in the registry to tell a payer about."""

    status = 409
    error = "nothing_to_notify"
