"""The relying party's checks on what a provider sends back: each bad ID token is refused with a
reason, and only a valid identifier at level substantial or high logs anyone in."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from saldo.identity.service.oidc import (
    LoginFailedError,
    ProviderMetadata,
    identity_from,
    new_login_request,
    verify_id_token,
)
from saldo.settings import OidcProviderSettings
from tests.factories import VALID_PNR

ISSUER = "https://eid.example.se"
SECRET = "a-client-secret-of-enough-length-0123"
PNR_CLAIM = "https://id.oidc.se/claim/personalIdentityNumber"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
PROVIDER = OidcProviderSettings(
    name="eid", label="eID", issuer=ISSUER, client_id="saldo", client_secret=SECRET, audience="citizen"
)
METADATA = ProviderMetadata(
    issuer=ISSUER,
    authorization_endpoint=f"{ISSUER}/authorize",
    token_endpoint=f"{ISSUER}/token",
    jwks_uri=f"{ISSUER}/jwks",
    userinfo_endpoint=None,
)
RSA = RSAKey.generate_key(2048, parameters={"kid": "k1"})
KEYS = KeySet([RSA])


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": "saldo", "sub": "abc", "iat": now, "exp": now + 300, "nonce": "n-1", "acr": LOA3}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(payload: dict[str, Any], *, alg: str = "RS256") -> str:
    key = RSA if alg == "RS256" else OctKey.import_key(SECRET)
    return jwt.encode({"alg": alg, "kid": "k1"} if alg == "RS256" else {"alg": alg}, payload, key)


class TestIdToken:
    def test_a_token_signed_by_the_provider_s_key_is_accepted(self) -> None:
        assert verify_id_token(signed(claims()), METADATA, KEYS, PROVIDER, nonce="n-1")["sub"] == "abc"

    def test_a_token_signed_with_the_client_secret_is_accepted(self) -> None:
        assert verify_id_token(signed(claims(), alg="HS256"), METADATA, KEYS, PROVIDER, nonce="n-1")["sub"] == "abc"

    @pytest.mark.parametrize(
        ("payload", "reason"),
        [  # made when the test runs, not when it is collected: a long suite must not expire them
            (lambda: claims(nonce="replayed"), "nonce"),
            (lambda: claims(aud="another-client"), "another client"),
            (lambda: claims(iss="https://evil.example"), "iss"),
            (lambda: claims(exp=int(time.time()) - 3600), "exp"),
            (lambda: claims(sub=None), "sub"),
            (lambda: claims(aud=["saldo", "other"], azp="other"), "authorised party"),
        ],
    )
    def test_a_token_that_does_not_check_out_is_refused(
        self, payload: Callable[[], dict[str, Any]], reason: str
    ) -> None:
        with pytest.raises(LoginFailedError, match=reason):
            verify_id_token(signed(payload()), METADATA, KEYS, PROVIDER, nonce="n-1")

    def test_a_token_signed_by_someone_else_is_refused(self) -> None:
        stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        forged = jwt.encode({"alg": "RS256", "kid": "k1"}, claims(), stranger)
        with pytest.raises(LoginFailedError, match="does not check out"):
            verify_id_token(forged, METADATA, KEYS, PROVIDER, nonce="n-1")

    def test_an_unsigned_token_is_refused(self) -> None:
        header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
        with pytest.raises(LoginFailedError, match="not signed"):
            verify_id_token(f"{header}.e30.", METADATA, KEYS, PROVIDER, nonce="n-1")

    def test_garbage_is_refused(self) -> None:
        with pytest.raises(LoginFailedError, match="not a JWT"):
            verify_id_token("not-a-token", METADATA, KEYS, PROVIDER, nonce="n-1")


class TestIdentity:
    def test_the_identifier_and_level_are_read_from_the_claims(self) -> None:
        identity = identity_from({"sub": "abc", "acr": LOA3, PNR_CLAIM: VALID_PNR, "name": "Anna"}, PROVIDER)
        assert (identity.person_scheme, identity.person_id, identity.loa, identity.name) == (
            "se_personnummer",
            VALID_PNR,
            "substantial",
            "Anna",
        )

    @pytest.mark.parametrize(
        ("extra", "reason"),
        [
            ({"acr": "http://id.elegnamnden.se/loa/1.0/loa2", PNR_CLAIM: VALID_PNR}, "below substantial"),
            ({"acr": LOA3}, "did not give the person's identifier"),
            ({"acr": LOA3, PNR_CLAIM: "198112289875"}, "not valid"),
        ],
    )
    def test_low_assurance_or_a_missing_or_invalid_identifier_is_refused(
        self, extra: dict[str, str], reason: str
    ) -> None:
        with pytest.raises(LoginFailedError, match=reason):
            identity_from({"sub": "abc", **extra}, PROVIDER)


def test_each_login_has_its_own_state_nonce_and_a_s256_challenge() -> None:
    first, second = new_login_request(), new_login_request()
    assert len({first.state, second.state, first.nonce, second.nonce}) == 4
    assert len(first.code_verifier) >= 43
    assert first.code_challenge != first.code_verifier
    assert "=" not in first.code_challenge
