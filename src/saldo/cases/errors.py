from __future__ import annotations

from saldo.kit.problem import ProblemError


class CaseError(ProblemError):
    """Base of the cases domain's errors."""


class CaseNotFoundError(CaseError, LookupError):
    """No case, or no finding, with this id."""

    status = 404
    error = "not_found"


class TriageError(CaseError):
    """The findings cannot be triaged so: already reviewed, shadow-mode, or not re-identifiable."""

    status = 409
    error = "triage_refused"


class CaseStateError(CaseError):
    """The case cannot change so: it is closed, or the change is not allowed."""

    status = 409
    error = "case_state"


class PurposeRequiredError(CaseError):
    """A member of staff without a role on the case reads it without saying why."""

    status = 403
    error = "purpose_required"
