"""Issuing a PDA1 or an EHIC: staff record the decision and issue; the person's wallet collects
the credential over OpenID4VCI; staff suspend, reinstate and revoke it, and the status list says so."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.credentials.service import sd_jwt_vc, status_list
from saldo.eessi.models import CaseStatus, CrossBorderCase, PersonMatch
from saldo.kit.clock import today, utcnow
from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.credentials.conftest import CredentialPki
from tests.credentials.wallet import Wallet, offer_from_uri
from tests.factories import auth, pnr

ISSUER = "http://testserver"
PERSON = pnr(411, "19850612")


def decision_body(**overrides: Any) -> dict[str, Any]:
    day = today()
    body: dict[str, Any] = {
        "person_scheme": "se_personnummer",
        "person_id": PERSON,
        "legislation_country": "SE",
        "status_confirmation": "01",
        "starting_date": day.isoformat(),
        "ending_date": (day + dt.timedelta(days=365)).isoformat(),
        "employer": {"id": "5560000001", "name": "Bygg AB", "country": "SE"},
        "work_address": {
            "street_address": "Hauptstraße 1",
            "postal_code": "10115",
            "locality": "Berlin",
            "country": "DE",
        },
    }
    body.update(overrides)
    return body


def issue_pda1(client: TestClient, officer: dict[str, str], **overrides: Any) -> dict[str, Any]:
    decision = client.post("/api/v1/staff/credentials/decisions", json=decision_body(**overrides), headers=officer)
    assert decision.status_code == 201, decision.text
    issued = client.post(
        "/api/v1/staff/credentials", json={"type": "pda1", "decision_id": decision.json()["id"]}, headers=officer
    )
    assert issued.status_code == 201, issued.text
    body: dict[str, Any] = issued.json()
    return body


def issue_ehic(client: TestClient, officer: dict[str, str]) -> dict[str, Any]:
    day = today()
    issued = client.post(
        "/api/v1/staff/credentials",
        json={
            "type": "ehic",
            "person_scheme": "se_personnummer",
            "person_id": PERSON,
            "starting_date": day.isoformat(),
            "ending_date": (day + dt.timedelta(days=3 * 365)).isoformat(),
        },
        headers=officer,
    )
    assert issued.status_code == 201, issued.text
    body: dict[str, Any] = issued.json()
    return body


def status_of(client: TestClient, pki: CredentialPki, uri: str, index: int) -> int:
    response = client.get(uri.removeprefix(ISSUER), headers={"Accept": "application/statuslist+jwt"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/statuslist+jwt"
    return status_list.read(response.text, uri=uri, anchors=[pki.anchor.certificate], now=utcnow()).status(index)


def verify(client: TestClient, pki: CredentialPki, presentation: str, nonce: str) -> sd_jwt_vc.Verified:
    return sd_jwt_vc.verify(
        presentation,
        anchors=[pki.anchor.certificate],
        accepted_vcts={"urn:eudi:pda1:1", "urn:eudi:ehic:1"},
        audience="https://inspector.example",
        nonce=nonce,
        now=utcnow(),
        status_of=lambda uri, index: status_of(client, pki, uri, index),
    )


class TestIssuingAPda1:
    def test_a_decision_becomes_a_pda1_the_wallet_collects_bound_to_its_key(
        self, issuer_client: TestClient, officer: dict[str, str], credential_pki: CredentialPki
    ) -> None:
        issued = issue_pda1(issuer_client, officer)
        claims = issued["credential"]["claims"]
        assert issued["credential"]["vct"] == "urn:eudi:pda1:1"
        assert claims["legislation_country"] == "SE"
        assert claims["status_confirmation"] == "01"
        assert claims["issuing_authority"]["id"] == "SE:FKA01"
        assert claims["authentic_source"] == claims["issuing_authority"]
        assert claims["document_number"].startswith("SE-PDA1-")
        assert claims["work_address"]["locality"] == "Berlin"
        assert len(issued["offer"]["tx_code"]) == 6

        wallet = Wallet()
        credential = wallet.receive(issuer_client, issued["offer"]["credential_offer_uri"], issued["offer"]["tx_code"])
        presentation = wallet.present(
            credential, disclose={"document_number"}, audience="https://inspector.example", nonce="n-1"
        )
        verified = verify(issuer_client, credential_pki, presentation, "n-1")
        assert verified.vct == "urn:eudi:pda1:1"
        assert verified.issuer == ISSUER
        assert verified.disclosed["document_number"] == claims["document_number"]
        assert "personal_administrative_number" not in verified.disclosed  # not asked for: not shown
        assert verified.disclosed["legislation_country"] == "SE"
        assert verified.expires_at.date() == dt.date.fromisoformat(claims["date_of_expiry"]) + dt.timedelta(days=1)

        detail = issuer_client.get(f"/api/v1/staff/credentials/{claims['document_number']}", headers=officer).json()
        assert [e["action"] for e in detail["history"]] == ["issued", "offered", "collected"]
        assert detail["collections"] == 1

    def test_the_holder_key_is_the_wallets_own(self, issuer_client: TestClient, officer: dict[str, str]) -> None:
        issued = issue_pda1(issuer_client, officer)
        wallet = Wallet()
        credential = wallet.receive(issuer_client, issued["offer"]["credential_offer_uri"], issued["offer"]["tx_code"])
        payload = sd_jwt_vc.b64url_json(credential.split("~")[0].split(".")[1])
        assert payload["cnf"]["jwk"]["x"] == wallet.public_jwk["x"]
        assert payload["status"]["status_list"]["uri"].startswith(f"{ISSUER}/credentials/status/")
        assert "personal_administrative_number" not in payload  # a disclosure, not in the clear
        assert "document_number" not in payload

    def test_a_decision_with_a_bad_identifier_or_period_is_refused(
        self, issuer_client: TestClient, officer: dict[str, str]
    ) -> None:
        bad = issuer_client.post(
            "/api/v1/staff/credentials/decisions", json=decision_body(person_id="19850612-0000"), headers=officer
        )
        assert bad.status_code == 422
        assert "person" in bad.json()["detail"]
        day = today()
        backwards = issuer_client.post(
            "/api/v1/staff/credentials/decisions",
            json=decision_body(ending_date=(day - dt.timedelta(days=1)).isoformat()),
            headers=officer,
        )
        assert backwards.status_code == 422
        code = issuer_client.post(
            "/api/v1/staff/credentials/decisions", json=decision_body(status_confirmation="13"), headers=officer
        )
        assert code.status_code == 422

    def test_a_pda1_for_a_period_that_has_passed_is_not_issued(
        self, issuer_client: TestClient, officer: dict[str, str]
    ) -> None:
        long_ago = today() - dt.timedelta(days=400)
        decision = issuer_client.post(
            "/api/v1/staff/credentials/decisions",
            json=decision_body(
                starting_date=long_ago.isoformat(), ending_date=(long_ago + dt.timedelta(days=30)).isoformat()
            ),
            headers=officer,
        ).json()
        refused = issuer_client.post(
            "/api/v1/staff/credentials", json={"type": "pda1", "decision_id": decision["id"]}, headers=officer
        )
        assert refused.status_code == 422
        assert "has passed" in refused.json()["detail"]


class TestIssuingAnEhic:
    def test_an_ehic_is_issued_and_collected(
        self, issuer_client: TestClient, officer: dict[str, str], credential_pki: CredentialPki
    ) -> None:
        issued = issue_ehic(issuer_client, officer)
        assert issued["credential"]["vct"] == "urn:eudi:ehic:1"
        assert set(issued["credential"]["claims"]) == {
            "personal_administrative_number",
            "issuing_authority",
            "issuing_country",
            "authentic_source",
            "date_of_issuance",
            "date_of_expiry",
            "starting_date",
            "ending_date",
            "document_number",
        }
        wallet = Wallet()
        credential = wallet.receive(issuer_client, issued["offer"]["credential_offer_uri"], issued["offer"]["tx_code"])
        presentation = wallet.present(
            credential, disclose={"personal_administrative_number"}, audience="https://inspector.example", nonce="h"
        )
        verified = verify(issuer_client, credential_pki, presentation, "h")
        assert verified.disclosed["personal_administrative_number"] == PERSON

    def test_an_ehic_for_more_than_five_years_is_refused(
        self, issuer_client: TestClient, officer: dict[str, str]
    ) -> None:
        day = today()
        refused = issuer_client.post(
            "/api/v1/staff/credentials",
            json={
                "type": "ehic",
                "person_scheme": "se_personnummer",
                "person_id": PERSON,
                "starting_date": day.isoformat(),
                "ending_date": (day + dt.timedelta(days=6 * 366)).isoformat(),
            },
            headers=officer,
        )
        assert refused.status_code == 422
        assert "at most 5 years" in refused.json()["detail"]


class TestTheOfferIsUsedOnce:
    def test_a_wrong_transaction_code_is_refused_and_five_burn_the_offer(
        self, issuer_client: TestClient, officer: dict[str, str]
    ) -> None:
        issued = issue_pda1(issuer_client, officer)
        offer = offer_from_uri(issued["offer"]["credential_offer_uri"])
        wallet = Wallet()
        wrong = "000000" if issued["offer"]["tx_code"] != "000000" else "111111"
        for _ in range(5):
            answer = wallet.token(issuer_client, offer, wrong)
            assert answer.status_code == 400
            assert answer.json()["error"] == "invalid_grant"
        burnt = wallet.token(issuer_client, offer, issued["offer"]["tx_code"])
        assert burnt.status_code == 400
        assert "too many" in burnt.json()["error_description"]

    def test_a_code_gives_one_token(self, issuer_client: TestClient, officer: dict[str, str]) -> None:
        issued = issue_pda1(issuer_client, officer)
        wallet = Wallet()
        wallet.receive(issuer_client, issued["offer"]["credential_offer_uri"], issued["offer"]["tx_code"])
        again = wallet.token(
            issuer_client, offer_from_uri(issued["offer"]["credential_offer_uri"]), issued["offer"]["tx_code"]
        )
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"

    def test_a_new_offer_lets_a_new_wallet_collect(self, issuer_client: TestClient, officer: dict[str, str]) -> None:
        issued = issue_pda1(issuer_client, officer)
        number = issued["credential"]["document_number"]
        Wallet().receive(issuer_client, issued["offer"]["credential_offer_uri"], issued["offer"]["tx_code"])
        offer = issuer_client.post(f"/api/v1/staff/credentials/{number}/offers", headers=officer).json()
        second = Wallet()
        second.receive(issuer_client, offer["credential_offer_uri"], offer["tx_code"])
        detail = issuer_client.get(f"/api/v1/staff/credentials/{number}", headers=officer).json()
        assert detail["collections"] == 2


class TestKeyProofs:
    def _token(self, client: TestClient, officer: dict[str, str]) -> tuple[str, Wallet]:
        issued = issue_pda1(client, officer)
        wallet = Wallet()
        answer = wallet.token(
            client, offer_from_uri(issued["offer"]["credential_offer_uri"]), issued["offer"]["tx_code"]
        )
        return answer.json()["access_token"], wallet

    def _ask(self, client: TestClient, token: str, proof: str) -> Any:
        return client.post(
            "/credentials/credential",
            json={"credential_configuration_id": "pda1_dc_sd_jwt", "proofs": {"jwt": [proof]}},
            headers={"Authorization": f"Bearer {token}"},
        )

    def test_a_proof_needs_a_fresh_nonce_taken_once(self, issuer_client: TestClient, officer: dict[str, str]) -> None:
        token, wallet = self._token(issuer_client, officer)
        made_up = self._ask(issuer_client, token, wallet.proof(audience=ISSUER, nonce="made-up"))
        assert made_up.status_code == 400
        assert made_up.json()["error"] == "invalid_nonce"
        nonce = issuer_client.post("/credentials/nonce").json()["c_nonce"]
        assert self._ask(issuer_client, token, wallet.proof(audience=ISSUER, nonce=nonce)).status_code == 200
        token2, wallet2 = self._token(issuer_client, officer)
        replayed = self._ask(issuer_client, token2, wallet2.proof(audience=ISSUER, nonce=nonce))
        assert replayed.json()["error"] == "invalid_nonce"

    def test_a_proof_for_another_issuer_or_an_old_one_is_refused(
        self, issuer_client: TestClient, officer: dict[str, str]
    ) -> None:
        token, wallet = self._token(issuer_client, officer)
        nonce = issuer_client.post("/credentials/nonce").json()["c_nonce"]
        other = self._ask(issuer_client, token, wallet.proof(audience="https://elsewhere.example", nonce=nonce))
        assert other.json()["error"] == "invalid_proof"
        nonce = issuer_client.post("/credentials/nonce").json()["c_nonce"]
        old = self._ask(issuer_client, token, wallet.proof(audience=ISSUER, nonce=nonce, iat=1_700_000_000))
        assert old.json()["error"] == "invalid_proof"

    def test_without_a_valid_access_token_nothing_is_issued(self, issuer_client: TestClient) -> None:
        wallet = Wallet()
        nonce = issuer_client.post("/credentials/nonce").json()["c_nonce"]
        answer = self._ask(issuer_client, "not-a-token", wallet.proof(audience=ISSUER, nonce=nonce))
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_token"
        assert answer.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
        assert issuer_client.post("/credentials/credential", json={}).status_code == 401


class TestStatus:
    def test_suspend_reinstate_revoke_show_in_the_status_list(
        self, issuer_client: TestClient, officer: dict[str, str], credential_pki: CredentialPki, session: Session
    ) -> None:
        issued = issue_pda1(issuer_client, officer)
        number = issued["credential"]["document_number"]
        wallet = Wallet()
        credential = wallet.receive(issuer_client, issued["offer"]["credential_offer_uri"], issued["offer"]["tx_code"])
        reference = sd_jwt_vc.b64url_json(credential.split("~")[0].split(".")[1])["status"]["status_list"]
        uri, index = reference["uri"], reference["idx"]
        assert status_of(issuer_client, credential_pki, uri, index) == 0

        def change(action: str) -> Any:
            return issuer_client.post(
                f"/api/v1/staff/credentials/{number}/{action}",
                json={"reason": "The posting ended early"},
                headers=officer,
            )

        assert change("suspend").json()["state"] == "suspended"
        assert status_of(issuer_client, credential_pki, uri, index) == 2
        with pytest.raises(sd_jwt_vc.PresentationRefusedError) as refused:
            verify(
                issuer_client,
                credential_pki,
                wallet.present(credential, disclose=set(), audience="https://inspector.example", nonce="s"),
                "s",
            )
        assert refused.value.reason == "suspended"
        assert change("reinstate").json()["state"] == "valid"
        assert status_of(issuer_client, credential_pki, uri, index) == 0
        assert change("revoke").json()["state"] == "revoked"
        assert status_of(issuer_client, credential_pki, uri, index) == 1
        with pytest.raises(sd_jwt_vc.PresentationRefusedError) as refused:
            verify(
                issuer_client,
                credential_pki,
                wallet.present(credential, disclose=set(), audience="https://inspector.example", nonce="r"),
                "r",
            )
        assert refused.value.reason == "revoked"
        again = change("reinstate")
        assert again.status_code == 409
        # a revoked credential is not handed out again
        offer = issuer_client.post(f"/api/v1/staff/credentials/{number}/offers", headers=officer)
        assert offer.status_code == 409
        history = issuer_client.get(f"/api/v1/staff/credentials/{number}", headers=officer).json()["history"]
        assert [e["action"] for e in history] == [
            "issued",
            "offered",
            "collected",
            "suspended",
            "reinstated",
            "revoked",
        ]
        assert history[-1]["reason"] == "The posting ended early"
        assert history[-1]["actor"] == "ida.issuer"

    def test_entries_are_taken_at_random_not_in_issue_order(
        self, issuer_client: TestClient, officer: dict[str, str], session: Session
    ) -> None:
        numbers = [issue_ehic(issuer_client, officer)["credential"]["status_list"] for _ in range(12)]
        indexes = [int(n.rsplit("#", 1)[1]) for n in numbers]
        assert len(set(indexes)) == 12
        assert indexes != sorted(indexes)  # 1 in 12! by chance

    def test_staff_reads_of_a_persons_credentials_are_logged(
        self, issuer_client: TestClient, officer: dict[str, str], session: Session
    ) -> None:
        issued = issue_ehic(issuer_client, officer)
        issuer_client.get(f"/api/v1/staff/credentials/{issued['credential']['document_number']}", headers=officer)
        logged = session.execute(
            text("SELECT actor, purpose, person_id FROM access_log WHERE action = 'read_credential'")
        ).all()
        assert logged == [("ida.issuer", "issue_credentials", PERSON)]


class TestWhoMayIssue:
    def test_only_the_issuer_role_issues(self, issuer_client: TestClient, session: Session) -> None:
        create_staff(session, username="cw", name="Cw", roles=[Role.CASEWORKER, Role.AUDITOR, Role.SUPERVISOR])
        headers = auth(issue_staff_token(session, username="cw", label="t"))
        session.commit()
        assert (
            issuer_client.post("/api/v1/staff/credentials/decisions", json=decision_body(), headers=headers).status_code
            == 403
        )
        assert issuer_client.get("/api/v1/staff/credentials", headers=headers).status_code == 403

    def test_without_an_issuer_key_there_is_no_issuer(self, client: TestClient) -> None:
        answer = client.get("/.well-known/openid-credential-issuer")
        assert answer.status_code == 404
        assert answer.json()["error"] == "issuer_not_configured"


class TestADecisionFromAnLaBuc:
    def _case(self, session: Session, case_id: str, buc_type: str, person_id: str | None) -> None:
        session.add(
            CrossBorderCase(
                case_id=case_id,
                buc_type=buc_type,
                owner="FI:KELA01",
                counterparty="SE:FKA01",
                partner="FI:KELA01",
                status=CaseStatus.OPEN,
                person_scheme="se_personnummer" if person_id else None,
                person_id=person_id,
                person_match=PersonMatch.IDENTIFIER if person_id else None,
                opened_by="FI:KELA01",
            )
        )
        session.commit()

    def test_a_decision_names_the_la_buc_it_was_reached_in(
        self, issuer_client: TestClient, officer: dict[str, str], session: Session
    ) -> None:
        self._case(session, "FI-LA-1", "LA_BUC_04", PERSON)
        self._case(session, "FI-H-1", "H_BUC_01", PERSON)
        self._case(session, "FI-LA-2", "LA_BUC_02", pnr(7))
        post = "/api/v1/staff/credentials/decisions"
        assert issuer_client.post(post, json=decision_body(eessi_case_id="FI-LA-1"), headers=officer).status_code == 201
        health = issuer_client.post(post, json=decision_body(eessi_case_id="FI-H-1"), headers=officer)
        assert health.status_code == 422
        assert "LA_BUC" in health.json()["detail"]
        other = issuer_client.post(post, json=decision_body(eessi_case_id="FI-LA-2"), headers=officer)
        assert other.status_code == 422
        assert "another person" in other.json()["detail"]
        missing = issuer_client.post(post, json=decision_body(eessi_case_id="FI-NONE"), headers=officer)
        assert missing.status_code == 404
