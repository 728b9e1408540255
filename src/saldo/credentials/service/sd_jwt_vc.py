"""SD-JWT VC (RFC 9901 with draft-ietf-oauth-sd-jwt-vc): the credential format, issued and verified.

The disclosures, the signature and the key-binding JWT's ``sd_hash`` are the OpenWallet
Foundation's reference implementation (``sd-jwt``, decision 0023). What it leaves to its caller is
here: the SD-JWT VC rules (``typ`` ``dc+sd-jwt``, ``vct``, ``iss`` with an ``x5c`` chain to a
trusted root, ``iat``/``nbf``/``exp``, ``cnf``, ``status``), the RFC's refusals the library does not
make (a disclosure no digest refers to, a digest that appears twice, a reserved claim name in a
disclosure, a key-binding JWT's age), only ES256, and a size limit. Every refusal carries a reason
code and says what was wrong."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, overload

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto.common import JWException
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from saldo.credentials.errors import PresentationRefusedError
from saldo.credentials.service.keys import IssuerKeys, verify_chain

TYP = "dc+sd-jwt"
KB_TYP = "kb+jwt"
ALGORITHM = "ES256"
MAX_BYTES = 64 * 1024  # a PDA1 with every disclosure is about 3 KiB; anything far larger is refused unread
KB_MAX_AGE = dt.timedelta(minutes=5)  # a key-binding JWT is made for one presentation, just now
CLOCK_SKEW = dt.timedelta(seconds=60)
MAX_STATUS_URI = 500  # as long as a kept list's address may be
COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*~(?:[A-Za-z0-9_-]+~)*(?:[A-Za-z0-9_.-]+)?")
# claims the format gives a meaning and that are never selectively disclosable (SD-JWT VC §3.2.2)
REGISTERED = frozenset({"iss", "nbf", "exp", "iat", "cnf", "vct", "vct#integrity", "status"})


def b64url_json(part: str) -> Any:
    """A base64url part (a JWT's header or payload, a disclosure) as JSON, padding restored."""
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def _canonical(segment: str) -> bool:
    try:
        decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except ValueError:
        return False
    return base64.urlsafe_b64encode(decoded).decode("ascii").rstrip("=") == segment


def _digest(disclosure: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(disclosure.encode("ascii")).digest()).decode("ascii").rstrip("=")


@lru_cache(maxsize=64)
def _jwk_of_private(keys: IssuerKeys) -> JWK:
    return JWK.from_pyca(keys.private_key)


def issue(
    *,
    keys: IssuerKeys,
    issuer: str,
    vct: str,
    claims: Mapping[str, Any],
    disclosable: Iterable[str],
    holder_jwk: Mapping[str, Any] | None,
    issued_at: dt.datetime,
    expires_at: dt.datetime,
    status: Mapping[str, Any],
) -> str:
    """A signed SD-JWT VC with its disclosures (``jwt~d1~d2~``): the top-level claims named in
    ``disclosable`` become disclosures, the rest and the registered claims stay in the JWT. Bound to
    ``holder_jwk`` (``cnf``); without one, a paper credential that whoever holds it can show."""
    optional = set(disclosable)
    if optional & REGISTERED:
        raise ValueError(f"registered claims are never selectively disclosable: {sorted(optional & REGISTERED)}")
    user_claims: dict[Any, Any] = {
        "iss": issuer,
        "iat": int(issued_at.timestamp()),
        "nbf": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "vct": vct,
        "status": dict(status),
    }
    for name, value in claims.items():
        user_claims[SDObj(name) if name in optional else name] = value
    made = SDJWTIssuer(
        user_claims,
        _jwk_of_private(keys),
        holder_key=JWK(**holder_jwk) if holder_jwk is not None else None,
        sign_alg=ALGORITHM,
        extra_header_parameters={"typ": TYP, "x5c": keys.x5c},
    )
    return str(made.sd_jwt_issuance)


def present(
    credential: str,
    *,
    disclose: Iterable[str],
    holder_key: JWK,
    audience: str,
    nonce: str,
) -> str:
    """A presentation of ``credential`` with the named top-level claims disclosed and a key-binding
    JWT for ``audience`` and ``nonce`` (what a wallet does; Saldo's test wallet and demo use it)."""
    holder = SDJWTHolder(credential)
    holder.create_presentation(
        dict.fromkeys(disclose, True),
        nonce=nonce,
        aud=audience,
        holder_key=holder_key,
        sign_alg=ALGORITHM,
    )
    return str(holder.sd_jwt_presentation)


@dataclass(frozen=True)
class Verified:
    """A presentation that passed every check: what the holder disclosed, and who vouches for it."""

    vct: str
    issuer: str
    issuer_subject: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    disclosed: dict[str, Any]
    status: dict[str, Any] | None
    holder_bound: bool


def refuse(reason: str, detail: str) -> PresentationRefusedError:
    return PresentationRefusedError(reason, detail)


def _header(jwt: str, what: str) -> dict[str, Any]:
    parts = jwt.split(".")
    if len(parts) != 3:
        raise refuse("malformed", f"the {what} is not a compact JWS (three dot-separated parts)")
    try:
        header = b64url_json(parts[0])
    except (ValueError, UnicodeDecodeError) as error:
        raise refuse("malformed", f"the {what}'s header is not base64url JSON: {error}") from None
    if not isinstance(header, dict):
        raise refuse("malformed", f"the {what}'s header is not a JSON object")
    return header


def _walk_digests(value: Any, found: list[str]) -> None:
    """Every digest a (part of a) payload refers to, in ``_sd`` arrays and ``{"...": d}`` elements."""
    if isinstance(value, dict):
        sd = value.get("_sd", [])
        if not isinstance(sd, list) or not all(isinstance(d, str) for d in sd):
            raise refuse("malformed", "an _sd claim is not an array of digests")
        found.extend(sd)
        for key, item in value.items():
            if key != "_sd":
                _walk_digests(item, found)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and set(item) == {"..."}:
                if not isinstance(item["..."], str):
                    raise refuse("malformed", "an array element's '...' is not a digest")
                found.append(item["..."])
            else:
                _walk_digests(item, found)


def _check_disclosures(payload: Mapping[str, Any], disclosures: Sequence[str]) -> dict[str, Any]:
    """The decoded disclosures by digest, after the RFC's checks the library leaves out."""
    by_digest: dict[str, Any] = {}
    for disclosure in disclosures:
        try:
            decoded = b64url_json(disclosure)
        except (ValueError, UnicodeDecodeError):
            raise refuse("malformed_disclosure", "a disclosure is not base64url-encoded JSON") from None
        if not isinstance(decoded, list) or len(decoded) not in (2, 3):
            raise refuse("malformed_disclosure", "a disclosure is not an array of two or three elements")
        if len(decoded) == 3 and (not isinstance(decoded[1], str) or decoded[1] in ("_sd", "...")):
            raise refuse("malformed_disclosure", f"a disclosure names the claim {decoded[1]!r}, which is not allowed")
        if len(decoded) == 3 and decoded[1] in REGISTERED:
            raise refuse("malformed_disclosure", f"the registered claim {decoded[1]!r} is disclosed selectively")
        digest = _digest(disclosure)
        if digest in by_digest:
            raise refuse("duplicate_disclosure", "the same disclosure is presented twice")
        by_digest[digest] = decoded
    referenced: list[str] = []
    _walk_digests(dict(payload), referenced)
    for decoded in by_digest.values():
        _walk_digests(decoded[-1], referenced)
    if len(referenced) != len(set(referenced)):
        raise refuse("duplicate_digest", "a digest appears more than once in the credential")
    unreferenced = set(by_digest) - set(referenced)
    if unreferenced:
        raise refuse("unreferenced_disclosure", "a disclosure is presented that no digest in the credential refers to")
    return by_digest


@overload
def _time(payload: Mapping[str, Any], claim: str) -> dt.datetime: ...
@overload
def _time(payload: Mapping[str, Any], claim: str, *, required: bool) -> dt.datetime | None: ...
def _time(payload: Mapping[str, Any], claim: str, *, required: bool = True) -> dt.datetime | None:
    value = payload.get(claim)
    if value is None:
        if required:
            raise refuse("malformed", f"the credential has no {claim}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise refuse("malformed", f"{claim} is not a NumericDate")
    return dt.datetime.fromtimestamp(value, dt.UTC)


def verify(
    presentation: str,
    *,
    anchors: Sequence[x509.Certificate],
    accepted_vcts: Iterable[str],
    audience: str | None,
    nonce: str | None,
    now: dt.datetime,
    status_of: Callable[[str, int], int] | None,
) -> Verified:
    """Check a presented SD-JWT VC; raise PresentationRefusedError with the first reason it fails.

    ``audience`` and ``nonce`` None: no key binding is asked for (an issuer reading back its own
    credential); otherwise a key-binding JWT for exactly them, made in the last five minutes, is
    required. ``status_of(uri, idx)`` answers a status list's entry (0 valid, 1 revoked, 2
    suspended) or raises PresentationRefusedError when the list cannot be had."""
    if len(presentation) > MAX_BYTES:
        raise refuse("too_large", f"the presentation is {len(presentation)} bytes; at most {MAX_BYTES} are read")
    if not COMPACT.fullmatch(presentation):
        # base64url decoders skip characters outside the alphabet: a presentation is refused with
        # them, not read as if they were not there
        raise refuse(
            "malformed",
            "an SD-JWT is a JWT, its disclosures and a key-binding JWT in base64url, separated by ~ and .",
        )
    jwt, *disclosures, kb_jwt = presentation.split("~")
    for segment in [*jwt.split("."), *disclosures, *kb_jwt.split(".")]:
        if segment and not _canonical(segment):
            # the last character's unused bits can differ without changing a byte: refused, so one
            # presentation has one spelling (what sd_hash and the replay checks compare)
            raise refuse("malformed", "a part of the SD-JWT is not canonical base64url")
    leaf = _trusted_signer(_header(jwt, "credential"), anchors, now)
    issuer_jwk = JWK.from_pyca(leaf.public_key())
    try:
        verifier = SDJWTVerifier(presentation, lambda _iss, _header: issuer_jwk)
    except JWException:
        raise refuse("bad_signature", "the issuer's signature does not verify") from None
    except (ValueError, KeyError, TypeError, IndexError) as error:
        if "Duplicate disclosure" in str(error):
            raise refuse("duplicate_disclosure", "the same disclosure is presented twice") from None
        raise refuse("malformed", f"the SD-JWT cannot be read: {error}") from None
    payload: dict[str, Any] = verifier._sd_jwt_payload
    if not isinstance(payload, dict):
        raise refuse("malformed", "the credential's payload is not a JSON object")
    _check_disclosures(payload, disclosures)
    issuer, issued_at, expires_at = _check_claims(payload, set(accepted_vcts), now)
    bound = audience is not None or nonce is not None
    if bound:
        _check_key_binding(verifier, kb_jwt, payload, audience=audience, nonce=nonce, now=now)
    try:
        claims = verifier.get_verified_payload()
    except ValueError as error:
        raise refuse("duplicate_digest", str(error)) from None
    status = payload.get("status")
    if status is not None:
        _check_status(status, status_of)
    return Verified(
        vct=str(payload["vct"]),
        issuer=issuer,
        issuer_subject=leaf.subject.rfc4514_string(),
        issued_at=issued_at,
        expires_at=expires_at,
        disclosed={k: v for k, v in claims.items() if k not in REGISTERED},
        status=status,
        holder_bound=bound,
    )


def _trusted_signer(
    header: Mapping[str, Any], anchors: Sequence[x509.Certificate], now: dt.datetime
) -> x509.Certificate:
    """The certificate the credential is signed under, once its header and chain pass."""
    if header.get("alg") != ALGORITHM:
        raise refuse(
            "unsupported_algorithm", f"the credential is signed with {header.get('alg')!r}; only ES256 is accepted"
        )
    if header.get("typ") != TYP:
        raise refuse("wrong_type", f"the credential's typ is {header.get('typ')!r}, not {TYP!r}")
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise refuse("untrusted_issuer", "the credential carries no x5c certificate chain")
    try:
        leaf = verify_chain(x5c, anchors, at=now)
    except ValueError as error:
        raise refuse("untrusted_issuer", str(error)) from None
    public_key = leaf.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, ec.SECP256R1):
        raise refuse("untrusted_issuer", "the issuer's certificate does not hold a P-256 key")
    return leaf


def _check_claims(
    payload: Mapping[str, Any], accepted_vcts: set[str], now: dt.datetime
) -> tuple[str, dt.datetime, dt.datetime]:
    """The issuer and the validity period, once the type and the times pass."""
    vct = payload.get("vct")
    if vct not in accepted_vcts:
        raise refuse("wrong_vct", f"the credential's vct {vct!r} is not one this verifier accepts")
    issuer = payload.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise refuse("malformed", "the credential has no iss")
    issued_at = _time(payload, "iat")
    expires_at = _time(payload, "exp")
    not_before = _time(payload, "nbf", required=False) or issued_at
    if now >= expires_at + CLOCK_SKEW:
        raise refuse("expired", f"the credential expired at {expires_at:%Y-%m-%d %H:%M} UTC")
    if now + CLOCK_SKEW < not_before:
        raise refuse("not_yet_valid", f"the credential is valid only from {not_before:%Y-%m-%d %H:%M} UTC")
    return issuer, issued_at, expires_at


def _check_key_binding(
    verifier: SDJWTVerifier,
    kb_jwt: str,
    payload: Mapping[str, Any],
    *,
    audience: str | None,
    nonce: str | None,
    now: dt.datetime,
) -> None:
    if not kb_jwt:
        raise refuse("no_key_binding", "the presentation has no key-binding JWT: the holder did not prove the key")
    cnf = payload.get("cnf")
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        raise refuse("no_key_binding", "the credential names no holder key (cnf.jwk)")
    header = _header(kb_jwt, "key-binding JWT")
    if header.get("alg") != ALGORITHM:
        raise refuse("unsupported_algorithm", f"the key-binding JWT is signed with {header.get('alg')!r}; only ES256")
    if header.get("typ") != KB_TYP:
        raise refuse("wrong_key_binding", f"the key-binding JWT's typ is {header.get('typ')!r}, not {KB_TYP!r}")
    try:
        claims = b64url_json(kb_jwt.split(".")[1])
    except (ValueError, UnicodeDecodeError):
        raise refuse("malformed", "the key-binding JWT's payload is not base64url JSON") from None
    if not isinstance(claims, dict):
        raise refuse("malformed", "the key-binding JWT's payload is not a JSON object")
    if claims.get("aud") != audience:
        raise refuse("wrong_audience", f"the presentation was made for {claims.get('aud')!r}, not for this verifier")
    if claims.get("nonce") != nonce:
        raise refuse("wrong_nonce", "the presentation answers another request (its nonce is not this one's)")
    made = claims.get("iat")
    if isinstance(made, bool) or not isinstance(made, int | float):
        raise refuse("wrong_key_binding", "the key-binding JWT has no iat")
    made_at = dt.datetime.fromtimestamp(made, dt.UTC)
    if made_at > now + CLOCK_SKEW or made_at < now - KB_MAX_AGE:
        raise refuse("stale_key_binding", f"the key-binding JWT was made at {made_at:%H:%M:%S} UTC, not just now")
    try:
        verifier._verify_key_binding_jwt(audience, nonce)
    except JWException:
        raise refuse("wrong_key_binding", "the key-binding JWT is not signed by the credential's holder key") from None
    except (ValueError, KeyError, TypeError) as error:
        text = str(error)
        reason = "wrong_sd_hash" if "digest" in text else "wrong_key_binding"
        raise refuse(reason, f"the key-binding JWT does not fit the presentation: {text}") from None


def _check_status(status: Any, status_of: Callable[[str, int], int] | None) -> None:
    reference = status.get("status_list") if isinstance(status, dict) else None
    if not isinstance(reference, dict):
        raise refuse("malformed", "the credential's status claim has no status_list reference")
    uri, idx = reference.get("uri"), reference.get("idx")
    if not isinstance(uri, str) or isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
        raise refuse("malformed", "the credential's status_list reference needs a uri and a non-negative idx")
    if len(uri) > MAX_STATUS_URI or idx >= 1 << 31:
        raise refuse(
            "malformed", f"the status list reference is out of bounds (uri at most {MAX_STATUS_URI} characters)"
        )
    if status_of is None:
        raise refuse("status_unknown", "the credential's status cannot be checked here")
    value = status_of(uri, idx)
    if value == 1:
        raise refuse("revoked", "the issuer has revoked the credential")
    if value == 2:
        raise refuse("suspended", "the issuer has suspended the credential")
    if value != 0:
        raise refuse("revoked", f"the issuer's status list marks the credential {value:#04x}: not valid")
