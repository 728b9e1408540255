"""Saldo's credentials against an implementation it did not write: the OpenWallet Foundation's
sd-jwt-js (npm @sd-jwt/sd-jwt-vc and @sd-jwt/jwt-status-list), in Node.

Both ways: every credential, presentation and status list Saldo issues is verified by the peer
(signature, x5c chain to the root, disclosures, key binding with nonce and audience, status), and
Saldo's verifier accepts the credentials, presentations and status lists the peer makes. Where one
refuses what the other accepts, the test says which."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jwcrypto.jwk import JWK

from saldo.credentials.errors import PresentationRefusedError
from saldo.credentials.service import sd_jwt_vc, status_list
from saldo.credentials.service.keys import certificate_pem
from saldo.kit.clock import utcnow
from tests.credentials.conftest import CredentialPki, Peer
from tests.credentials.test_issuing import ISSUER, issue_ehic, issue_pda1
from tests.credentials.wallet import Wallet

AUDIENCE = "https://inspector.example"


def _status_token(client: TestClient, credential: str) -> tuple[str, str, int]:
    reference = sd_jwt_vc.b64url_json(credential.split("~", maxsplit=1)[0].split(".")[1])["status"]["status_list"]
    token = client.get(reference["uri"].removeprefix(ISSUER)).text
    return reference["uri"], token, reference["idx"]


class TestThePeerChecksWhatSaldoIssues:
    def test_a_collected_pda1_and_its_presentation_verify_in_the_peer(
        self, issuer_client: TestClient, officer: dict[str, str], credential_pki: CredentialPki, peer: Peer
    ) -> None:
        issued = issue_pda1(issuer_client, officer)
        wallet = Wallet()
        credential = wallet.receive(issuer_client, issued["offer"]["credential_offer_uri"], issued["offer"]["tx_code"])
        uri, token, _ = _status_token(issuer_client, credential)
        presentation = wallet.present(
            credential, disclose={"personal_administrative_number"}, audience=AUDIENCE, nonce="peer-1"
        )
        answer = peer(
            "verify",
            presentation=presentation,
            anchor_pem=credential_pki.anchor_pem,
            audience=AUDIENCE,
            nonce="peer-1",
            now=int(time.time()),
            status_lists={uri: token},
        )
        assert answer["ok"], answer
        assert answer["header"]["typ"] == "dc+sd-jwt"
        claims = answer["claims"]
        assert claims["vct"] == "urn:eudi:pda1:1"
        assert claims["personal_administrative_number"] == issued["credential"]["person_id"]
        assert "document_number" not in claims  # not disclosed
        assert claims["employer"] == issued["credential"]["claims"]["employer"]
        assert answer["kb"]["aud"] == AUDIENCE

    def test_the_peer_refuses_what_saldo_has_revoked_and_a_wrong_nonce(
        self, issuer_client: TestClient, officer: dict[str, str], credential_pki: CredentialPki, peer: Peer
    ) -> None:
        issued = issue_ehic(issuer_client, officer)
        wallet = Wallet()
        credential = wallet.receive(issuer_client, issued["offer"]["credential_offer_uri"], issued["offer"]["tx_code"])
        presentation = wallet.present(credential, disclose=set(), audience=AUDIENCE, nonce="n")
        uri, token, _ = _status_token(issuer_client, credential)
        common: dict[str, Any] = {
            "presentation": presentation,
            "anchor_pem": credential_pki.anchor_pem,
            "audience": AUDIENCE,
            "now": int(time.time()),
        }
        assert peer("verify", nonce="n", status_lists={uri: token}, **common)["ok"]
        replay = peer("verify", nonce="another", status_lists={uri: token}, **common)
        assert not replay["ok"]
        assert "nonce" in replay["error"].lower()
        number = issued["credential"]["document_number"]
        issuer_client.post(
            f"/api/v1/staff/credentials/{number}/revoke", json={"reason": "card replaced"}, headers=officer
        )
        _, revoked_list, _ = _status_token(issuer_client, credential)
        refused = peer("verify", nonce="n", status_lists={uri: revoked_list}, **{**common, "now": int(time.time())})
        assert not refused["ok"]
        assert refused["error"] == "status 1: not valid"
        stranger = peer(
            "verify",
            nonce="n",
            status_lists={uri: token},
            **{**common, "anchor_pem": certificate_pem(credential_pki.stranger.certificate)},
        )
        assert not stranger["ok"]

    def test_the_peer_reads_saldos_status_list(
        self, issuer_client: TestClient, officer: dict[str, str], credential_pki: CredentialPki, peer: Peer
    ) -> None:
        suspended, revoked, valid = (issue_ehic(issuer_client, officer)["credential"] for _ in range(3))
        for credential, action in ((suspended, "suspend"), (revoked, "revoke")):
            issuer_client.post(
                f"/api/v1/staff/credentials/{credential['document_number']}/{action}",
                json={"reason": "test of the list"},
                headers=officer,
            )
        uri = suspended["status_list"].partition("#")[0]
        token = issuer_client.get(uri.removeprefix(ISSUER)).text
        indexes = [int(c["status_list"].rsplit("#", 1)[1]) for c in (suspended, revoked, valid)]
        answer = peer(
            "status", token=token, anchor_pem=credential_pki.anchor_pem, indexes=indexes, now=int(time.time())
        )
        assert answer["ok"], answer
        assert answer["statuses"] == [2, 1, 0]
        assert answer["bits"] == 2
        assert answer["sub"] == uri
        assert answer["ttl"] == 300


class TestSaldoAcceptsWhatThePeerMakes:
    def _peer_credential(self, peer: Peer, pki: CredentialPki, holder: JWK, **claims: Any) -> str:
        now = int(time.time())
        answer = peer(
            "issue",
            issuer_jwk=JWK.from_pyca(pki.issuer.private_key).export_private(as_dict=True),
            x5c=pki.issuer.x5c,
            claims={
                "iss": "https://peer-issuer.example",
                "vct": "urn:eudi:ehic:1",
                "issuing_country": "FI",
                "document_number": "FI-EHIC-1",
                "personal_administrative_number": "010180-123A",
                **claims,
            },
            disclosable=["document_number", "personal_administrative_number"],
            holder_jwk=holder.export_public(as_dict=True),
            iat=now,
            exp=now + 3600,
        )
        assert answer["ok"], answer
        credential: str = answer["credential"]
        return credential

    def test_a_credential_and_presentation_made_by_the_peer_verify_in_saldo(
        self, peer: Peer, credential_pki: CredentialPki
    ) -> None:
        holder = JWK.generate(kty="EC", crv="P-256")
        credential = self._peer_credential(peer, credential_pki, holder)
        presented = peer(
            "present",
            credential=credential,
            holder_jwk=holder.export_private(as_dict=True),
            disclose=["personal_administrative_number"],
            audience=AUDIENCE,
            nonce="from-peer",
            iat=int(time.time()),
        )
        assert presented["ok"], presented
        verified = sd_jwt_vc.verify(
            presented["presentation"],
            anchors=[credential_pki.anchor.certificate],
            accepted_vcts={"urn:eudi:ehic:1"},
            audience=AUDIENCE,
            nonce="from-peer",
            now=utcnow(),
            status_of=None,
        )
        assert verified.issuer == "https://peer-issuer.example"
        assert verified.disclosed == {"issuing_country": "FI", "personal_administrative_number": "010180-123A"}
        # and a wallet presenting it with Saldo's holder code: the peer's credential is an SD-JWT as Saldo reads it
        ours = sd_jwt_vc.present(
            credential, disclose={"document_number"}, holder_key=holder, audience=AUDIENCE, nonce="x"
        )
        again = sd_jwt_vc.verify(
            ours,
            anchors=[credential_pki.anchor.certificate],
            accepted_vcts={"urn:eudi:ehic:1"},
            audience=AUDIENCE,
            nonce="x",
            now=utcnow(),
            status_of=None,
        )
        assert again.disclosed["document_number"] == "FI-EHIC-1"

    def test_a_status_list_the_peer_signs_is_read_and_a_revoked_peer_credential_refused(
        self, peer: Peer, credential_pki: CredentialPki
    ) -> None:
        uri = "https://peer-issuer.example/status/7"
        now = int(time.time())
        listed = peer(
            "status_issue",
            issuer_jwk=JWK.from_pyca(credential_pki.issuer.private_key).export_private(as_dict=True),
            x5c=credential_pki.issuer.x5c,
            uri=uri,
            size=1024,
            bits=2,
            entries=[[17, 1], [900, 2]],
            iat=now,
            exp=now + 600,
            ttl=300,
        )
        assert listed["ok"], listed
        read = status_list.read(listed["token"], uri=uri, anchors=[credential_pki.anchor.certificate], now=utcnow())
        assert [read.status(i) for i in (16, 17, 900, 1023)] == [0, 1, 2, 0]
        holder = JWK.generate(kty="EC", crv="P-256")
        credential = self._peer_credential(
            peer, credential_pki, holder, status={"status_list": {"idx": 17, "uri": uri}}
        )
        presentation = sd_jwt_vc.present(credential, disclose=set(), holder_key=holder, audience=AUDIENCE, nonce="s")
        with pytest.raises(PresentationRefusedError) as refused:
            sd_jwt_vc.verify(
                presentation,
                anchors=[credential_pki.anchor.certificate],
                accepted_vcts={"urn:eudi:ehic:1"},
                audience=AUDIENCE,
                nonce="s",
                now=utcnow(),
                status_of=lambda _uri, index: read.status(index),
            )
        assert refused.value.reason == "revoked"
