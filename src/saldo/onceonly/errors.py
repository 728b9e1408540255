"""The once-only exchange's errors, each saying how it looks over HTTP."""

from __future__ import annotations

from saldo.kit.problem import ProblemError


class OnceOnlyError(ProblemError):
    """Base of the once-only exchange's errors."""


class OnceOnlyNotConfiguredError(OnceOnlyError):
    """This node takes no part in the once-only exchange (no directory or party set)."""

    status = 404
    error = "once_only_not_configured"


class DirectoryError(OnceOnlyError, ValueError):
    """The once-only directory cannot be read, or an entry is not as the format says."""

    status = 503
    error = "directory_unreadable"


class ExchangeNotFoundError(OnceOnlyError, LookupError):
    """No such evidence exchange (of this person, where a person asks)."""

    status = 404
    error = "not_found"


class ExchangeStateError(OnceOnlyError):
    """The exchange is not waiting for this step any more (the detail says what it is)."""

    status = 409
    error = "exchange_state"


class NoProviderError(OnceOnlyError, LookupError):
    """No authority in the directory provides this evidence type for that country."""

    status = 422
    error = "no_provider"
