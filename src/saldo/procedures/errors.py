from __future__ import annotations

from saldo.kit.problem import ProblemError


class ProcedureError(ProblemError):
    """Base of the online procedures' errors."""


class ApplicationNotFoundError(ProcedureError, LookupError):
    """No application with this reference (of this person, where a person asks)."""

    status = 404
    error = "not_found"


class InvalidApplicationError(ProcedureError, ValueError):
    """An application or a decision that does not hold; the detail names the field and says why."""

    status = 422
    error = "invalid_application"


class ApplicationStateError(ProcedureError):
    """The application is no longer waiting: it was decided or withdrawn (the detail says which)."""

    status = 409
    error = "application_decided"


class AlreadyWaitingError(ProcedureError):
    """The person already has an application of this kind waiting: one at a time."""

    status = 409
    error = "already_waiting"


class ProcedureNotDecidedError(ProcedureError):
    """There is no decision letter before the decision."""

    status = 404
    error = "not_decided"
