from __future__ import annotations

from saldo.kit.problem import ErrorItem, ProblemError


class MediationError(ProblemError):
    """Base of the payment mediation domain's errors."""


class RunNotFoundError(MediationError, LookupError):
    """No payment run with that id (or none the caller may see)."""

    status = 404
    error = "not_found"


class RunError(MediationError):
    """A payment run cannot go on; the message says why and what to do."""

    status = 409
    error = "conflict"


class BankMessageError(MediationError):
    """A bank's message is refused as a whole: nothing in it was applied."""

    status = 422
    error = "message_refused"

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(f"line {line}: {reason}" if line else reason)

    def problem_detail(self) -> str:
        return f"nothing was applied: {self}"

    def problem_items(self) -> list[ErrorItem]:
        return [ErrorItem(line=self.line, record=None, field=None, reason=self.reason)]


class BankMessageTooLargeError(MediationError):
    """The uploaded bank message is larger than the configured limit."""

    status = 413
    error = "file_too_large"
