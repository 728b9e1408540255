"""Logging in with an eID of another EU country through the eIDAS network, against an identity
provider Saldo did not write (pysaml2): the signed request it reads, the signed and encrypted
eIDAS assertions it sends, and every way an answer can be wrong — each refused with its reason,
with no session and nothing half-recorded."""

from __future__ import annotations

import html
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.eessi.models import CaseStatus, CrossBorderCase, CrossBorderDocument, Direction, DocumentStatus, PersonMatch
from saldo.http import i18n
from saldo.identity.http import SESSION_COOKIE
from tests.crossborder.connector import Connector, Person
from tests.factories import VALID_PNR, account_record, auth, pnr, se_iban

MATTI = Person("FI/SE/010180-123A", "Matti", "Virtanen", "1980-01-01")
MATTI_HERE = pnr(17, "19800101")  # the personnummer he has here


def log_in(client: TestClient, connector: Connector, person: Person, **wrong: Any) -> Any:
    """The browser's round trip: Saldo's redirect, the Connector's answer posted back (pages in English)."""
    started = client.get("/login/eidas", params={"next": "/me"}, follow_redirects=False)
    assert started.status_code == 303, started.text
    answer = connector.answer(started.headers["location"], person, **wrong)
    return client.post(
        "/auth/saml/acs", data={"SAMLResponse": answer}, headers={"Accept-Language": "en"}, follow_redirects=False
    )


def landed(client: TestClient, answer: Any, language: str = "en") -> Any:
    """The page an unmatched login lands on: the answer sends the browser on to a page of Saldo's own."""
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/login/foreign/")
    page = client.get(answer.headers["location"], headers={"Accept-Language": language})
    assert page.status_code == 200, page.text
    return page


def _login_id(session: Session) -> int:
    return int(session.execute(text("SELECT max(id) FROM foreign_logins")).scalar_one())


def logins(session: Session) -> list[tuple[Any, ...]]:
    rows = session.execute(text("SELECT strength, person_id, origin, loa FROM foreign_logins ORDER BY id"))
    return [tuple(r) for r in rows]


def sessions(session: Session) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in session.execute(text("SELECT provider, person_id, loa, subject FROM web_sessions"))]


def report(client: TestClient, token: str, *records: dict[str, object]) -> None:
    answer = client.post("/api/v1/bank/accounts", json={"accounts": list(records)}, headers=auth(token))
    assert answer.status_code == 200, answer.text


class TestTheRequest:
    def test_is_signed_and_asks_for_the_eidas_minimum_data_set(
        self, eidas_web: TestClient, connector: Connector
    ) -> None:
        started = eidas_web.get("/login/eidas", follow_redirects=False)
        request = connector.read_request(started.headers["location"])  # pysaml2 checks the signature
        xml = str(request.message)
        assert "http://eidas.europa.eu/LoA/substantial" in xml
        assert 'Comparison="minimum"' in xml
        assert re.search(r"<(\w+:)?SPType[^>]*>public</(\w+:)?SPType>", xml), xml
        for name in ("PersonIdentifier", "CurrentFamilyName", "CurrentGivenName", "DateOfBirth"):
            assert f"http://eidas.europa.eu/attributes/naturalperson/{name}" in xml
        assert request.message.assertion_consumer_service_url == "http://saldo.test/auth/saml/acs"

    def test_the_metadata_is_served_for_the_connector(self, eidas_web: TestClient) -> None:
        answer = eidas_web.get("/auth/saml/metadata")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/samlmetadata+xml")
        assert 'AuthnRequestsSigned="true"' in answer.text
        assert "http://saldo.test/auth/saml/acs" in answer.text

    def test_the_login_page_offers_it(self, eidas_web: TestClient) -> None:
        assert "Log in with a foreign eID (eIDAS)" in eidas_web.get("/login", params={"lang": "en"}).text


class TestMatched:
    def test_by_name_and_birth_date_the_person_sees_their_own_pages(
        self, eidas_web: TestClient, connector: Connector, session: Session, accounts: str
    ) -> None:
        report(eidas_web, accounts, account_record(se_iban(5), (MATTI_HERE, "Matti Virtanen")))
        answer = log_in(eidas_web, connector, MATTI)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/me"
        assert SESSION_COOKIE in answer.cookies
        page = eidas_web.get("/me", params={"lang": "en"})
        assert page.status_code == 200
        assert se_iban(5) in page.text
        assert logins(session) == [("name_and_birth_date", MATTI_HERE, "FI", "substantial")]
        assert sessions(session) == [("eidas", MATTI_HERE, "substantial", MATTI.identifier)]

    def test_by_a_number_known_from_a_cross_border_case(
        self, eidas_web: TestClient, connector: Connector, session: Session
    ) -> None:
        case = CrossBorderCase(
            case_id="FI:KELA01-1", buc_type="H_BUC_01", owner="FI:KELA01", counterparty="SE:FKA01",
            partner="FI:KELA01", status=CaseStatus.OPEN, person_scheme="se_personnummer", person_id=MATTI_HERE,
            person_match=PersonMatch.IDENTIFIER, opened_by="FI:KELA01",
        )  # fmt: skip
        session.add(case)
        session.flush()
        person = {
            "familyName": "Virtanen", "forename": "Matti", "dateBirth": "1980-01-01",
            "PINPersonInEachInstitution": [
                {"personalIdentificationNumber": MATTI_HERE, "country": "SE"},
                {"personalIdentificationNumber": "010180-123A", "country": "FI"},
            ],
        }  # fmt: skip
        session.add(
            CrossBorderDocument(
                case_pk=case.id, document_id="d1", message_id="m1@test", sed_type="H001", direction=Direction.IN,
                sender="FI:KELA01", receiver="SE:FKA01", content={"person": person, "fields": {}, "version": "4.2"},
                xml=b"<SED/>", status=DocumentStatus.ACCEPTED, created_by="test",
            )
        )  # fmt: skip
        session.commit()
        answer = log_in(eidas_web, connector, MATTI, loa="high")
        assert answer.status_code == 303, answer.text
        assert logins(session) == [("known_identifier", MATTI_HERE, "FI", "high")]

    def test_a_swedish_eid_through_eidas_is_the_personnummer_itself(
        self, eidas_web: TestClient, connector: Connector, session: Session
    ) -> None:
        answer = log_in(eidas_web, connector, Person(f"SE/SE/{VALID_PNR}", "Anna", "Andersson", "1981-12-28"))
        assert answer.status_code == 303, answer.text
        assert logins(session) == [("identifier", VALID_PNR, "SE", "substantial")]


class TestNotMatched:
    def test_two_persons_who_could_be_them_open_nothing(
        self, eidas_web: TestClient, connector: Connector, session: Session, accounts: str
    ) -> None:
        report(
            eidas_web,
            accounts,
            account_record(se_iban(5), (MATTI_HERE, "Matti Virtanen")),
            account_record(se_iban(6), (pnr(18, "19800101"), "Matti Virtanen")),
        )
        answer = log_in(eidas_web, connector, MATTI)
        assert SESSION_COOKIE not in answer.cookies
        assert "More than one person here could be you" in landed(eidas_web, answer).text
        [(strength, person, _, _)] = logins(session)
        assert (strength, person) == ("ambiguous", None)
        assert sessions(session) == []

    def test_a_near_match_opens_nothing(
        self, eidas_web: TestClient, connector: Connector, session: Session, accounts: str
    ) -> None:
        report(eidas_web, accounts, account_record(se_iban(5), (MATTI_HERE, "Mati Virtanen")))
        answer = log_in(eidas_web, connector, MATTI)
        assert "More than one person here could be you" in landed(eidas_web, answer).text
        assert logins(session)[0][:2] == ("ambiguous", None)
        assert sessions(session) == []

    def test_no_one_opens_nothing_and_gives_a_reference(
        self, eidas_web: TestClient, connector: Connector, session: Session
    ) -> None:
        started = eidas_web.get("/login/eidas", follow_redirects=False)
        posted = connector.answer(started.headers["location"], MATTI)
        answer = eidas_web.post(
            "/auth/saml/acs", data={"SAMLResponse": posted}, headers={"Accept-Language": "en"}, follow_redirects=False
        )
        page = landed(eidas_web, answer)
        assert "We could not find you with certainty" in page.text
        assert "We found no one here" in page.text
        assert f"Reference: <strong>{_login_id(session)}</strong>" in page.text
        assert logins(session)[0][:2] == ("unmatched", None)
        assert sessions(session) == []


class TestRefused:
    """Each wrong answer is refused with its reason in words, and leaves no session and no login row."""

    @pytest.mark.parametrize(
        ("wrong", "reason"),
        [
            ({"loa": "low"}, "not of a high enough level"),
            ({"audience": "https://another-sp.example/metadata"}, "did not pass the checks"),
            ({"destination": "https://another-sp.example/acs"}, "did not pass the checks"),
            ({"in_response_to": "ONELOGIN_not_a_request_of_ours"}, "already been used, or took too long"),
            ({"encrypt": False}, "exactly one encrypted assertion"),
            ({"encrypt_for": "connector-cert"}, "cannot be decrypted with Saldo"),
        ],
        ids=[
            "loa-low",
            "wrong-audience",
            "wrong-destination",
            "answers-another-request",
            "not-encrypted",
            "encrypted-for-another",
        ],
    )
    def test_a_wrong_answer(
        self, eidas_web: TestClient, connector: Connector, session: Session, wrong: dict[str, Any], reason: str
    ) -> None:
        started = eidas_web.get("/login/eidas", follow_redirects=False)
        if wrong.get("encrypt_for") == "connector-cert":
            wrong = {"encrypt_for": connector.cert}
        posted = connector.answer(started.headers["location"], MATTI, **wrong)
        answer = eidas_web.post(
            "/auth/saml/acs", data={"SAMLResponse": posted}, headers={"Accept-Language": "en"}, follow_redirects=False
        )
        assert answer.status_code == 403, answer.text
        assert reason in answer.text
        assert SESSION_COOKIE not in answer.cookies
        assert logins(session) == []
        assert sessions(session) == []

    @pytest.mark.parametrize(
        ("identifier", "detail"),
        [("FI-010180-123A", "is not of the form XX/YY/id"), ("FI/DE/010180-123A", "issued for DE, not for SE")],
        ids=["no-form", "for-another-country"],
    )
    def test_a_person_identifier_in_the_wrong_form(
        self, eidas_web: TestClient, connector: Connector, session: Session, identifier: str, detail: str
    ) -> None:
        person = Person(identifier, "Matti", "Virtanen", "1980-01-01")
        answer = log_in(eidas_web, connector, person)
        assert answer.status_code == 403
        assert detail in answer.text
        assert logins(session) == []

    def test_a_refused_answer_is_told_in_the_language_the_login_started_in(
        self, eidas_web: TestClient, connector: Connector, session: Session
    ) -> None:
        """The answer's cross-site POST carries no cookie; the RelayState carries the language."""
        started = eidas_web.get("/login/eidas", params={"lang": "fi"}, follow_redirects=False).headers["location"]
        relay_state = parse_qs(urlsplit(started).query)["RelayState"][0]
        assert relay_state.startswith("fi.")
        eidas_web.cookies.clear()  # as the Connector's POST arrives: without the browser's cookies
        posted = connector.answer(started, MATTI, loa="low")
        answer = eidas_web.post(
            "/auth/saml/acs",
            data={"SAMLResponse": posted, "RelayState": relay_state},
            headers={"Accept-Language": "en"},
        )
        assert answer.status_code == 403
        assert '<html lang="fi">' in answer.text
        finnish = i18n.translations("fi").gettext(
            "Your eID is not of a high enough level: it must be at least substantial."
        )
        assert finnish in html.unescape(answer.text)
        # a RelayState that names no language of Saldo's changes nothing
        started = eidas_web.get("/login/eidas", follow_redirects=False).headers["location"]
        posted = connector.answer(started, MATTI, loa="low")
        answer = eidas_web.post(
            "/auth/saml/acs", data={"SAMLResponse": posted, "RelayState": "xx.abc"}, headers={"Accept-Language": "en"}
        )
        assert '<html lang="en">' in answer.text

    def test_a_refused_answer_uses_its_login_up(
        self, eidas_web: TestClient, connector: Connector, session: Session
    ) -> None:
        started = eidas_web.get("/login/eidas", follow_redirects=False).headers["location"]
        wrong = connector.answer(started, MATTI, loa="low")
        assert eidas_web.post("/auth/saml/acs", data={"SAMLResponse": wrong}).status_code == 403
        right = connector.answer(started, Person(f"SE/SE/{VALID_PNR}", "Anna", "Andersson", "1981-12-28"))
        again = eidas_web.post("/auth/saml/acs", data={"SAMLResponse": right}, headers={"Accept-Language": "en"})
        assert again.status_code == 403
        assert "already been used" in again.text
        assert sessions(session) == []

    def test_a_replayed_answer(self, eidas_web: TestClient, connector: Connector, session: Session) -> None:
        started = eidas_web.get("/login/eidas", follow_redirects=False)
        posted = connector.answer(started.headers["location"], Person(f"SE/SE/{VALID_PNR}", "A", "B", "1981-12-28"))
        assert (
            eidas_web.post("/auth/saml/acs", data={"SAMLResponse": posted}, follow_redirects=False).status_code == 303
        )
        again = eidas_web.post(
            "/auth/saml/acs", data={"SAMLResponse": posted}, headers={"Accept-Language": "en"}, follow_redirects=False
        )
        assert again.status_code == 403
        assert "already been used" in again.text
        assert len(sessions(session)) == 1

    def test_a_forged_answer_signed_by_another_key(
        self, eidas_web: TestClient, connector: Connector, session: Session, tmp_path: Any
    ) -> None:
        forger = Connector(tmp_path)  # the same entity id, another key: not the Connector Saldo trusts
        forger.trust(connector.sp_metadata)
        forger.sp_cert = connector.sp_cert
        started = eidas_web.get("/login/eidas", follow_redirects=False)
        posted = connector.answer(started.headers["location"], MATTI, signed_by=forger.server)
        answer = eidas_web.post(
            "/auth/saml/acs", data={"SAMLResponse": posted}, headers={"Accept-Language": "en"}, follow_redirects=False
        )
        assert answer.status_code == 403
        assert "did not pass the checks" in answer.text
        assert sessions(session) == []

    def test_an_answer_that_has_expired(
        self, eidas_web: TestClient, connector: Connector, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        started = eidas_web.get("/login/eidas", follow_redirects=False)
        posted = connector.answer(started.headers["location"], MATTI)
        later = int(time.time()) + 3600  # an hour on: past the assertion's NotOnOrAfter and the clock skew allowed
        monkeypatch.setattr(OneLogin_Saml2_Utils, "now", staticmethod(lambda: later))
        answer = eidas_web.post(
            "/auth/saml/acs", data={"SAMLResponse": posted}, headers={"Accept-Language": "en"}, follow_redirects=False
        )
        assert answer.status_code == 403
        assert "did not pass the checks" in answer.text
        assert sessions(session) == []

    def test_garbage_and_an_unsolicited_answer(self, eidas_web: TestClient, session: Session) -> None:
        for body in ("bm90IFhNTA==", "!!!", ""):
            answer = eidas_web.post("/auth/saml/acs", data={"SAMLResponse": body}, headers={"Accept-Language": "en"})
            assert answer.status_code == 403, (body, answer.text)
        assert sessions(session) == []


def test_without_a_connector_there_is_no_foreign_login(client: TestClient) -> None:
    assert client.get("/login/eidas", follow_redirects=False).status_code == 404
    assert client.post("/auth/saml/acs", data={"SAMLResponse": "x"}).status_code == 404
    assert "eIDAS" not in client.get("/login", params={"lang": "en"}).text
