"""Bearer API tokens: random secrets shown once and stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

# 32 random bytes: an API token is a bearer secret and must not be guessable (OWASP ASVS 3.5.2).
TOKEN_SECRET_BYTES = 32
MAX_TOKEN_LENGTH = 100


def hash_token(token: str) -> bytes:
    """SHA-256 of a token. Tokens are 256-bit random, so a fast hash suffices (no password stretching)."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_token(marker: str) -> tuple[str, str]:
    """A new secret token ``<marker><prefix>_<secret>`` and its public prefix (shown in listings)."""
    prefix = secrets.token_hex(4)
    return f"{marker}{prefix}_{secrets.token_urlsafe(TOKEN_SECRET_BYTES)}", prefix


def looks_like_token(token: str, marker: str) -> bool:
    """Whether ``token`` has the shape of a token with this marker (checked before any lookup)."""
    return token.startswith(marker) and len(token) <= MAX_TOKEN_LENGTH
