"""Logging in with the person identification data (PID) in the EU Digital Identity Wallet: a request
for the PID alone, bound to the browser that asked (a secret in its cookie, kept here as a hash),
answered by the wallet and checked fully (signature to a PID provider's root, validity, status, key
binding to this request's nonce and audience). Who the person is here is decided by the caller
(the cross-border citizen's matching); this module only says what the PID proves."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from saldo.credentials.errors import CredentialNotFoundError, PresentationRefusedError, VerifierNotConfiguredError
from saldo.credentials.models import PresentationRequest, RequestPurpose
from saldo.credentials.service import anchors_in, sd_jwt_vc
from saldo.credentials.service.verifier import (
    PID_QUERY_ID,
    PID_VCTS,
    StatusCheck,
    Verifier,
    check_open,
    get_request,
    new_request,
    presentations_of,
    refuse_malformed,
)
from saldo.settings import Settings

NEEDED = ("personal_administrative_number", "issuing_country", "given_name", "family_name", "birthdate")


def pid_verifier(settings: Settings) -> Verifier:
    """The verifier trusting the PID providers' roots; VerifierNotConfiguredError when there are none."""
    anchors = anchors_in(settings.credentials_pid_trust_anchors)
    if not anchors:
        raise VerifierNotConfiguredError(
            "login with the EU wallet needs SALDO_CREDENTIALS_PID_TRUST_ANCHORS (the PID providers' roots)"
        )
    return Verifier(settings.base_url, anchors, None)


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def start(session: Session, *, browser_secret: str, now: dt.datetime) -> PresentationRequest:
    """A request for the PID, bound to the browser holding ``browser_secret``."""
    return new_request(session, now=now, purpose=RequestPurpose.LOG_IN, browser_sha256=_hash(browser_secret))


def request_of(session: Session, request_id: str, *, browser_secret: str | None) -> PresentationRequest:
    """The login request of this browser; another browser's, or one without the cookie, is not found."""
    found = get_request(session, request_id, purpose=RequestPurpose.LOG_IN)
    if not browser_secret or found.browser_sha256 is None:
        raise CredentialNotFoundError("no such presentation request")
    if not hmac.compare_digest(found.browser_sha256, _hash(browser_secret)):
        raise CredentialNotFoundError("no such presentation request")
    return found


def answer(
    session: Session, verifier: Verifier, request: PresentationRequest, *, vp_token: str, now: dt.datetime
) -> PresentationRequest:
    """The wallet's direct_post: the PID checked, and what it says kept on the request for the browser."""
    check_open(request, now)
    presentations = presentations_of(vp_token, [PID_QUERY_ID])
    if presentations is None:
        raise refuse_malformed(request, '{"pid": ["<PID>"]}', now)
    check = StatusCheck(session, verifier, now)
    try:
        verified = sd_jwt_vc.verify(
            presentations[PID_QUERY_ID],
            anchors=verifier.anchors,
            accepted_vcts=PID_VCTS,
            audience=verifier.client_id,
            nonce=request.nonce,
            now=now,
            status_of=check,
        )
        request.outcome = {"valid": True, "pid": _claims(verified), "pid_issued_by": verified.issuer_subject}
    except PresentationRefusedError as error:
        request.outcome = {"valid": False, "reason": error.reason, "detail": str(error)}
    request.outcome["status_lists"] = check.used
    request.answered_at = now
    return request


def _claims(verified: sd_jwt_vc.Verified) -> dict[str, Any]:
    values = {name: verified.disclosed.get(name) for name in NEEDED}
    missing = [name for name, value in values.items() if not isinstance(value, str) or not value.strip()]
    if missing:
        raise PresentationRefusedError("claims_missing", f"the PID does not disclose {', '.join(missing)}")
    try:
        dt.date.fromisoformat(str(values["birthdate"]))
    except ValueError:
        raise PresentationRefusedError("claims_missing", "the PID's birthdate is not a date (YYYY-MM-DD)") from None
    return {name: str(value).strip()[:200] for name, value in values.items()}


def used_up(session: Session, request: PresentationRequest) -> None:
    """A login request that opened its session (or was turned down) answers nothing more. Of two
    pages finishing it at once (the waiting page's own reload and a click), the second waits for the
    first and then finds nothing."""
    deleted = session.execute(delete(PresentationRequest).where(PresentationRequest.id == request.id))
    if getattr(deleted, "rowcount", 0) != 1:
        raise CredentialNotFoundError("no such presentation request")
