from __future__ import annotations


class UnknownBenefitError(LookupError):
    """A benefit code that is not in the catalogue."""
