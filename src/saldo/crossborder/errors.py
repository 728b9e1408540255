from __future__ import annotations

from typing import Any

from saldo.kit.problem import ProblemError


class CrossBorderError(ProblemError):
    """Base of the cross-border citizen's errors."""


class EidasNotConfiguredError(CrossBorderError):
    """No eIDAS-Connector is configured: login with a foreign eID is not offered here."""

    status = 404
    error = "eidas_not_configured"


class ForeignLoginRefusedError(CrossBorderError):
    """An eIDAS answer that does not hold; ``reason`` is one of the codes docs/cross-border-citizen.md
    lists, the detail says it in words."""

    status = 403
    error = "foreign_login_refused"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason

    def problem_extra(self) -> dict[str, Any]:
        return {"reason": self.reason}


class LinkRefusedError(CrossBorderError):
    """A request to link a foreign eID that cannot go on: from another browser than the login's, too
    late after the login, or a code with no letter waiting. ``reason`` names which."""

    status = 403
    error = "foreign_link_refused"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason

    def problem_extra(self) -> dict[str, Any]:
        return {"reason": self.reason}


class LinkNotAllowedError(LinkRefusedError):
    """At a service office: a login or a document that does not allow the link the caseworker asked
    for (an unknown or matched login, another birth date, an eID linked already). ``reason`` names which."""

    status = 422
    error = "foreign_link_not_allowed"


class LinkNotFoundError(CrossBorderError):
    """No link to a foreign eID by this id is the person's (another's is not found either)."""

    status = 404
    error = "foreign_link_not_found"
