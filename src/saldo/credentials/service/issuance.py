"""OpenID for Verifiable Credential Issuance 1.0, pre-authorised code flow: the person's wallet
collects a credential staff issued.

1. Staff issue the credential; Saldo makes an offer (``openid-credential-offer://…``, shown as a QR
   code or sent as a link) with a pre-authorised code, and a six-digit transaction code the person
   is told apart (on the page, in the letter).
2. The wallet trades code and transaction code for an access token at the token endpoint: once,
   within 30 minutes; five wrong transaction codes burn the offer.
3. The wallet fetches a c_nonce, signs a key proof (``openid4vci-proof+jwt``: its public key, this
   issuer as audience, the nonce) and asks the credential endpoint. Saldo checks the proof, takes
   the nonce (each is good once), and signs the SD-JWT VC bound to that key, valid from now to the
   credential's date of expiry. A revoked or suspended credential is not handed out.

Only digests of the codes, tokens and nonces are stored."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from jwcrypto.jwk import JWK
from sqlalchemy.orm import Session

from saldo.credentials import repository
from saldo.credentials.errors import IssuanceError, StatusChangeError
from saldo.credentials.models import Credential, CredentialOffer, CredentialState, CredentialType, IssuanceNonce
from saldo.credentials.service import VCT, Issuer, add_event, sign_credential
from saldo.credentials.service.sd_jwt_vc import b64url_json

PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
AUTHORIZATION_CODE = "authorization_code"
CODE_LIFETIME = dt.timedelta(minutes=10)
PKCE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
PKCE_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256
PROOF_TYP = "openid4vci-proof+jwt"
OFFER_LIFETIME = dt.timedelta(minutes=30)  # long enough to open the wallet and scan; the PDF stays meanwhile
TOKEN_LIFETIME = dt.timedelta(minutes=10)
NONCE_LIFETIME = dt.timedelta(minutes=5)
PROOF_MAX_AGE = dt.timedelta(minutes=5)
MAX_TX_CODE_TRIES = 5
TX_CODE_DIGITS = 6
CONFIGURATION = {CredentialType.PDA1: "pda1_dc_sd_jwt", CredentialType.EHIC: "ehic_dc_sd_jwt"}
TYPE_OF_CONFIGURATION = {value: kind for kind, value in CONFIGURATION.items()}
TITLE = {CredentialType.PDA1: "Portable Document A1", CredentialType.EHIC: "European Health Insurance Card"}


def _sha256(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


@dataclass(frozen=True)
class Offer:
    uri: str
    body: dict[str, Any]
    tx_code: str
    expires_at: dt.datetime


def make_offer(session: Session, issuer: Issuer, credential: Credential, *, by: str, now: dt.datetime) -> Offer:
    """A credential offer for the person's wallet, with its transaction code (shown once)."""
    if credential.state is not CredentialState.VALID:
        raise StatusChangeError(
            f"credential {credential.document_number} is {credential.state.value}: no wallet gets it"
        )
    code = secrets.token_urlsafe(32)
    tx_code = "".join(secrets.choice("0123456789") for _ in range(TX_CODE_DIGITS))
    offer = CredentialOffer(
        credential_pk=credential.id,
        code_sha256=_sha256(code),
        tx_code_sha256=_sha256(tx_code),
        failed_tx_codes=0,
        expires_at=now + OFFER_LIFETIME,
        created_by=by,
    )
    session.add(offer)
    add_event(session, credential, "offered", by)
    body = {
        "credential_issuer": issuer.url,
        "credential_configuration_ids": [CONFIGURATION[credential.kind]],
        "grants": {
            PRE_AUTHORIZED: {
                "pre-authorized_code": code,
                "tx_code": {
                    "input_mode": "numeric",
                    "length": TX_CODE_DIGITS,
                    "description": "The code on the page or letter from " + issuer.authority_name,
                },
            }
        },
    }
    text = json.dumps(body, separators=(",", ":"))
    return Offer(f"openid-credential-offer://?credential_offer={quote(text, safe='')}", body, tx_code, offer.expires_at)


def redeem(
    session: Session,
    *,
    grant_type: str,
    code: str,
    tx_code: str | None,
    now: dt.datetime,
    code_verifier: str | None = None,
    redirect_uri: str | None = None,
    client_id: str | None = None,
) -> tuple[str, int]:
    """The token endpoint: an access token for a pre-authorised code and its transaction code, or
    for an authorisation code and its PKCE verifier (same client, same redirect URI)."""
    if grant_type not in (PRE_AUTHORIZED, AUTHORIZATION_CODE):
        raise IssuanceError("unsupported_grant_type", f"supported: {PRE_AUTHORIZED} and {AUTHORIZATION_CODE}")
    offer = repository.offer_by_code(session, _sha256(code)) if code else None
    by_authorization = offer is not None and offer.code_challenge is not None
    if (
        offer is None
        or offer.expires_at <= now
        or offer.redeemed_at is not None
        or (by_authorization != (grant_type == AUTHORIZATION_CODE))
    ):
        raise IssuanceError("invalid_grant", "the code is unknown, expired or was used")
    if by_authorization:
        _check_pkce(offer, code_verifier=code_verifier, redirect_uri=redirect_uri, client_id=client_id)
    else:
        _check_tx_code(offer, tx_code)
    token = secrets.token_urlsafe(32)
    offer.redeemed_at = now
    offer.token_sha256 = _sha256(token)
    offer.token_expires_at = now + TOKEN_LIFETIME
    return token, int(TOKEN_LIFETIME.total_seconds())


def _check_tx_code(offer: CredentialOffer, tx_code: str | None) -> None:
    if offer.failed_tx_codes >= MAX_TX_CODE_TRIES:
        raise IssuanceError("invalid_grant", "too many wrong transaction codes: ask for a new offer")
    if offer.tx_code_sha256 is not None and (
        tx_code is None or not secrets.compare_digest(_sha256(tx_code), offer.tx_code_sha256)
    ):
        offer.failed_tx_codes += 1
        raise IssuanceError("invalid_grant", "the transaction code is wrong")


def _check_pkce(
    offer: CredentialOffer, *, code_verifier: str | None, redirect_uri: str | None, client_id: str | None
) -> None:
    if client_id != offer.client_id or redirect_uri != offer.redirect_uri:
        raise IssuanceError("invalid_grant", "the code was given to another client or redirect URI")
    if code_verifier is None or not PKCE_VERIFIER.fullmatch(code_verifier):
        raise IssuanceError("invalid_grant", "code_verifier (PKCE, 43 to 128 characters) is missing or malformed")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).decode().rstrip("=")
    if not secrets.compare_digest(challenge, offer.code_challenge or ""):
        raise IssuanceError("invalid_grant", "the code_verifier does not match the code_challenge")


@dataclass(frozen=True)
class AuthorizationRequest:
    """What a wallet asks for at the authorisation endpoint, checked."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    kind: CredentialType
    state: str | None


def authorization_request(
    *,
    response_type: str | None,
    client_id: str | None,
    redirect_uri: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
    scope: str | None,
    state: str | None,
) -> AuthorizationRequest:
    """The wallet's authorisation request, or IssuanceError saying what is wrong (shown to the
    person, never sent to a redirect URI that was not checked)."""
    if response_type != "code":
        raise IssuanceError("unsupported_response_type", "response_type must be code")
    if not client_id or len(client_id) > 200:
        raise IssuanceError("invalid_request", "client_id is missing")
    if not redirect_uri or not _acceptable_redirect(redirect_uri):
        raise IssuanceError("invalid_request", "redirect_uri must be an https address or the wallet's own scheme")
    if code_challenge_method != "S256" or not code_challenge or not PKCE_CHALLENGE.fullmatch(code_challenge):
        raise IssuanceError("invalid_request", "PKCE with code_challenge_method S256 is required")
    kinds = [TYPE_OF_CONFIGURATION[s] for s in (scope or "").split() if s in TYPE_OF_CONFIGURATION]
    if len(kinds) != 1:
        raise IssuanceError("invalid_scope", f"scope must name one of {', '.join(TYPE_OF_CONFIGURATION)}")
    return AuthorizationRequest(client_id, redirect_uri, code_challenge, kinds[0], state)


def _acceptable_redirect(uri: str) -> bool:
    parts = urlsplit(uri)
    if parts.scheme == "https":
        return bool(parts.netloc)
    if parts.scheme == "http":
        return parts.hostname in ("127.0.0.1", "localhost", "::1")  # a wallet on this device (tests, desktop)
    # a wallet app's own scheme (eudi-openid4ci://…); never a scheme a browser runs
    return bool(re.fullmatch(r"[a-z][a-z0-9+.-]*", parts.scheme)) and parts.scheme not in {
        "javascript",
        "data",
        "file",
        "vbscript",
        "about",
        "blob",
    }


def grant_authorization(
    session: Session,
    issuer: Issuer,
    request: AuthorizationRequest,
    credential: Credential,
    *,
    by: str,
    now: dt.datetime,
) -> str:
    """The person chose a credential for their wallet: the redirect back with a code for it."""
    if credential.state is not CredentialState.VALID or credential.kind is not request.kind:
        raise IssuanceError("invalid_request", f"credential {credential.document_number} cannot be sent to a wallet")
    code = secrets.token_urlsafe(32)
    session.add(
        CredentialOffer(
            credential_pk=credential.id,
            code_sha256=_sha256(code),
            failed_tx_codes=0,
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            expires_at=now + CODE_LIFETIME,
            created_by=by,
        )
    )
    add_event(session, credential, "authorized", by, details={"client_id": request.client_id})
    return redirect_with(request, {"code": code}, issuer=issuer.url)


def redirect_with(request: AuthorizationRequest, values: dict[str, str], *, issuer: str | None = None) -> str:
    """The wallet's redirect URI with ``values``, the state it sent, and (RFC 9207) the issuer."""
    answer = dict(values)
    if request.state is not None:
        answer["state"] = request.state
    if issuer is not None:
        answer["iss"] = issuer
    separator = "&" if urlsplit(request.redirect_uri).query else "?"
    return f"{request.redirect_uri}{separator}{urlencode(answer)}"


def new_nonce(session: Session, *, now: dt.datetime) -> str:
    """A c_nonce, good once for five minutes. The endpoint is open to anyone, so each new nonce
    clears some that expired: the table holds about five minutes' worth."""
    repository.forget_expired_nonces(session, now)
    nonce = secrets.token_urlsafe(24)
    session.add(IssuanceNonce(nonce_sha256=_sha256(nonce), expires_at=now + NONCE_LIFETIME))
    return nonce


def _holder_key(proof: str, issuer: Issuer, now: dt.datetime) -> tuple[dict[str, Any], str]:
    """The wallet's public key from its key proof, after every check but the nonce's, and the nonce."""
    try:
        header = b64url_json(proof.split(".", maxsplit=1)[0])
        claims = b64url_json(proof.split(".")[1])
    except (ValueError, IndexError, UnicodeDecodeError):
        raise IssuanceError("invalid_proof", "the key proof is not a JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise IssuanceError("invalid_proof", "the key proof is not a JWT")
    if header.get("typ") != PROOF_TYP:
        raise IssuanceError("invalid_proof", f"the key proof's typ must be {PROOF_TYP}")
    if header.get("alg") != "ES256":
        raise IssuanceError("invalid_proof", "the key proof must be signed ES256")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
        raise IssuanceError("invalid_proof", "the key proof must carry the wallet's public P-256 key as jwk")
    public = {k: jwk[k] for k in ("kty", "crv", "x", "y") if k in jwk}
    try:
        jws.deserialize_compact(proof, ECKey.import_key(public), algorithms=["ES256"])
    except (JoseError, ValueError):
        raise IssuanceError("invalid_proof", "the key proof's signature does not verify with its jwk") from None
    if claims.get("aud") != issuer.url:
        raise IssuanceError("invalid_proof", f"the key proof's aud must be {issuer.url}")
    made = claims.get("iat")
    fresh = dt.timedelta(seconds=60)
    if not isinstance(made, int) or not now - PROOF_MAX_AGE <= dt.datetime.fromtimestamp(made, dt.UTC) <= now + fresh:
        raise IssuanceError("invalid_proof", "the key proof was not made just now (iat)")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str):
        raise IssuanceError("invalid_nonce", "the key proof carries no nonce: fetch one from the nonce endpoint")
    return public, nonce


def _take_nonces(session: Session, nonces: list[str], now: dt.datetime) -> None:
    """Each proof's nonce, taken at once: all are fresh and unused, or the request is refused."""
    digests = [_sha256(n) for n in nonces]
    if len(set(digests)) != len(digests) or repository.take_nonces(session, digests, now) != len(digests):
        raise IssuanceError("invalid_nonce", "a key proof's nonce is unknown, expired or used: fetch a new one")


def collect(
    session: Session,
    issuer: Issuer,
    *,
    access_token: str,
    configuration: str | None,
    proofs: list[str],
    now: dt.datetime,
) -> tuple[Credential, list[str]]:
    """The credential endpoint: the credential signed to each proven wallet key."""
    offer = repository.offer_by_token(session, _sha256(access_token)) if access_token else None
    # the token serves until it expires, not once: a wallet whose answer was lost (a dropped
    # connection, a server that died after committing) asks again with a fresh nonce and gets the
    # credential again, bound to the key it proves; every collection is in the history
    if offer is None or offer.token_expires_at is None or offer.token_expires_at <= now:
        raise IssuanceError("invalid_token", "the access token is unknown or expired")
    credential = session.get(Credential, offer.credential_pk)
    assert credential is not None
    if configuration is not None and configuration != CONFIGURATION[credential.kind]:
        raise IssuanceError("unknown_credential_configuration", f"this offer is for {CONFIGURATION[credential.kind]}")
    if not proofs:
        raise IssuanceError(
            "invalid_proof", "a key proof (proofs.jwt) is needed: the credential is bound to the wallet's key"
        )
    if len(proofs) > 10:
        raise IssuanceError("invalid_credential_request", "at most 10 key proofs in one request")
    if credential.state is not CredentialState.VALID:
        raise IssuanceError("invalid_credential_request", f"the credential is {credential.state.value}")
    checked = [_holder_key(proof, issuer, now) for proof in proofs]
    _take_nonces(session, [nonce for _, nonce in checked], now)
    keys = [key for key, _ in checked]
    issued = [sign_credential(issuer, credential, holder_jwk=key, now=now) for key in keys]
    offer.used_at = offer.used_at or now
    credential.collections += len(issued)
    credential.holder_jwk = keys[-1]
    credential.collected_at = now
    thumbprints = [JWK(**key).thumbprint() for key in keys]
    add_event(session, credential, "collected", "wallet", details={"holder_keys": thumbprints})
    return credential, issued


def metadata(issuer: Issuer) -> dict[str, Any]:
    """The credential issuer metadata (``/.well-known/openid-credential-issuer``)."""
    return {
        "credential_issuer": issuer.url,
        "credential_endpoint": f"{issuer.url}/credentials/credential",
        "nonce_endpoint": f"{issuer.url}/credentials/nonce",
        "display": [{"name": issuer.authority_name, "locale": "en"}],
        "credential_configurations_supported": {
            CONFIGURATION[kind]: {
                "format": "dc+sd-jwt",
                "vct": VCT[kind],
                "scope": CONFIGURATION[kind],
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": ["ES256"],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}},
                "credential_metadata": {"display": [{"name": TITLE[kind], "locale": "en"}]},
            }
            for kind in CredentialType
        },
    }


def authorization_server_metadata(issuer: Issuer) -> dict[str, Any]:
    """RFC 8414 metadata: the issuer is its own authorisation server (pre-authorised code, and the
    authorisation code with PKCE for a person who logs in with eID)."""
    return {
        "issuer": issuer.url,
        "authorization_endpoint": f"{issuer.url}/credentials/authorize",
        "token_endpoint": f"{issuer.url}/credentials/token",
        "grant_types_supported": [AUTHORIZATION_CODE, PRE_AUTHORIZED],
        "pre-authorized_grant_anonymous_access_supported": True,
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(TYPE_OF_CONFIGURATION),
        "authorization_response_iss_parameter_supported": True,
    }


def jwt_vc_issuer_metadata(issuer: Issuer) -> dict[str, Any]:
    """SD-JWT VC issuer metadata (``/.well-known/jwt-vc-issuer``): the issuer's key, for verifiers
    that do not read the x5c chain."""
    key = JWK.from_pyca(issuer.keys.private_key.public_key()).export_public(as_dict=True)
    key.update({"alg": "ES256", "use": "sig", "kid": JWK(**key).thumbprint()})
    return {"issuer": issuer.url, "jwks": {"keys": [key]}}
