from __future__ import annotations


class MediationError(Exception):
    """Base of the payment mediation domain's errors."""


class RunNotFoundError(MediationError, LookupError):
    """No payment run with that id (or none the caller may see)."""


class RunError(MediationError):
    """A payment run cannot go on; the message says why and what to do."""


class BankMessageError(MediationError):
    """A bank's message is refused as a whole: nothing in it was applied."""

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(f"line {line}: {reason}" if line else reason)


class BankMessageTooLargeError(MediationError):
    """The uploaded bank message is larger than the configured limit."""
