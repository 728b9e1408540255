from __future__ import annotations

from saldo.kit.problem import ProblemError


class DecisionFileTooLargeError(ProblemError):
    """A decision upload larger than the size limit."""

    status = 413
    error = "file_too_large"


class DecisionFileEmptyError(ProblemError):
    """A decision upload without a body."""

    status = 422
    error = "file_unreadable"
