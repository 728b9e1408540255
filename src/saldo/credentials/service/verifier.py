"""The verifier an inspector or a hospital uses: OpenID for Verifiable Presentations 1.0 with a
DCQL query, the wallet answering by ``direct_post``, and every check of the SD-JWT VC — signature,
issuer on the trusted list, validity, holder binding to this request's nonce and audience, and
status.

Status lists are kept: a list is used while fresh (its ttl) and fetched again after; when it
cannot be fetched (the verifier is offline, the issuer unreachable), the kept one is used until it
expires, and the answer says how old it is. Lists of this installation's own credentials are read
from its own database, so checking them needs no network at all."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography import x509
from sqlalchemy.orm import Session

from saldo.credentials import repository
from saldo.credentials.errors import (
    CredentialNotFoundError,
    IssuerNotConfiguredError,
    PresentationRefusedError,
    VerifierNotConfiguredError,
)
from saldo.credentials.models import CredentialType, PresentationRequest, RequestPurpose
from saldo.credentials.service import STATUS_VALUE, VCT, Issuer, issuer_from_settings, sd_jwt_vc, trust_anchors
from saldo.credentials.service import status_list as lists
from saldo.settings import Settings

REQUEST_LIFETIME = dt.timedelta(minutes=10)
# a request and what its page showed (what the holder disclosed) are deleted a day after it expired
REQUEST_KEPT = dt.timedelta(days=1)
FETCH_TIMEOUT_S = 5.0  # an inspector waits for the answer; past this the kept list is used
FETCH_LIMIT = lists.MAX_TOKEN_BYTES
# what the inspector asks to see: the attributes that decide the check; the personal number and the
# document number are the holder's to add (selectively disclosable)
ASKED = {
    CredentialType.PDA1: [
        "legislation_country", "status_confirmation", "starting_date", "ending_date", "employer", "work_address",
        "issuing_authority", "issuing_country", "date_of_expiry", "personal_administrative_number",
    ],
    CredentialType.EHIC: [
        "issuing_authority", "issuing_country", "starting_date", "ending_date", "date_of_expiry",
        "personal_administrative_number", "document_number",
    ],
}  # fmt: skip
# Credentials Saldo does not issue but asks for when a person designates their account: the person
# identification data (ARF's and the Commission's reference issuer's vct) and the bank's account
# attestation (the Commission's reference issuer's IBAN attestation)
PID_VCTS = ("urn:eudi:pid:1", "urn:eu.europa.ec.eudi:pid:1")
IBAN_VCTS = ("urn:eu.europa.ec.eudi:iban:1",)
PID_ASKED = ["given_name", "family_name", "birthdate", "personal_administrative_number", "issuing_country"]
IBAN_ASKED = [
    "iban", "business_identifier_code", "registered_given_name", "registered_family_name", "date_of_birth",
    "issuing_organization", "bank_account_status",
]  # fmt: skip
PID_QUERY_ID = "pid"
IBAN_QUERY_ID = "iban"
Fetch = Callable[[str], str]


def verifier_from_settings(settings: Settings) -> Verifier:
    """The verifier, or VerifierNotConfiguredError when no issuer is trusted here."""
    anchors = trust_anchors(settings)
    if not anchors:
        raise VerifierNotConfiguredError(
            "this installation verifies no credentials: set SALDO_CREDENTIALS_TRUST_ANCHORS (trusted issuers' roots)"
        )
    try:
        own: Issuer | None = issuer_from_settings(settings)
    except IssuerNotConfiguredError:
        own = None
    return Verifier(settings.base_url, anchors, own)


def fetch_over_http(uri: str) -> str:
    """A status list from its issuer; raises OSError (or httpx's errors) when it cannot be had. The
    address is in the credential the issuer signed (a trusted issuer chose it), and only http(s)."""
    if not uri.startswith(("https://", "http://")):
        raise OSError(f"{uri}: a status list is fetched over https")
    with httpx.Client(timeout=FETCH_TIMEOUT_S, follow_redirects=False) as client:
        response = client.get(uri, headers={"Accept": "application/statuslist+jwt"})
        response.raise_for_status()
        if len(response.content) > FETCH_LIMIT:
            raise OSError(f"{uri}: the status list is larger than {FETCH_LIMIT} bytes")
        return response.text


@dataclass(frozen=True)
class Verifier:
    """This installation as a verifier: who the wallet answers to, and whom it trusts."""

    base_url: str
    anchors: tuple[x509.Certificate, ...]
    issuer: Issuer | None  # this installation's own issuer, whose lists are read locally
    fetch: Fetch = fetch_over_http

    @property
    def response_uri(self) -> str:
        return f"{self.base_url}/verifier/response"

    @property
    def client_id(self) -> str:
        """OpenID4VP 1.0 client identifier with the redirect_uri prefix: the key binding's audience."""
        return f"redirect_uri:{self.response_uri}"


@dataclass
class StatusCheck:
    """Which status lists a verification read, and how old each was (shown to the inspector)."""

    session: Session
    verifier: Verifier
    now: dt.datetime
    used: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, uri: str, index: int) -> int:
        own = self._own_entry(uri, index)
        if own is not None:
            self.used.append({"uri": uri, "issued_at": self.now.isoformat(), "age_s": 0, "offline": False})
            return own
        read, offline = self._list(uri)
        age = int((self.now - read.issued_at).total_seconds())
        self.used.append(
            {"uri": uri, "issued_at": read.issued_at.isoformat(), "age_s": max(age, 0), "offline": offline}
        )
        return read.status(index)

    def _own_entry(self, uri: str, index: int) -> int | None:
        """An entry of this installation's own list, read where the list is made from (the
        credential's state): no signing or parsing of a list of millions to read one entry."""
        own = self.verifier.issuer
        prefix = f"{own.url}/credentials/status/" if own is not None else None
        if prefix is None or not uri.startswith(prefix):
            return None
        list_id = uri.removeprefix(prefix)
        if not list_id.isdigit() or len(list_id) >= 19:  # a bigint
            raise PresentationRefusedError("status_unknown", f"there is no status list {uri}")
        size = repository.status_list_size(self.session, int(list_id))
        if size is None or index >= size:
            raise PresentationRefusedError("status_unknown", f"the status list {uri} has no entry {index}")
        state = repository.entry_state(self.session, int(list_id), index)
        return STATUS_VALUE[state] if state is not None else lists.VALID

    def _list(self, uri: str) -> tuple[lists.StatusList, bool]:
        kept = repository.cached_status_list(self.session, uri)
        if kept is not None:
            try:
                cached = lists.read(kept.token, uri=uri, anchors=self.verifier.anchors, now=self.now)
            except PresentationRefusedError:
                cached = None  # expired, or the trusted list changed: fetch it again
            fresh_until = cached.fresh_until() if cached else None
            if cached is not None and fresh_until is not None and self.now < fresh_until:
                return cached, False
        else:
            cached = None
        try:
            token = self.verifier.fetch(uri)
        except (OSError, httpx.HTTPError) as error:
            if cached is not None:
                return cached, True  # offline: the kept list, whose age the answer shows
            raise PresentationRefusedError(
                "status_unknown", f"the status list {uri} cannot be fetched ({type(error).__name__}) and none is kept"
            ) from None
        read = lists.read(token, uri=uri, anchors=self.verifier.anchors, now=self.now)
        repository.keep_status_list(self.session, uri, token, self.now)
        return read, False


def verify_presentation(
    session: Session,
    verifier: Verifier,
    presentation: str,
    *,
    kinds: set[CredentialType],
    nonce: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The outcome of one presentation: valid with what was disclosed, or not valid and why. With
    ``nonce`` None, a paper credential's code: bound to no key, shown with the holder's identity
    document (as the paper A1 always was)."""
    check = StatusCheck(session, verifier, now)
    try:
        verified = sd_jwt_vc.verify(
            presentation,
            anchors=verifier.anchors,
            accepted_vcts={VCT[k] for k in kinds},
            audience=verifier.client_id if nonce is not None else None,
            nonce=nonce,
            now=now,
            status_of=check,
        )
    except PresentationRefusedError as error:
        return {"valid": False, "reason": error.reason, "detail": str(error), "status_lists": check.used}
    return {
        "valid": True,
        "vct": verified.vct,
        "issuer": verified.issuer,
        "issuer_subject": verified.issuer_subject,
        "expires_at": verified.expires_at.isoformat(),
        "disclosed": verified.disclosed,
        "status_lists": check.used,
    }


def _asked(query_id: str, vcts: list[str], claims: list[str]) -> dict[str, Any]:
    return {
        "id": query_id,
        "format": "dc+sd-jwt",
        "meta": {"vct_values": vcts},
        "claims": [{"path": [name]} for name in claims],
    }


def dcql_query(request: PresentationRequest) -> dict[str, Any]:
    """What the request asks the wallet for (DCQL, OpenID4VP 1.0 §6): the inspected credential, or
    for a designation both the PID and the account attestation (both required)."""
    if request.purpose is RequestPurpose.LOG_IN:
        return {"credentials": [_asked(PID_QUERY_ID, list(PID_VCTS), PID_ASKED)]}
    if request.purpose is RequestPurpose.DESIGNATE_ACCOUNT:
        return {
            "credentials": [
                _asked(PID_QUERY_ID, list(PID_VCTS), PID_ASKED),
                _asked(IBAN_QUERY_ID, list(IBAN_VCTS), IBAN_ASKED),
            ]
        }
    assert request.kind is not None
    return {"credentials": [_asked(request.kind.value, [VCT[request.kind]], ASKED[request.kind])]}


def start(session: Session, kind: CredentialType, *, now: dt.datetime) -> PresentationRequest:
    """A new request for a PDA1 or an EHIC, good for ten minutes."""
    return new_request(session, now=now, purpose=RequestPurpose.INSPECT, kind=kind)


def new_request(session: Session, *, now: dt.datetime, **fields: Any) -> PresentationRequest:
    """A request with a fresh id, nonce and state, good for ten minutes; requests kept past their
    day go as new ones come."""
    repository.forget_expired_requests(session, now - REQUEST_KEPT)
    request = PresentationRequest(
        request_id=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        state=secrets.token_urlsafe(24),
        expires_at=now + REQUEST_LIFETIME,
        **fields,
    )
    session.add(request)
    session.flush()
    return request


def authorization_request(verifier: Verifier, request: PresentationRequest) -> dict[str, str]:
    """The request's parameters, passed by value (unsigned, as the redirect_uri prefix requires)."""
    return {
        "client_id": verifier.client_id,
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": verifier.response_uri,
        "nonce": request.nonce,
        "state": request.state,
        "dcql_query": json.dumps(dcql_query(request), separators=(",", ":")),
    }


def request_url(verifier: Verifier, request: PresentationRequest, *, scheme: str = "openid4vp") -> str:
    """What the QR code carries (cross-device), or the link a wallet on this device opens."""
    return f"{scheme}://?{urlencode(authorization_request(verifier, request))}"


def get_request(
    session: Session, request_id: str, *, purpose: RequestPurpose = RequestPurpose.INSPECT
) -> PresentationRequest:
    """A request of this purpose (an inspector's page shows only inspections)."""
    found = repository.presentation_request(session, request_id)
    if found is None or found.purpose is not purpose:
        raise CredentialNotFoundError("no such presentation request")
    return found


def request_by_state(session: Session, state: str) -> PresentationRequest:
    """The request a wallet's answer names by its ``state``; refused when there is none."""
    found = repository.request_by_state(session, state)
    if found is None:
        raise PresentationRefusedError("unknown_request", "no request of this verifier has this state")
    return found


def check_open(request: PresentationRequest, now: dt.datetime) -> None:
    """A request is answered once, before it expires."""
    if request.answered_at is not None:
        raise PresentationRefusedError("already_answered", "this request has been answered")
    if now >= request.expires_at:
        raise PresentationRefusedError("request_expired", "this request has expired: start a new one")


def presentations_of(vp_token: str, query_ids: list[str]) -> dict[str, str] | None:
    """One presentation for each of the DCQL query's credentials (``{"<id>": ["<SD-JWT VC>"]}``,
    OpenID4VP 1.0 §8.1), or None when vp_token is not that."""
    try:
        token = json.loads(vp_token)
    except ValueError:
        return None
    if not isinstance(token, dict) or set(token) != set(query_ids):
        return None
    found: dict[str, str] = {}
    for query_id in query_ids:
        presented = token[query_id]
        if not isinstance(presented, list) or len(presented) != 1 or not isinstance(presented[0], str):
            return None
        found[query_id] = presented[0]
    return found


def refuse_malformed(request: PresentationRequest, expected: str, now: dt.datetime) -> PresentationRefusedError:
    """The outcome of an answer that is not a presentation of what was asked (kept on the request)."""
    refused = PresentationRefusedError("malformed", f"vp_token must be {expected}")
    request.outcome = {"valid": False, "reason": refused.reason, "detail": str(refused), "status_lists": []}
    request.answered_at = now
    return refused


def answer(
    session: Session, verifier: Verifier, request: PresentationRequest, *, vp_token: str, now: dt.datetime
) -> PresentationRequest:
    """The wallet's direct_post to an inspector's request: the presentation checked, once."""
    check_open(request, now)
    assert request.kind is not None  # an inspection asks for one kind (the table's check)
    presentations = presentations_of(vp_token, [request.kind.value])
    if presentations is None:
        raise refuse_malformed(request, f'{{"{request.kind.value}": ["<SD-JWT VC presentation>"]}}', now)
    request.outcome = verify_presentation(
        session, verifier, presentations[request.kind.value], kinds={request.kind}, nonce=request.nonce, now=now
    )
    request.answered_at = now
    return request
