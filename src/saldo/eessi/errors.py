from __future__ import annotations

from saldo.kit.problem import ProblemError


class ExchangeError(ProblemError):
    """Base of the cross-border exchange's errors."""


class ExchangeNotConfiguredError(ExchangeError):
    """This node has no EESSI institution id, keys or directory: the exchange does not exist here."""

    status = 404
    error = "exchange_not_configured"


class CaseNotFoundError(ExchangeError, LookupError):
    """No cross-border case with this id."""

    status = 404
    error = "not_found"


class SedNotAllowedError(ExchangeError):
    """The BUC's state machine does not allow this SED now, or the partner does not take part in the BUC."""

    status = 409
    error = "sed_not_allowed"


class InvalidSedError(ExchangeError, ValueError):
    """A SED's fields do not fit its type (the detail names the field)."""

    status = 422
    error = "invalid_sed"
