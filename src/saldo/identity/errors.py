from __future__ import annotations


class IdentityError(Exception):
    """Base of identity errors."""


class LoginRefusedError(IdentityError):
    """A login that came back but cannot open a session (unknown or stale attempt, no staff member)."""


class NotLoggedInError(IdentityError):
    """A page or endpoint that needs a logged-in person was asked without one."""


class CsrfError(IdentityError):
    """A form was sent without the session's CSRF token."""


class NotActingError(IdentityError):
    """A member of staff opened a citizen's page without choosing the citizen they serve."""
