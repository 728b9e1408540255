from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from saldo.kit.problem import ErrorItem, ProblemError


class AccountError(ProblemError):
    """Base of the account register's errors."""


@dataclass(frozen=True, slots=True)
class RecordError:
    """One bad account record: where (line in a file, record number, field) and why."""

    line: int | None
    record: int | None
    field: str | None
    reason: str


class RecordsRejectedError(AccountError):
    """A set of account records (an API call or a bank file) was refused whole; nothing was applied."""

    status = 422
    error = "records_rejected"

    def __init__(self, message: str, errors: list[RecordError], total: int) -> None:
        super().__init__(message)
        self.errors = errors
        self.total = total

    def problem_items(self) -> list[ErrorItem]:
        return [ErrorItem(line=e.line, record=e.record, field=e.field, reason=e.reason) for e in self.errors]

    def problem_extra(self) -> dict[str, Any]:
        return {"error_total": self.total}


class BankFileUnreadableError(AccountError):
    """The bank file as a whole cannot be read (encoding, header)."""

    status = 422
    error = "file_unreadable"


class BankFileTooLargeError(AccountError):
    """The bank file is larger than an upload may be."""

    status = 413
    error = "file_too_large"


class AccountNotFoundError(AccountError, LookupError):
    """No account with this number is in the register (or not one the caller may see)."""

    status = 404
    error = "not_found"


class DesignationRefusedError(AccountError):
    """The account cannot be designated for this payee (unknown, closed, or held by someone else)."""

    status = 422
    error = "designation_refused"


class TooManyChecksError(AccountError):
    """A bulk verification request has more checks than one request may carry."""

    status = 413
    error = "too_many_checks"


class InvalidCheckError(AccountError, ValueError):
    """A verification request that cannot be checked as given (no name and no identifier, absurd name)."""

    status = 422
    error = "invalid_check"
