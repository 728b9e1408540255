from __future__ import annotations


class RegisterError(Exception):
    """Base of the register domain's errors."""


class KeeperExistsError(RegisterError):
    """A register keeper with this organisation number is already connected."""


class UnknownKeeperError(RegisterError, LookupError):
    """No connected register keeper has this organisation number, or no token this id."""


class InvalidKeeperError(RegisterError, ValueError):
    """The keeper's organisation number, name or registers are not acceptable."""


class InvalidKeeperTokenError(RegisterError):
    """The register keeper's API token is malformed, unknown or revoked."""


class NotTheKeeperError(RegisterError, PermissionError):
    """The calling keeper does not keep the register it sent."""


class RegisterFileTooLargeError(RegisterError):
    """A register file over the upload size limit."""


class RegisterFileEmptyError(RegisterError, ValueError):
    """A register upload with no content."""
