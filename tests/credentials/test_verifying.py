"""An inspector checks a credential in Saldo's verifier page (OpenID4VP 1.0, direct_post): the
wallet answers the request the QR code carries, and the page says valid or not valid and why,
shows only what was disclosed, and how old the status list was — also offline, with a kept list."""

from __future__ import annotations

import datetime as dt
import html
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jwcrypto.jwk import JWK
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.credentials.service import sd_jwt_vc, status_list
from saldo.kit.clock import utcnow
from tests.credentials.conftest import CredentialPki
from tests.credentials.test_issuing import issue_ehic, issue_pda1
from tests.credentials.wallet import Wallet, answer_request, post_answer, request_from_url


def start(client: TestClient, kind: str) -> tuple[str, str]:
    """The inspector asks for a credential: the request's page and the URL its QR code carries."""
    created = client.post("/verifier/requests", data={"kind": kind}, follow_redirects=False)
    assert created.status_code == 303
    page = client.get(created.headers["location"])
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert '<img class="qr" src="data:image/svg+xml' in page.text
    link = html.unescape(re.search(r'href="(openid4vp://[^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    return created.headers["location"], link


def shown(client: TestClient, page: str) -> str:
    """The request's page as an English-speaking inspector reads it."""
    return str(client.get(page, headers={"Accept-Language": "en"}).text)


def collected(client: TestClient, officer: dict[str, str], kind: str = "pda1") -> tuple[Wallet, dict[str, Any]]:
    issued = issue_pda1(client, officer) if kind == "pda1" else issue_ehic(client, officer)
    wallet = Wallet()
    wallet.receive(client, issued["offer"]["credential_offer_uri"], issued["offer"]["tx_code"])
    return wallet, issued


class TestTheInspectorsPage:
    def test_a_valid_pda1_is_shown_valid_with_what_was_disclosed(
        self, issuer_client: TestClient, officer: dict[str, str]
    ) -> None:
        wallet, issued = collected(issuer_client, officer)
        page, link = start(issuer_client, "pda1")
        request = request_from_url(link)
        assert request["client_id"] == "redirect_uri:http://testserver/verifier/response"
        assert request["response_mode"] == "direct_post"
        waiting = issuer_client.get(f"{page}/state").json()
        assert waiting == {"answered": False, "expired": False}
        answered = answer_request(wallet, issuer_client, link)
        assert answered.status_code == 200, answered.text
        assert issuer_client.get(f"{page}/state").json()["answered"] is True
        text = shown(issuer_client, page)
        assert "Valid." in text
        assert "Not valid." not in text
        assert "Berlin" in text  # the place of work the inspector asked for
        assert issued["credential"]["person_id"] in text
        assert issued["credential"]["document_number"] not in text  # not asked, not disclosed
        assert "status list of" in text
        assert "Offline." not in text

    def test_a_revoked_credential_is_not_valid_and_says_why(
        self, issuer_client: TestClient, officer: dict[str, str]
    ) -> None:
        wallet, issued = collected(issuer_client, officer)
        number = issued["credential"]["document_number"]
        issuer_client.post(
            f"/api/v1/staff/credentials/{number}/revoke", json={"reason": "posting ended"}, headers=officer
        )
        page, link = start(issuer_client, "pda1")
        assert answer_request(wallet, issuer_client, link).status_code == 200
        text = shown(issuer_client, page)
        assert "Not valid." in text
        assert "The issuer has revoked the credential." in text
        assert "Berlin" not in text  # nothing of an invalid credential is shown as if it held

    def test_a_presentation_replayed_to_another_request_is_not_valid(
        self, issuer_client: TestClient, officer: dict[str, str]
    ) -> None:
        wallet, _ = collected(issuer_client, officer, "ehic")
        _, first = start(issuer_client, "ehic")
        request = request_from_url(first)
        presentation = wallet.present(
            wallet.credentials[-1], disclose=set(), audience=request["client_id"], nonce=request["nonce"]
        )
        assert post_answer(issuer_client, request, {"ehic": [presentation]}).status_code == 200
        second_page, second = start(issuer_client, "ehic")
        assert post_answer(issuer_client, request_from_url(second), {"ehic": [presentation]}).status_code == 200
        assert "it may be a replay" in shown(issuer_client, second_page)
        again = post_answer(issuer_client, request, {"ehic": [presentation]})
        assert again.status_code == 400
        assert "answered" in again.json()["error_description"]

    def test_the_wrong_kind_of_credential_is_not_valid(
        self, issuer_client: TestClient, officer: dict[str, str]
    ) -> None:
        wallet, _ = collected(issuer_client, officer, "pda1")
        page, link = start(issuer_client, "ehic")
        request = request_from_url(link)
        presentation = wallet.present(
            wallet.credentials[-1], disclose=set(), audience=request["client_id"], nonce=request["nonce"]
        )
        post_answer(issuer_client, request, {"ehic": [presentation]})
        assert "This is not the kind of credential that was asked for." in shown(issuer_client, page)

    def test_a_malformed_or_unknown_answer_is_refused(self, issuer_client: TestClient) -> None:
        page, link = start(issuer_client, "pda1")
        request = request_from_url(link)
        malformed = post_answer(issuer_client, request, ["not", "an", "object"])
        assert malformed.status_code == 400
        assert "Not valid." in shown(issuer_client, page)
        unknown = post_answer(issuer_client, {**request, "state": "made-up"}, {"pda1": ["x~"]})
        assert unknown.status_code == 400
        assert unknown.json()["error"] == "invalid_request"

    def test_the_page_says_in_swedish_too(self, issuer_client: TestClient, officer: dict[str, str]) -> None:
        wallet, _ = collected(issuer_client, officer)
        page, link = start(issuer_client, "pda1")
        answer_request(wallet, issuer_client, link)
        assert "Giltigt." in issuer_client.get(f"{page}?lang=sv").text

    def test_without_a_trusted_list_nothing_is_verified(self, client: TestClient) -> None:
        answer = client.post("/verifier/requests", data={"kind": "pda1"}, follow_redirects=False)
        assert answer.status_code == 404


class _ListServer:
    """Another country's issuer's status list on a port of this machine: the network can be cut."""

    def __init__(self) -> None:
        self.body = b""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/statuslist+jwt")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *_: Any) -> None:
                pass

        self.fetches = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/status/1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve(self, pki: CredentialPki, statuses: list[tuple[int, int]], *, ttl_s: int = 1) -> None:
        self.body = status_list.sign(
            keys=pki.issuer,
            uri=self.uri,
            size=1024,
            statuses=statuses,
            issued_at=utcnow(),
            ttl=dt.timedelta(seconds=ttl_s),  # a check after it wants the list again
            valid_for=dt.timedelta(hours=2),
        ).encode()

    def cut(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def abroad(credential_pki: CredentialPki) -> Iterator[_ListServer]:
    server = _ListServer()
    server.serve(credential_pki, [])
    yield server
    if server.server.socket.fileno() != -1:
        server.cut()


def foreign_credential(pki: CredentialPki, holder: JWK, uri: str) -> str:
    """An EHIC of an institution abroad, under a root the verifier trusts, with its list there."""
    now = utcnow()
    return sd_jwt_vc.issue(
        keys=pki.issuer,
        issuer="https://kela.example",
        vct="urn:eudi:ehic:1",
        claims={"issuing_country": "FI", "personal_administrative_number": "010180-123A"},
        disclosable={"personal_administrative_number"},
        holder_jwk=holder.export_public(as_dict=True),
        issued_at=now,
        expires_at=now + dt.timedelta(days=300),
        status={"status_list": {"idx": 5, "uri": uri}},
    )


class TestOffline:
    def test_with_the_network_cut_the_kept_list_is_used_and_its_age_shown(
        self, issuer_client: TestClient, credential_pki: CredentialPki, abroad: _ListServer
    ) -> None:
        wallet = Wallet()
        wallet.credentials.append(foreign_credential(credential_pki, wallet.key, abroad.uri))
        page, link = start(issuer_client, "ehic")
        answer_request(wallet, issuer_client, link)
        online = shown(issuer_client, page)
        assert "Valid." in online
        assert "Offline." not in online
        assert abroad.fetches == 1
        abroad.cut()
        time.sleep(1.2)  # past the list's ttl: it is wanted again, and cannot be had
        page, link = start(issuer_client, "ehic")
        answer_request(wallet, issuer_client, link)
        offline = shown(issuer_client, page)
        assert "Valid." in offline
        assert "Offline." in offline
        assert "status list of" in offline
        assert "minutes old" in offline

    def test_offline_with_no_list_kept_the_status_is_unknown(
        self, issuer_client: TestClient, credential_pki: CredentialPki, abroad: _ListServer
    ) -> None:
        abroad.cut()
        wallet = Wallet()
        wallet.credentials.append(foreign_credential(credential_pki, wallet.key, abroad.uri))
        page, link = start(issuer_client, "ehic")
        answer_request(wallet, issuer_client, link)
        text = shown(issuer_client, page)
        assert "Not valid." in text
        assert "cannot be checked" in text

    def test_a_revocation_abroad_is_seen_once_the_ttl_has_passed(
        self, issuer_client: TestClient, credential_pki: CredentialPki, abroad: _ListServer
    ) -> None:
        abroad.serve(credential_pki, [], ttl_s=4)  # iat is in whole seconds: room for a check within it
        wallet = Wallet()
        wallet.credentials.append(foreign_credential(credential_pki, wallet.key, abroad.uri))
        page, link = start(issuer_client, "ehic")
        answer_request(wallet, issuer_client, link)
        assert "Valid." in shown(issuer_client, page)
        abroad.serve(credential_pki, [(5, 1)], ttl_s=4)
        page, link = start(issuer_client, "ehic")
        answer_request(wallet, issuer_client, link)
        assert "Valid." in shown(issuer_client, page)  # within the ttl the kept list is used
        time.sleep(4.1)
        page, link = start(issuer_client, "ehic")
        answer_request(wallet, issuer_client, link)
        assert "The issuer has revoked the credential." in shown(issuer_client, page)


def test_expired_nonces_and_old_requests_are_cleared_as_new_ones_come(
    issuer_client: TestClient, session: Session
) -> None:
    session.execute(
        text(
            "INSERT INTO credential_nonces (nonce_sha256, expires_at) "
            "SELECT sha256(i::text::bytea), now() - interval '1 hour' FROM generate_series(1, 50) AS i"
        )
    )
    session.execute(
        text(
            "INSERT INTO presentation_requests (request_id, purpose, kind, nonce, state, expires_at, outcome) "
            "SELECT 'old-' || i, 'inspect', 'ehic', 'n', 's-' || i, now() - interval '2 days', '{}' "
            "FROM generate_series(1, 5) AS i"
        )
    )
    session.commit()
    issuer_client.post("/credentials/nonce")
    start(issuer_client, "ehic")
    assert session.execute(text("SELECT count(*) FROM credential_nonces WHERE expires_at < now()")).scalar_one() == 0
    assert (
        session.execute(text("SELECT count(*) FROM presentation_requests WHERE request_id LIKE 'old-%'")).scalar_one()
        == 0
    )
