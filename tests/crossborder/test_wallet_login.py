"""Logging in with the PID in the EU wallet: the request is bound to the browser that asked; the PID,
made and presented by the independent implementation (sd-jwt-js), is checked fully; the person is
matched as a foreign eID is (the national number, a number known from a cross-border case, or one
account holder with the same full name and birth date) and nothing opens on anything weaker."""

from __future__ import annotations

import html
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from jwcrypto.jwk import JWK
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.credentials.service.keys import IssuerKeys
from saldo.identity.http import SESSION_COOKIE
from tests.credentials.conftest import Peer, WalletPki
from tests.credentials.test_account_attestation import made_by_peer
from tests.crossborder.test_eidas_login import landed
from tests.factories import VALID_PNR, account_record, auth, make_bank, make_bank_token, pnr, se_iban

ANNA = {
    "given_name": "Anna", "family_name": "Andersson", "birthdate": "1981-12-28",
    "personal_administrative_number": VALID_PNR, "issuing_country": "SE",
}  # fmt: skip
MATTI = {
    "given_name": "Matti", "family_name": "Virtanen", "birthdate": "1980-01-01",
    "personal_administrative_number": "010180-123A", "issuing_country": "FI",
}  # fmt: skip


def _pid(peer: Peer, issuer: IssuerKeys, claims: dict[str, Any]) -> tuple[str, JWK]:
    key = JWK.generate(kty="EC", crv="P-256")
    return made_by_peer(peer, issuer, key, "urn:eudi:pid:1", claims), key


def _start(client: TestClient) -> tuple[str, dict[str, str]]:
    started = client.get("/login/wallet", follow_redirects=False)
    assert started.status_code == 303, started.text
    where = str(started.headers["location"])
    page = client.get(where, headers={"Accept-Language": "en"})
    assert page.status_code == 200, page.text
    begin = page.text.index("openid4vp://")
    link = html.unescape(page.text[begin : page.text.index('"', begin)])
    return where, {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}


def _present(client: TestClient, peer: Peer, request: dict[str, str], credential: str, key: JWK) -> None:
    asked = [c["path"][0] for c in json.loads(request["dcql_query"])["credentials"][0]["claims"]]
    presented = peer(
        "present", credential=credential, holder_jwk=key.export_private(as_dict=True), disclose=asked,
        audience=request["client_id"], nonce=request["nonce"], iat=int(time.time()),
    )  # fmt: skip
    assert presented["ok"], presented
    token = json.dumps({"pid": [presented["presentation"]]})
    assert client.post("/verifier/response", data={"vp_token": token, "state": request["state"]}).status_code == 200


def _logins(session: Session) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in session.execute(text("SELECT strength, person_id, origin, loa FROM foreign_logins"))]


def test_a_swedish_pid_opens_the_persons_own_pages(
    wallet_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session
) -> None:
    login_page = wallet_web.get("/login", params={"lang": "en"}).text
    assert "Log in with the EU wallet" in login_page
    where, request = _start(wallet_web)
    assert json.loads(request["dcql_query"])["credentials"][0]["meta"]["vct_values"][0] == "urn:eudi:pid:1"
    assert wallet_web.get(f"{where}/state").json() == {"answered": False, "expired": False}
    _present(wallet_web, peer, request, *_pid(peer, wallet_pki.pid, ANNA))
    assert wallet_web.get(f"{where}/state").json()["answered"] is True
    done = wallet_web.get(where, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/me"
    assert SESSION_COOKIE in done.cookies
    assert wallet_web.get("/me").status_code == 200
    assert _logins(session) == [("identifier", VALID_PNR, "SE", "high")]
    providers = session.execute(text("SELECT provider, person_id FROM web_sessions")).all()
    assert [tuple(r) for r in providers] == [("wallet", VALID_PNR)]
    assert wallet_web.get(where).status_code == 404  # a login request answers once


def test_a_finnish_pid_is_matched_by_name_and_birth_date(
    wallet_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session
) -> None:
    token = make_bank_token(session, make_bank(session))
    session.commit()
    record = account_record(se_iban(5), (pnr(17, "19800101"), "Matti Virtanen"))
    assert wallet_web.post("/api/v1/bank/accounts", json={"accounts": [record]}, headers=auth(token)).status_code == 200
    where, request = _start(wallet_web)
    _present(wallet_web, peer, request, *_pid(peer, wallet_pki.pid, MATTI))
    assert wallet_web.get(where, follow_redirects=False).status_code == 303
    assert _logins(session) == [("name_and_birth_date", pnr(17, "19800101"), "FI", "high")]


def test_a_pid_no_one_here_fits_opens_nothing(
    wallet_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session
) -> None:
    where, request = _start(wallet_web)
    _present(wallet_web, peer, request, *_pid(peer, wallet_pki.pid, MATTI))
    answer = wallet_web.get(where, headers={"Accept-Language": "en"}, follow_redirects=False)
    assert SESSION_COOKIE not in answer.cookies
    page = landed(wallet_web, answer)
    assert "We could not find you with certainty" in page.text
    assert 'action="/login/foreign/' in page.text  # a code by letter can be asked for, as after eIDAS
    assert _logins(session)[0][:2] == ("unmatched", None)
    assert session.execute(text("SELECT provider FROM foreign_logins")).scalar_one() == "wallet"


def test_a_pid_from_an_issuer_not_trusted_for_pids(
    wallet_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session
) -> None:
    where, request = _start(wallet_web)
    _present(wallet_web, peer, request, *_pid(peer, wallet_pki.bank, ANNA))  # a bank's root vouches for no person
    page = wallet_web.get(where, headers={"Accept-Language": "en"}, follow_redirects=False)
    assert page.status_code == 403
    assert "The issuer is not on the list of trusted issuers." in page.text
    assert _logins(session) == []
    assert session.execute(text("SELECT count(*) FROM web_sessions")).scalar_one() == 0


def test_another_browser_cannot_finish_the_login(
    wallet_web: TestClient, peer: Peer, wallet_pki: WalletPki, session: Session
) -> None:
    where, request = _start(wallet_web)
    _present(wallet_web, peer, request, *_pid(peer, wallet_pki.pid, ANNA))
    wallet_web.cookies.clear()  # the request's id without the browser's cookie: someone who saw the QR code
    assert wallet_web.get(where, follow_redirects=False).status_code == 404
    assert wallet_web.get(f"{where}/state").status_code == 404
    assert session.execute(text("SELECT count(*) FROM web_sessions")).scalar_one() == 0


def test_without_a_trusted_pid_provider_there_is_no_wallet_login(client: TestClient) -> None:
    assert client.get("/login/wallet", follow_redirects=False).status_code == 404
    assert "EU wallet" not in client.get("/login", params={"lang": "en"}).text
