"""A minimal test wallet: it receives a credential over OpenID4VCI (pre-authorised code with a
transaction code, a nonce, a key proof), keeps it, and presents it with the claims asked for and a
key-binding JWT. It speaks HTTP to whatever client it is given (the app in-process, or a live
server), and signs with its own P-256 key."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jws
from joserfc.jwk import ECKey
from jwcrypto.jwk import JWK

from saldo.credentials.service import sd_jwt_vc


def offer_from_uri(uri: str) -> dict[str, Any]:
    """The offer a QR code or link carries (openid-credential-offer://?credential_offer=…)."""
    parts = urlsplit(uri)
    assert parts.scheme == "openid-credential-offer"
    offer: dict[str, Any] = json.loads(parse_qs(parts.query)["credential_offer"][0])
    return offer


@dataclass
class Wallet:
    key: JWK = field(default_factory=lambda: JWK.generate(kty="EC", crv="P-256"))
    credentials: list[str] = field(default_factory=list)

    @property
    def public_jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = self.key.export_public(as_dict=True)
        return public

    @property
    def private_jwk(self) -> dict[str, Any]:
        private: dict[str, Any] = self.key.export_private(as_dict=True)
        return private

    def proof(self, *, audience: str, nonce: str, iat: int | None = None, key: JWK | None = None) -> str:
        """An openid4vci-proof+jwt over this wallet's key (or another, to play an attacker)."""
        signer = key or self.key
        header = {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": signer.export_public(as_dict=True)}
        claims = {"aud": audience, "iat": iat if iat is not None else int(time.time()), "nonce": nonce}
        signing_key = ECKey.import_key(signer.export_private(as_dict=True))
        return jws.serialize_compact(header, json.dumps(claims).encode(), signing_key)

    def token(self, client: Any, offer: dict[str, Any], tx_code: str) -> Any:
        grant = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        form = {
            "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": grant["pre-authorized_code"],
            "tx_code": tx_code,
        }
        return client.post("/credentials/token", data=form)

    def receive(self, client: Any, offer_uri: str, tx_code: str) -> str:
        """The whole OpenID4VCI exchange, reading the issuer's metadata for its endpoints."""
        offer = offer_from_uri(offer_uri)
        metadata = client.get("/.well-known/openid-credential-issuer").json()
        assert metadata["credential_issuer"] == offer["credential_issuer"]
        answer = self.token(client, offer, tx_code)
        assert answer.status_code == 200, answer.text
        access_token = answer.json()["access_token"]
        nonce = client.post(_path(metadata["nonce_endpoint"])).json()["c_nonce"]
        response = client.post(
            _path(metadata["credential_endpoint"]),
            json={
                "credential_configuration_id": offer["credential_configuration_ids"][0],
                "proofs": {"jwt": [self.proof(audience=offer["credential_issuer"], nonce=nonce)]},
            },
            headers={"Authorization": f"Bearer {access_token}"},
        )
        assert response.status_code == 200, response.text
        credential: str = response.json()["credentials"][0]["credential"]
        self.credentials.append(credential)
        return credential

    def present(self, credential: str, *, disclose: set[str], audience: str, nonce: str) -> str:
        return sd_jwt_vc.present(credential, disclose=disclose, holder_key=self.key, audience=audience, nonce=nonce)


def _path(url: str) -> str:
    """An endpoint from the metadata as a path the client resolves against the server."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def request_from_url(url: str) -> dict[str, str]:
    """The OpenID4VP request a QR code or link carries (openid4vp://?client_id=…&dcql_query=…)."""
    parts = urlsplit(url)
    assert parts.scheme == "openid4vp"
    return {name: values[0] for name, values in parse_qs(parts.query).items()}


def answer_request(wallet: Wallet, client: Any, url: str, credential: str | None = None) -> Any:
    """What a wallet does with a verifier's request: present the asked-for claims of its credential
    to the client_id with the nonce, and post it to the response_uri (direct_post)."""
    request = request_from_url(url)
    query = json.loads(request["dcql_query"])["credentials"][0]
    asked = {claim["path"][0] for claim in query["claims"]}
    presentation = wallet.present(
        credential or wallet.credentials[-1], disclose=asked, audience=request["client_id"], nonce=request["nonce"]
    )
    return post_answer(client, request, {query["id"]: [presentation]})


def post_answer(client: Any, request: dict[str, str], vp_token: Any) -> Any:
    form = {"vp_token": json.dumps(vp_token), "state": request["state"]}
    return client.post(_path(request["response_uri"]), data=form)


@dataclass
class AuthorizationStart:
    """A wallet's authorisation request (code flow with PKCE) and what it must remember."""

    url: str
    verifier: str
    state: str
    client_id: str = "https://wallet.example/client"
    redirect_uri: str = "https://wallet.example/callback"


def start_authorization(scope: str, **overrides: str) -> AuthorizationStart:
    verifier = base64.urlsafe_b64encode(os.urandom(40)).decode().rstrip("=")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    start = AuthorizationStart(url="", verifier=verifier, state=base64.urlsafe_b64encode(os.urandom(9)).decode())
    params = {
        "response_type": "code",
        "client_id": start.client_id,
        "redirect_uri": start.redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": scope,
        "state": start.state,
        **overrides,
    }
    start.url = "/credentials/authorize?" + urlencode(params)
    return start


def token_for_code(client: Any, start: AuthorizationStart, code: str, *, verifier: str | None = None) -> Any:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier or start.verifier,
        "redirect_uri": start.redirect_uri,
        "client_id": start.client_id,
    }
    return client.post("/credentials/token", data=form)


def collect_with_token(wallet: Wallet, client: Any, access_token: str, audience: str) -> Any:
    nonce = client.post("/credentials/nonce").json()["c_nonce"]
    return client.post(
        "/credentials/credential",
        json={"proofs": {"jwt": [wallet.proof(audience=audience, nonce=nonce)]}},
        headers={"Authorization": f"Bearer {access_token}"},
    )
