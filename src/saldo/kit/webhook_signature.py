"""Signed webhooks: ``Saldo-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.

The receiver recomputes the HMAC over the timestamp and the exact body bytes with the secret it was
given, compares in constant time, and refuses a timestamp older than its tolerance (a replay)."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

HEADER = "Saldo-Signature"
TOLERANCE_S = 300
_STAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only
_DIGEST = re.compile(r"[0-9a-f]{64}")  # hex SHA-256, as sign() writes it


class SignatureError(ValueError):
    """The signature header is missing, malformed, too old, or does not match the body."""


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The header value that signs ``body`` now (or at ``timestamp``)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify(
    secret: str, header: str | None, body: bytes, *, now: int | None = None, tolerance: int = TOLERANCE_S
) -> None:
    """Raise SignatureError unless ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds."""
    if not header:
        raise SignatureError(f"no {HEADER} header")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not _STAMP.fullmatch(stamp) or not _DIGEST.fullmatch(given):
        raise SignatureError(f"malformed {HEADER} header: {header[:200]!r}")
    current = int(time.time()) if now is None else now
    if abs(current - int(stamp)) > tolerance:
        raise SignatureError(f"signature timestamp {stamp} is more than {tolerance} s from now")
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureError("the signature does not match the body")
