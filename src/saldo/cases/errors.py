from __future__ import annotations


class CaseError(Exception):
    """Base of the cases domain's errors."""


class CaseNotFoundError(CaseError, LookupError):
    """No case, or no finding, with this id."""


class TriageError(CaseError):
    """The findings cannot be triaged so: already reviewed, shadow-mode, or not re-identifiable."""


class CaseStateError(CaseError):
    """The case cannot change so: it is closed, or the change is not allowed."""


class PurposeRequiredError(CaseError):
    """A member of staff without a role on the case reads it without saying why."""
