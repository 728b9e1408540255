from __future__ import annotations

from typing import Any

from saldo.kit.problem import ProblemError


class CredentialError(ProblemError):
    """Base of the credentials' errors."""


class IssuerNotConfiguredError(CredentialError):
    """This installation has no credential issuer key: it issues no PDA1 or EHIC."""

    status = 404
    error = "issuer_not_configured"


class VerifierNotConfiguredError(CredentialError):
    """No trusted list of issuers is configured: this installation verifies no credentials."""

    status = 404
    error = "verifier_not_configured"


class CredentialNotFoundError(CredentialError, LookupError):
    """No credential (or decision) with this id here."""

    status = 404
    error = "not_found"


class InvalidAttributesError(CredentialError, ValueError):
    """A credential's attributes do not fit its type's schema (the detail names the field)."""

    status = 422
    error = "invalid_attributes"


class StatusChangeError(CredentialError):
    """A revoked credential cannot change status again; a credential is suspended or reinstated only
    from the status that allows it."""

    status = 409
    error = "status_change_not_allowed"


class PresentationRefusedError(CredentialError, ValueError):
    """A presented credential (or a status list) was not accepted; ``reason`` is one of the codes
    docs/credentials.md lists, the detail says it in words."""

    status = 422
    error = "presentation_refused"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason

    def problem_extra(self) -> dict[str, Any]:
        return {"reason": self.reason}


class IssuanceError(CredentialError):
    """An OpenID4VCI request that cannot be served; ``oauth_error`` is the protocol's error code
    (invalid_grant, invalid_proof, …), answered in the protocol's own shape."""

    status = 400
    error = "invalid_request"

    def __init__(self, oauth_error: str, detail: str) -> None:
        super().__init__(detail)
        self.oauth_error = oauth_error

    def problem_extra(self) -> dict[str, Any]:
        return {"oauth_error": self.oauth_error}
