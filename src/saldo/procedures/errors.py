from __future__ import annotations

from typing import Any

from saldo.kit.problem import ProblemError


class ProcedureError(ProblemError):
    """Base of the online procedures' errors."""


class ApplicationNotFoundError(ProcedureError, LookupError):
    """No application with this reference (of this person, where a person asks)."""

    status = 404
    error = "not_found"


class InvalidApplicationError(ProcedureError, ValueError):
    """An application or a decision that does not hold; the detail names the field and says why, and
    ``field`` and ``code`` say it for the pages to put in the person's language."""

    status = 422
    error = "invalid_application"

    def __init__(self, detail: str, *, code: str = "invalid", field: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.field = field if field is not None else (detail.split(":", 1)[0] if ": " in detail else "")

    def problem_extra(self) -> dict[str, Any]:
        return {"code": self.code, "field": self.field}


class ApplicationStateError(ProcedureError):
    """The application is no longer waiting: it was decided or withdrawn (the detail says which)."""

    status = 409
    error = "application_decided"


class AlreadyWaitingError(ProcedureError):
    """The person already has an application of this kind waiting: one at a time."""

    status = 409
    error = "already_waiting"
    code = "already_waiting"
    field = ""


class ProcedureNotDecidedError(ProcedureError):
    """There is no decision letter before the decision."""

    status = 404
    error = "not_decided"
