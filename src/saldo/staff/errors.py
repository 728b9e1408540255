from __future__ import annotations


class StaffError(Exception):
    """Base of the staff domain's errors."""


class StaffExistsError(StaffError):
    """A staff member with this username exists already."""


class UnknownStaffError(StaffError, LookupError):
    """No staff member has this username."""


class InvalidStaffTokenError(StaffError):
    """The staff token is malformed, unknown, revoked, or its member is disabled."""


class ForbiddenError(StaffError):
    """The staff member lacks the role this needs."""
