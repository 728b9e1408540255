"""Keyed pseudonyms (HMAC-SHA256) for the identifiers an analysis snapshot carries.

The key lives in a file outside the database (SALDO_PSEUDONYM_KEY_FILE): without it a pseudonym
cannot be linked back to a person, and with it the same person always gets the same pseudonym, so
snapshots can be compared over time. Re-identification happens in the registry, by computing the
pseudonym of a known identifier, when a case is opened."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_BYTES = 32
PSEUDONYM_HEX = 32  # 128 bits of the HMAC: collisions are out of reach for any population


def load_or_create_key(path: Path) -> bytes:
    """The pseudonym key in ``path``; a new random key (mode 0600) when the file does not exist."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
    key = path.read_bytes()
    if len(key) < KEY_BYTES:
        raise ValueError(f"the pseudonym key in {path} is shorter than {KEY_BYTES} bytes")
    return key


class Pseudonymiser:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @property
    def fingerprint(self) -> str:
        """Names the key in a manifest without revealing it."""
        return hmac.new(self._key, b"saldo key fingerprint", hashlib.sha256).hexdigest()[:16]

    def one(self, domain: str, value: str) -> str:
        """The pseudonym of ``value`` in ``domain`` (person, account, decision, household, employer)."""
        message = f"{domain}\x1f{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]

    def many(self, domain: str, values: list[str]) -> list[str]:
        """The pseudonyms of ``values`` in ``domain``, each the same as ``one`` gives."""
        prefix = hmac.new(self._key, f"{domain}\x1f".encode(), hashlib.sha256)
        keys = []
        for value in values:
            digest = prefix.copy()
            digest.update(value.encode())
            keys.append(digest.hexdigest()[:PSEUDONYM_HEX])
        return keys
