"""The IETF Token Status List (draft-ietf-oauth-status-list): a credential's revocation and
suspension, told to verifiers without telling the issuer who is being checked.

Every credential points at one entry of a list (``status.status_list {idx, uri}``); the list is a
compressed bit string, two bits an entry (0 valid, 1 invalid = revoked, 2 suspended), signed by the
issuer as a ``statuslist+jwt`` with a ``ttl`` saying how long a verifier may keep it. Entries are
taken at random, so neighbouring indexes say nothing about who was issued when."""

from __future__ import annotations

import base64
import datetime as dt
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from saldo.credentials.errors import PresentationRefusedError
from saldo.credentials.service.keys import IssuerKeys, verify_chain

TYP = "statuslist+jwt"
BITS = 2
VALID, INVALID, SUSPENDED = 0, 1, 2
MAX_TOKEN_BYTES = 8 * 1024**2  # a 10 M-entry list with a few per cent revoked is well under 1 MiB


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pack(size: int, statuses: Iterable[tuple[int, int]], *, bits: int = BITS) -> bytes:
    """The list's bytes: entry ``i`` in bits ``i*bits`` … of the string, least significant first."""
    per_byte = 8 // bits
    packed = bytearray((size + per_byte - 1) // per_byte)
    for index, value in statuses:
        if not 0 <= index < size:
            raise ValueError(f"index {index} is outside a list of {size}")
        byte, slot = divmod(index, per_byte)
        packed[byte] |= (value & ((1 << bits) - 1)) << (slot * bits)
    return bytes(packed)


def entry(packed: bytes, index: int, *, bits: int = BITS) -> int:
    per_byte = 8 // bits
    byte, slot = divmod(index, per_byte)
    if byte >= len(packed):
        raise IndexError(index)
    return (packed[byte] >> (slot * bits)) & ((1 << bits) - 1)


def compress(packed: bytes) -> str:
    """``lst``: the bytes deflated in the zlib format, base64url without padding."""
    return _b64url(zlib.compress(packed, 9))


def sign(
    *,
    keys: IssuerKeys,
    uri: str,
    size: int,
    statuses: Iterable[tuple[int, int]],
    issued_at: dt.datetime,
    ttl: dt.timedelta,
    valid_for: dt.timedelta,
) -> str:
    """The signed list token for ``uri``."""
    claims = {
        "sub": uri,
        "iat": int(issued_at.timestamp()),
        "exp": int((issued_at + valid_for).timestamp()),
        "ttl": int(ttl.total_seconds()),
        "status_list": {"bits": BITS, "lst": compress(pack(size, statuses))},
    }
    header = {"alg": "ES256", "typ": TYP, "x5c": keys.x5c}
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return jws.serialize_compact(header, payload, _signing_key(keys), registry=REGISTRY)


class _Registry(jws.JWSRegistry):
    # joserfc refuses headers over 512 bytes and payloads over 128 kB by default: an x5c chain is
    # about 1 kB, and a list of millions of entries with some revoked is hundreds of kB
    max_header_length = 16 * 1024
    max_payload_length = MAX_TOKEN_BYTES


REGISTRY = _Registry(algorithms=["ES256"])


@lru_cache(maxsize=8)  # the keys object is the cache key (and kept alive by it): a rotated key is a new entry
def _signing_key(keys: IssuerKeys) -> ECKey:
    return ECKey.import_key(keys.private_key)


@dataclass(frozen=True)
class StatusList:
    """A list token that passed its checks: its entries and how long it may be used."""

    uri: str
    issuer_subject: str
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    ttl: dt.timedelta | None
    bits: int
    packed: bytes

    def status(self, index: int) -> int:
        try:
            return entry(self.packed, index, bits=self.bits)
        except IndexError:
            raise PresentationRefusedError(
                "status_unknown", f"the status list {self.uri} has no entry {index}"
            ) from None

    def fresh_until(self) -> dt.datetime | None:
        """Until when a verifier may rely on it without fetching it again."""
        ends = [t for t in (self.expires_at, self.issued_at + self.ttl if self.ttl else None) if t]
        return min(ends) if ends else None


def read(token: str, *, uri: str, anchors: Sequence[x509.Certificate], now: dt.datetime) -> StatusList:
    """A status list token checked: signed ES256 under a trusted root, for ``uri``, not expired."""

    def refused(detail: str) -> PresentationRefusedError:
        return PresentationRefusedError("status_list_invalid", f"the status list {uri}: {detail}")

    if len(token) > MAX_TOKEN_BYTES:
        raise refused("the token is too large")
    try:
        header = json.loads(_b64url_decode(token.split(".", maxsplit=1)[0]))
    except (ValueError, IndexError):
        raise refused("not a compact JWS") from None
    if not isinstance(header, dict) or header.get("typ") != TYP or header.get("alg") != "ES256":
        raise refused(f"the token's typ must be {TYP} and alg ES256")
    try:
        leaf = verify_chain(header.get("x5c") or [], anchors, at=now)
    except ValueError as error:
        raise refused(str(error)) from None
    public_key = leaf.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise refused("the signer's certificate holds no EC key")
    try:
        verified = jws.deserialize_compact(token, ECKey.import_key(public_key), registry=REGISTRY)
        claims: Any = json.loads(verified.payload)
    except (JoseError, ValueError):
        raise refused("the signature does not verify") from None
    if not isinstance(claims, dict) or claims.get("sub") != uri:
        raise refused("the token is about another list (its sub is not this uri)")
    body = claims.get("status_list")
    if not isinstance(body, dict) or body.get("bits") not in (1, 2, 4, 8) or not isinstance(body.get("lst"), str):
        raise refused("status_list needs bits (1, 2, 4 or 8) and lst")
    try:
        packed = zlib.decompress(_b64url_decode(body["lst"]))
    except (ValueError, zlib.error):
        raise refused("lst is not a zlib-deflated bit string") from None
    issued_at = dt.datetime.fromtimestamp(int(claims.get("iat", 0)), dt.UTC)
    expires_at = dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC) if "exp" in claims else None
    if expires_at is not None and now >= expires_at:
        raise refused(f"it expired at {expires_at:%Y-%m-%d %H:%M} UTC")
    ttl = dt.timedelta(seconds=int(claims["ttl"])) if "ttl" in claims else None
    return StatusList(uri, leaf.subject.rfc4514_string(), issued_at, expires_at, ttl, int(body["bits"]), packed)
