"""A person designates the account for their public payments from the EU wallet: their PID and
their bank's account attestation, both made and presented by the independent implementation
(sd-jwt-js), answer a request started from their own page. Saldo designates the account only when
both credentials hold, the PID is the person logged in and the bank's account holder is that person
— and a bank abroad, which reports nothing to the account register, is the case it is for."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from jwcrypto.jwk import JWK
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.credentials.service.keys import IssuerKeys
from saldo.staff.models import Role
from tests.credentials.conftest import Peer, WalletPki
from tests.factories import OTHER_PNR, VALID_PNR, account_record, auth, make_bank, make_bank_token, make_staff, se_iban
from tests.web_login import csrf_of, dev_login, start_assisting

FOREIGN_IBAN = "FI2112345600000785"
PERSON = {
    "given_name": "Anna",
    "family_name": "Andersson",
    "birthdate": "1981-12-28",
    "personal_administrative_number": VALID_PNR,
    "issuing_country": "SE",
}
ACCOUNT = {
    "iban": FOREIGN_IBAN,
    "business_identifier_code": "NDEAFIHH",
    "registered_given_name": "Anna",
    "registered_family_name": "Andersson",
    "date_of_birth": "1981-12-28",
    "issuing_organization": "Nordea Bank Abp",
    "bank_account_status": "active",
}


def made_by_peer(peer: Peer, issuer: IssuerKeys, holder: JWK, vct: str, claims: dict[str, Any]) -> str:
    """A credential the independent implementation issues, every claim selectively disclosable."""
    now = int(time.time())
    answer = peer(
        "issue",
        issuer_jwk=JWK.from_pyca(issuer.private_key).export_private(as_dict=True),
        x5c=issuer.x5c,
        claims={"iss": f"https://{issuer.certificate.subject.rfc4514_string()[:20]}.example", "vct": vct, **claims},
        disclosable=list(claims),
        holder_jwk=holder.export_public(as_dict=True),
        iat=now - 60,
        exp=now + 3600,
    )
    assert answer["ok"], answer
    credential: str = answer["credential"]
    return credential


class PersonsWallet:
    """What a person's wallet holds: a PID and an account attestation, each bound to a key of its own."""

    def __init__(
        self,
        peer: Peer,
        pki: WalletPki,
        *,
        person: dict[str, Any] | None = None,
        account: dict[str, Any] | None = None,
        attested_by: IssuerKeys | None = None,
    ) -> None:
        self.peer = peer
        self.pid_key, self.iban_key = JWK.generate(kty="EC", crv="P-256"), JWK.generate(kty="EC", crv="P-256")
        self.pid = made_by_peer(peer, pki.pid, self.pid_key, "urn:eudi:pid:1", person or PERSON)
        self.iban = made_by_peer(
            peer, attested_by or pki.bank, self.iban_key, "urn:eu.europa.ec.eudi:iban:1", account or ACCOUNT
        )

    def answer(self, request: dict[str, str], *, withhold: str | None = None, nonce: str | None = None) -> str:
        """vp_token for the request: each credential presented with the claims its query asks for."""
        query = {q["id"]: q for q in json.loads(request["dcql_query"])["credentials"]}
        token = {}
        for query_id, credential, key in (("pid", self.pid, self.pid_key), ("iban", self.iban, self.iban_key)):
            disclose = [c["path"][0] for c in query[query_id]["claims"] if c["path"][0] != withhold]
            presented = self.peer(
                "present",
                credential=credential,
                holder_jwk=key.export_private(as_dict=True),
                disclose=disclose,
                audience=request["client_id"],
                nonce=nonce or request["nonce"],
                iat=int(time.time()),
            )
            assert presented["ok"], presented
            token[query_id] = [presented["presentation"]]
        return json.dumps(token)


def start(client: TestClient) -> tuple[str, dict[str, str]]:
    """The person asks from their page; returns the page's address and the request its link carries."""
    page = client.get("/me", params={"lang": "en"})
    assert "Use an account from my wallet" in page.text
    started = client.post("/me/account/wallet", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert started.status_code == 303, started.text
    where = str(started.headers["location"])
    waiting = client.get(where, params={"lang": "en"})
    assert waiting.status_code == 200, waiting.text
    marker = 'href="openid4vp://?'
    link = waiting.text[waiting.text.index(marker) + len('href="') :]
    link = link[: link.index('"')].replace("&amp;", "&")
    return where, {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}


def post_answer(client: TestClient, request: dict[str, str], vp_token: str) -> Any:
    return client.post("/verifier/response", data={"vp_token": vp_token, "state": request["state"]})


def outcome(session: Session, where: str) -> dict[str, Any]:
    request_id = where.rsplit("/", 1)[1]
    found: dict[str, Any] = session.execute(
        text("SELECT outcome FROM presentation_requests WHERE request_id = :id"), {"id": request_id}
    ).scalar_one()
    return found


def designations(session: Session) -> list[tuple[Any, ...]]:
    return [
        tuple(r)
        for r in session.execute(
            text(
                "SELECT a.account_number, d.channel, d.evidence FROM account_designations d "
                "JOIN bank_accounts a ON a.id = d.account_id ORDER BY d.id"
            )
        )
    ]


def designate(client: TestClient, wallet: PersonsWallet, session: Session, **answer: Any) -> dict[str, Any]:
    dev_login(client, VALID_PNR)
    where, request = start(client)
    response = post_answer(client, request, wallet.answer(request, **answer))
    assert response.status_code == 200, response.text
    return outcome(session, where) | {"page": client.get(where, params={"lang": "en"}).text}


class TestAnAccountAbroad:
    def test_is_designated_with_the_attestation_as_its_evidence(
        self, designation_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session
    ) -> None:
        result = designate(designation_web, PersonsWallet(peer, wallet_pki), session)
        assert result["valid"], result
        assert (result["account"], result["bic"], result["changed"]) == (FOREIGN_IBAN, "NDEAFIHH", True)
        assert f"Your public payments now go to {FOREIGN_IBAN} at Nordea Bank Abp." in result["page"]
        [(number, channel, evidence)] = designations(session)
        assert (number, channel) == (FOREIGN_IBAN, "wallet")
        assert evidence["kind"] == "bank_account_attestation"
        assert evidence["attestation"].count("~") >= 2  # the SD-JWT as presented, re-verifiable
        assert "Nordea Bank Abp" in evidence["attested_by"]
        assert (evidence["holder_name"], evidence["name_match"]) == ("Anna Andersson", "match")
        # the register now knows the account from the attestation: the bank by its BIC, the holding,
        # and why (an event whose source is the attestation); a letter tells the person
        assert session.execute(text("SELECT name FROM banks WHERE bic = 'NDEAFIHH'")).scalar_one() == "Nordea Bank Abp"
        holders = session.execute(text("SELECT holder_identifier, holder_name FROM account_holders")).all()
        assert [tuple(h) for h in holders] == [(VALID_PNR, "Anna Andersson")]
        events = session.execute(text("SELECT change, source FROM account_events ORDER BY id")).all()
        assert [tuple(e) for e in events] == [("opened", "wallet_attestation"), ("holder_added", "wallet_attestation")]
        assert session.execute(text("SELECT count(*) FROM letters")).scalar_one() == 1
        overview = designation_web.get("/me", params={"lang": "en"}).text
        assert "Your bank attested it in your wallet." in overview
        assert designation_web.get("/api/v1/me/overview").json()["designation"]["channel"] == "wallet"

    def test_a_second_answer_and_a_malformed_one_are_refused(
        self, designation_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session
    ) -> None:
        wallet = PersonsWallet(peer, wallet_pki)
        dev_login(designation_web, VALID_PNR)
        _, request = start(designation_web)
        only_pid = json.dumps({"pid": json.loads(wallet.answer(request))["pid"]})
        refused = post_answer(designation_web, request, only_pid)
        assert refused.status_code == 400
        assert "iban" in refused.json()["error_description"]
        again = post_answer(designation_web, request, wallet.answer(request))
        assert again.status_code == 400
        assert again.json()["error_description"] == "this request has been answered"
        assert designations(session) == []


class TestRefused:
    """Each refusal says why, on the person's page, and leaves the register as it was."""

    @pytest.mark.parametrize(
        ("wallet_of", "reason"),
        [
            ({"person": {**PERSON, "personal_administrative_number": OTHER_PNR}}, "not_this_person"),
            ({"person": {**PERSON, "issuing_country": "FI"}}, "not_this_person"),
            ({"account": {**ACCOUNT, "registered_given_name": "Berit", "registered_family_name": "Lind"}},
             "holder_differs"),
            ({"account": {**ACCOUNT, "date_of_birth": "1990-01-01"}}, "holder_differs"),
            ({"account": {**ACCOUNT, "bank_account_status": "closed"}}, "account_refused"),
            ({"account": {**ACCOUNT, "iban": "FI2112345600000786"}}, "account_refused"),
        ],
        ids=[
            "another-persons-pid", "pid-of-another-country", "another-holder", "another-birth-date", "closed",
            "bad-iban",
        ],
    )  # fmt: skip
    def test_what_does_not_fit(
        self,
        designation_web: TestClient,
        peer: Peer,
        wallet_pki: WalletPki,
        session: Session,
        wallet_of: dict[str, Any],
        reason: str,
    ) -> None:
        result = designate(designation_web, PersonsWallet(peer, wallet_pki, **wallet_of), session)
        assert (result["valid"], result["reason"]) == (False, reason), result
        assert "Your account was not changed." in result["page"]
        assert designations(session) == []
        assert session.execute(text("SELECT count(*) FROM bank_accounts")).scalar_one() == 0
        assert session.execute(text("SELECT count(*) FROM banks")).scalar_one() == 0

    def test_an_attestation_signed_under_the_pid_root_is_not_trusted(
        self, designation_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session
    ) -> None:
        # a root is trusted for one kind of credential: the PID provider cannot attest accounts
        result = designate(designation_web, PersonsWallet(peer, wallet_pki, attested_by=wallet_pki.pid), session)
        assert (result["valid"], result["reason"]) == (False, "untrusted_issuer")
        assert result["detail"].startswith("the account attestation: ")

    def test_a_pid_the_wallet_does_not_disclose_in_full(
        self, designation_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session
    ) -> None:
        result = designate(designation_web, PersonsWallet(peer, wallet_pki), session, withhold="iban")
        assert (result["valid"], result["reason"]) == (False, "claims_missing")
        assert "iban" in result["detail"]

    def test_a_presentation_made_for_another_request(
        self, designation_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session
    ) -> None:
        result = designate(designation_web, PersonsWallet(peer, wallet_pki), session, nonce="an-earlier-request")
        assert (result["valid"], result["reason"]) == (False, "wrong_nonce")
        assert designations(session) == []


class TestTheRegisterDecidesForItsBanks:
    """A bank connected to the account register is the authority on its accounts: an attestation
    designates one it reported the person holds, and nothing it did not."""

    @pytest.fixture
    def seb(self, session: Session) -> str:
        bank = make_bank(session)
        token = make_bank_token(session, bank)
        session.commit()
        return token

    def _wallet_for(self, peer: Peer, pki: WalletPki, iban: str) -> PersonsWallet:
        return PersonsWallet(peer, pki, account={**ACCOUNT, "iban": iban, "business_identifier_code": "ESSESESS"})

    def test_an_account_the_bank_reported_the_person_holds(
        self, designation_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session, seb: str
    ) -> None:
        record = account_record(se_iban(7), (VALID_PNR, "Anna Andersson"))
        reported = designation_web.post("/api/v1/bank/accounts", json={"accounts": [record]}, headers=auth(seb))
        assert reported.status_code == 200, reported.text
        result = designate(designation_web, self._wallet_for(peer, wallet_pki, se_iban(7)), session)
        assert result["valid"], result
        assert [(n, c) for n, c, _ in designations(session)] == [(se_iban(7), "wallet")]
        events = session.execute(text("SELECT source FROM account_events")).scalars().all()
        assert "wallet_attestation" not in events  # the bank's report stands as it was

    def test_an_account_the_bank_did_not_report(
        self, designation_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session, seb: str
    ) -> None:
        result = designate(designation_web, self._wallet_for(peer, wallet_pki, se_iban(8)), session)
        assert (result["valid"], result["reason"]) == (False, "account_refused")
        assert "SEB reports its accounts to the account register" in result["detail"]
        assert session.execute(text("SELECT count(*) FROM bank_accounts")).scalar_one() == 0

    def test_an_account_the_bank_reported_someone_else_holds(
        self, designation_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session, seb: str
    ) -> None:
        record = account_record(se_iban(9), (OTHER_PNR, "Berit Lind"))
        designation_web.post("/api/v1/bank/accounts", json={"accounts": [record]}, headers=auth(seb))
        result = designate(designation_web, self._wallet_for(peer, wallet_pki, se_iban(9)), session)
        assert (result["valid"], result["reason"]) == (False, "account_refused")
        assert "does not list you as its holder" in result["detail"]
        assert session.execute(text("SELECT count(*) FROM account_holders")).scalar_one() == 1


class TestWhoseRequest:
    def test_only_the_person_who_asked_sees_it(
        self, designation_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session
    ) -> None:
        dev_login(designation_web, VALID_PNR)
        where, _ = start(designation_web)
        request_id = where.rsplit("/", 1)[1]
        designation_web.cookies.clear()
        dev_login(designation_web, OTHER_PNR)
        assert designation_web.get(where).status_code == 404
        assert designation_web.get(f"{where}/state").status_code == 404
        # nor is it an inspector's request
        assert designation_web.get(f"/verifier/requests/{request_id}").status_code == 404
        designation_web.cookies.clear()
        assert designation_web.get(where, follow_redirects=False).status_code in (303, 401)

    def test_a_caseworker_cannot_start_one_for_the_person(self, designation_web: TestClient, session: Session) -> None:
        make_staff(session, "cara.caseworker", "197802022389", Role.CASEWORKER)
        session.commit()
        dev_login(designation_web, "197802022389", provider="dev-staff", next="/staff")
        assert start_assisting(designation_web, VALID_PNR, "assisted_service").status_code == 303
        page = designation_web.get("/me", params={"lang": "en"})
        refused = designation_web.post("/me/account/wallet", data={"csrf": csrf_of(page.text)})
        assert refused.status_code == 422
        assert "on their own login" in refused.text

    def test_the_path_is_not_offered_without_trusted_roots(self, issuer_web: TestClient) -> None:
        dev_login(issuer_web, VALID_PNR)
        page = issuer_web.get("/me", params={"lang": "en"})
        assert "Use an account from my wallet" not in page.text
        assert issuer_web.post("/me/account/wallet", data={"csrf": csrf_of(page.text)}).status_code == 404
