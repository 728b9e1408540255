from __future__ import annotations

from saldo.kit.problem import ProblemError


class IdentityError(ProblemError):
    """Base of identity errors."""


class LoginRefusedError(IdentityError):
    """A login that came back but cannot open a session (unknown or stale attempt, no staff member)."""

    status = 403
    error = "login_refused"


class NotLoggedInError(IdentityError):
    """A page or endpoint that needs a logged-in person was asked without one."""

    status = 401
    error = "unauthenticated"


class CsrfError(IdentityError):
    """A form was sent without the session's CSRF token."""

    status = 403
    error = "csrf"


class NotActingError(IdentityError):
    """A member of staff opened a citizen's page without choosing the citizen they serve."""

    status = 403
    error = "not_acting"
