"""The online procedures run in the issuer's app (credentials configured, the development eID on)."""

from __future__ import annotations

from tests.credentials.conftest import credential_pki, issuer_web, officer  # noqa: F401 — fixtures by name
