from __future__ import annotations

from dataclasses import dataclass


class AccountError(Exception):
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

    def __init__(self, message: str, errors: list[RecordError], total: int) -> None:
        super().__init__(message)
        self.errors = errors
        self.total = total


class BankFileUnreadableError(AccountError):
    """The bank file as a whole cannot be read (encoding, header)."""


class BankFileTooLargeError(AccountError):
    """The bank file is larger than an upload may be."""


class AccountNotFoundError(AccountError, LookupError):
    """No account with this number is in the register (or not one the caller may see)."""


class DesignationRefusedError(AccountError):
    """The account cannot be designated for this payee (unknown, closed, or held by someone else)."""


class TooManyChecksError(AccountError):
    """A bulk verification request has more checks than one request may carry."""


class InvalidCheckError(AccountError, ValueError):
    """A verification request that cannot be checked as given (no name and no identifier, absurd name)."""
