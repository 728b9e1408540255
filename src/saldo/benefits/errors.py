from __future__ import annotations

from saldo.kit.problem import ProblemError


class UnknownBenefitError(ProblemError, LookupError):
    """A benefit code that is not in the catalogue."""

    status = 422
    error = "unknown_benefit"
