"""A person designates the account for their public payments from the EU wallet: they present their
bank's account attestation (an IBAN attestation) together with their person identification data
(PID), both in answer to one request made from their own logged-in page.

Saldo checks each credential fully (signature to a root trusted for that kind of credential,
validity, status, holder binding to this request's nonce and audience), that the PID is the person
the request was made for, and that the bank's account holder is that person (the verification-of-
payee name matcher, and the birth date where both tell it). Only then is the account designated,
with the attestation as presented kept as the designation's evidence. A bank abroad, which reports
nothing to the account register, is how this path is used most."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from saldo.accounts.errors import DesignationRefusedError
from saldo.accounts.service.attested import AttestedAccount, designate_attested_account
from saldo.credentials.errors import CredentialNotFoundError, PresentationRefusedError, VerifierNotConfiguredError
from saldo.credentials.models import PresentationRequest, RequestPurpose
from saldo.credentials.service import anchors_in, sd_jwt_vc
from saldo.credentials.service.verifier import (
    IBAN_QUERY_ID,
    IBAN_VCTS,
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
from saldo.kit.name_match import Outcome, match_name
from saldo.kit.national_id import IdScheme, normalize_identifier
from saldo.settings import Settings

PID_NEEDED = ("personal_administrative_number", "issuing_country", "given_name", "family_name")
IBAN_NEEDED = ("iban", "business_identifier_code", "registered_given_name", "registered_family_name")
# an account a bank attests as not in use cannot receive payments
NOT_IN_USE = {"closed", "blocked", "inactive", "terminated", "suspended"}
ACCEPTED_NAMES = (Outcome.MATCH, Outcome.CLOSE_MATCH)


@dataclasses.dataclass(frozen=True)
class DesignationTrust:
    """The verifier twice over: once trusting the PID providers' roots, once the banks'."""

    pid: Verifier
    bank: Verifier


def designation_trust(settings: Settings) -> DesignationTrust:
    """The roots this path trusts, or VerifierNotConfiguredError when either kind has none."""
    pid, bank = anchors_in(settings.credentials_pid_trust_anchors), anchors_in(settings.credentials_bank_trust_anchors)
    if not pid or not bank:
        raise VerifierNotConfiguredError(
            "designating an account from the EU wallet needs SALDO_CREDENTIALS_PID_TRUST_ANCHORS and "
            "SALDO_CREDENTIALS_BANK_TRUST_ANCHORS (the PID providers' and the banks' roots)"
        )
    verifier = Verifier(settings.base_url, pid, None)
    return DesignationTrust(pid=verifier, bank=dataclasses.replace(verifier, anchors=bank))


def start(session: Session, *, person_scheme: str, person_id: str, actor: str, now: dt.datetime) -> PresentationRequest:
    """A request for the person's PID and account attestation, made from their own session."""
    return new_request(
        session,
        now=now,
        purpose=RequestPurpose.DESIGNATE_ACCOUNT,
        person_scheme=person_scheme,
        person_id=person_id,
        actor=actor,
    )


def request_of(session: Session, request_id: str, *, person_scheme: str, person_id: str) -> PresentationRequest:
    """The person's own designation request; another's, or an inspector's, is not found."""
    found = get_request(session, request_id, purpose=RequestPurpose.DESIGNATE_ACCOUNT)
    if found.person_scheme != person_scheme or found.person_id != person_id:
        raise CredentialNotFoundError("no such presentation request")
    return found


def answer(
    session: Session, trust: DesignationTrust, request: PresentationRequest, *, vp_token: str, now: dt.datetime
) -> PresentationRequest:
    """The wallet's direct_post: both credentials checked, the person matched, the account designated,
    and the outcome kept on the request for the person's page, all in the caller's transaction."""
    check_open(request, now)
    presentations = presentations_of(vp_token, [PID_QUERY_ID, IBAN_QUERY_ID])
    if presentations is None:
        raise refuse_malformed(request, '{"pid": ["<PID>"], "iban": ["<account attestation>"]}', now)
    statuses: list[dict[str, Any]] = []
    try:
        pid = _verified(session, trust.pid, presentations[PID_QUERY_ID], PID_VCTS, request, now, statuses, "PID")
        iban = _verified(
            session, trust.bank, presentations[IBAN_QUERY_ID], IBAN_VCTS, request, now, statuses, "account attestation"
        )
        request.outcome = _designate(session, request, pid, iban, presentations[IBAN_QUERY_ID], now) | {
            "status_lists": statuses
        }
    except PresentationRefusedError as error:
        request.outcome = {"valid": False, "reason": error.reason, "detail": str(error), "status_lists": statuses}
    request.answered_at = now
    return request


def _verified(
    session: Session,
    verifier: Verifier,
    presentation: str,
    vcts: tuple[str, ...],
    request: PresentationRequest,
    now: dt.datetime,
    statuses: list[dict[str, Any]],
    what: str,
) -> sd_jwt_vc.Verified:
    check = StatusCheck(session, verifier, now)
    try:
        return sd_jwt_vc.verify(
            presentation,
            anchors=verifier.anchors,
            accepted_vcts=vcts,
            audience=verifier.client_id,
            nonce=request.nonce,
            now=now,
            status_of=check,
        )
    except PresentationRefusedError as error:
        raise PresentationRefusedError(error.reason, f"the {what}: {error}") from None
    finally:
        statuses.extend(check.used)


def _text(verified: sd_jwt_vc.Verified, names: tuple[str, ...], what: str) -> dict[str, str]:
    values = {name: verified.disclosed.get(name) for name in names}
    missing = [name for name, value in values.items() if not isinstance(value, str) or not value.strip()]
    if missing:
        raise PresentationRefusedError("claims_missing", f"the {what} does not disclose {', '.join(missing)}")
    return {name: str(value).strip() for name, value in values.items()}


def _designate(
    session: Session,
    request: PresentationRequest,
    pid: sd_jwt_vc.Verified,
    iban: sd_jwt_vc.Verified,
    attestation: str,
    now: dt.datetime,
) -> dict[str, Any]:
    assert request.person_scheme is not None
    assert request.person_id is not None
    assert request.actor is not None
    scheme = IdScheme(request.person_scheme)
    person = _text(pid, PID_NEEDED, "PID")
    account = _text(iban, IBAN_NEEDED, "account attestation")
    country = scheme.value[:2].upper()
    if person["issuing_country"].upper() != country:
        issued_in = person["issuing_country"]
        raise PresentationRefusedError(
            "not_this_person", f"the PID was issued in {issued_in}; you logged in as a person of {country}"
        )
    try:
        number = normalize_identifier(scheme, person["personal_administrative_number"])
    except ValueError:
        number = None
    if number != request.person_id:
        raise PresentationRefusedError("not_this_person", "the PID is another person's than the one logged in")
    pid_name = f"{person['given_name']} {person['family_name']}"
    holder_name = f"{account['registered_given_name']} {account['registered_family_name']}"
    matched = match_name(holder_name, pid_name, organisation=False)
    if matched.outcome not in ACCEPTED_NAMES:
        raise PresentationRefusedError(
            "holder_differs",
            f"the bank's account holder, {holder_name}, is not the person of the PID ({matched.reason})",
        )
    born, holder_born = pid.disclosed.get("birthdate"), iban.disclosed.get("date_of_birth")
    if born is not None and holder_born is not None and str(born) != str(holder_born):
        raise PresentationRefusedError(
            "holder_differs", "the bank's account holder has another birth date than the PID"
        )
    status = iban.disclosed.get("bank_account_status")
    if isinstance(status, str) and status.strip().lower() in NOT_IN_USE:
        raise PresentationRefusedError("account_refused", f"the bank attests the account as {status}")
    evidence: dict[str, object] = {
        "kind": "bank_account_attestation",
        "attestation": attestation,
        "attestation_vct": iban.vct,
        "attested_by": iban.issuer_subject,
        "attestation_expires_at": iban.expires_at.isoformat(),
        "pid_vct": pid.vct,
        "pid_issued_by": pid.issuer_subject,
        "holder_name": holder_name,
        "name_match": matched.outcome.value,
        "name_match_reason": matched.reason.value,
        "verified_at": now.isoformat(),
    }
    attested = AttestedAccount(
        iban=account["iban"],
        bic=account["business_identifier_code"],
        bank_name=str(iban.disclosed.get("issuing_organization") or ""),
        holder_name=holder_name,
        holder_scheme=scheme,
        holder_identifier=request.person_id,
        attested_by=iban.issuer_subject,
    )
    try:
        with session.begin_nested():  # a refusal leaves nothing of the account behind
            result = designate_attested_account(session, attested, actor=request.actor, evidence=evidence)
    except DesignationRefusedError as error:
        raise PresentationRefusedError("account_refused", str(error)) from None
    return {
        "valid": True,
        "account": result.account,
        "previous_account": result.previous_account,
        "changed": result.changed,
        "bank": attested.bank_name or attested.bic,
        "bic": attested.bic.upper(),
        "holder_name": holder_name,
        "name_match": matched.outcome.value,
        "attested_by": iban.issuer_subject,
        "pid_issued_by": pid.issuer_subject,
    }
