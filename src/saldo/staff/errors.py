from __future__ import annotations

from saldo.kit.problem import ProblemError


class StaffError(ProblemError):
    """Base of the staff domain's errors."""


class StaffExistsError(StaffError):
    """A staff member with this username exists already."""

    status = 409
    error = "conflict"


class UnknownStaffError(StaffError, LookupError):
    """No staff member has this username."""

    status = 404
    error = "not_found"


class InvalidStaffTokenError(StaffError):
    """The staff token is malformed, unknown, revoked, or its member is disabled."""

    status = 401
    error = "unauthenticated"


class ForbiddenError(StaffError):
    """The staff member lacks the role this needs."""

    status = 403
    error = "forbidden"
