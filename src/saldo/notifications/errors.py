from __future__ import annotations


class NotificationError(Exception):
    """Base of the notifications domain's errors."""


class NotificationNotFoundError(NotificationError, LookupError):
    """No notification with this id for this payer."""


class OutcomeRejectedError(NotificationError):
    """The outcome does not hold together (e.g. a recovery claim without an amount)."""


class NothingToNotifyError(NotificationError):
    """The case has no payment in the registry to tell a payer about."""
