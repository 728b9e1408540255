"""The SHA-256 of a file: what makes a file's second delivery recognisable (idempotency keys,
manifests)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_of_file(path: Path) -> bytes:
    """The SHA-256 digest of a file's bytes, read in blocks (memory stays flat)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").digest()
