from __future__ import annotations

from saldo.kit.problem import ProblemError


class RegisterError(ProblemError):
    """Base of the register domain's errors."""


class KeeperExistsError(RegisterError):
    """A register keeper with this organisation number is already connected."""

    status = 409
    error = "conflict"


class UnknownKeeperError(RegisterError, LookupError):
    """No connected register keeper has this organisation number, or no token this id."""

    status = 404
    error = "not_found"


class InvalidKeeperError(RegisterError, ValueError):
    """The keeper's organisation number, name or registers are not acceptable."""

    status = 422
    error = "invalid_keeper"


class InvalidKeeperTokenError(RegisterError):
    """The register keeper's API token is malformed, unknown or revoked."""

    status = 401
    error = "unauthenticated"


class NotTheKeeperError(RegisterError, PermissionError):
    """The calling keeper does not keep the register it sent."""

    status = 403
    error = "not_the_keeper"


class RegisterFileTooLargeError(RegisterError):
    """A register file over the upload size limit."""

    status = 413
    error = "file_too_large"


class RegisterFileEmptyError(RegisterError, ValueError):
    """A register upload with no content."""

    status = 422
    error = "file_unreadable"
