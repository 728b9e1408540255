"""Webhook signatures: what Saldo signs verifies with the same secret; any change to the body, the
timestamp or the digest is refused with a SignatureError — and so is any malformed header,
never another exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saldo.kit.webhook_signature import SignatureError, sign, verify

NOW = 1_790_000_000
SECRETS = st.text(min_size=1, max_size=64)
BODIES = st.binary(max_size=512)


@given(SECRETS, BODIES)
def test_what_is_signed_verifies(secret: str, body: bytes) -> None:
    verify(secret, sign(secret, body, timestamp=NOW), body, now=NOW)


@given(SECRETS, BODIES, st.binary(min_size=1, max_size=8))
def test_a_changed_body_is_refused(secret: str, body: bytes, extra: bytes) -> None:
    header = sign(secret, body, timestamp=NOW)
    with pytest.raises(SignatureError):
        verify(secret, header, body + extra, now=NOW)


@given(SECRETS, BODIES, st.integers(min_value=1, max_value=10**6))
def test_a_changed_timestamp_is_refused(secret: str, body: bytes, shift: int) -> None:
    digest = sign(secret, body, timestamp=NOW).split(",v1=")[1]
    with pytest.raises(SignatureError):
        verify(secret, f"t={NOW + shift},v1={digest}", body, now=NOW + shift)


@given(SECRETS, BODIES, st.text(max_size=120))
def test_any_header_at_all_is_accepted_or_refused_with_a_signature_error(secret: str, body: bytes, header: str) -> None:
    try:
        verify(secret, header, body, now=NOW)
    except SignatureError:
        return
    assert header == sign(secret, body, timestamp=NOW)  # only the genuine header passes


@pytest.mark.parametrize("digest", ["é" * 64, "Z" * 64, "ab", "\uff10" * 64])
def test_a_malformed_digest_is_a_signature_error_not_a_type_error(digest: str) -> None:
    with pytest.raises(SignatureError, match="malformed"):
        verify("secret", f"t={NOW},v1={digest}", b"{}", now=NOW)
