"""Issuance against a wallet Saldo did not write: the OpenWallet Foundation's OpenID4VCI client
(oid4vc-ts, npm @openid4vc/openid4vci) reads Saldo's metadata, trades the pre-authorised code and
transaction code, fetches a nonce, makes its own key proof and collects the credential from a Saldo
serving on a real socket. The credential is bound to that wallet's key, and sd-jwt-js presents and
verifies it."""

from __future__ import annotations

import datetime as dt
import html
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from saldo.app import create_app
from saldo.credentials.service import sd_jwt_vc
from saldo.kit.clock import today
from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.conftest import live_database, serve_in_thread
from tests.credentials.conftest import PEER_DIR, Peer, WalletPki
from tests.credentials.issuer_files import issuer_environment
from tests.credentials.test_account_attestation import FOREIGN_IBAN, PersonsWallet
from tests.e2e.conftest import _free_port
from tests.factories import VALID_PNR, auth
from tests.web_login import csrf_of, dev_login


@dataclass(frozen=True)
class LiveIssuer:
    base: str
    officer: dict[str, str]
    anchor_pem: str


@pytest.fixture(scope="module")
def live_issuer(tmp_path_factory: pytest.TempPathFactory, wallet_pki: WalletPki) -> Iterator[LiveIssuer]:
    folder = tmp_path_factory.mktemp("live-issuer")
    settings, engine = live_database("saldo_credentials_wallet", folder)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = issuer_environment(folder / "pki", base)
    configured = settings.model_copy(
        update={
            "public_url": base,
            "eessi_institution": env["SALDO_EESSI_INSTITUTION"],
            "credentials_key": Path(env["SALDO_CREDENTIALS_KEY"]),
            "credentials_chain": Path(env["SALDO_CREDENTIALS_CHAIN"]),
            "credentials_trust_anchors": Path(env["SALDO_CREDENTIALS_TRUST_ANCHORS"]),
            "credentials_pid_trust_anchors": wallet_pki.pid_anchors,
            "credentials_bank_trust_anchors": wallet_pki.bank_anchors,
            "dev_login": True,
        }
    )
    with Session(engine) as session:
        create_staff(session, username="live.issuer", name="Ida", roles=[Role.ISSUER])
        token = issue_staff_token(session, username="live.issuer", label="live")
        session.commit()
    _, stop = serve_in_thread(create_app(configured, engine=engine), port=port)
    try:
        anchor = (folder / "pki" / "anchors.pem").read_text(encoding="ascii")
        yield LiveIssuer(base, auth(token), anchor)
    finally:
        stop()
        engine.dispose()


def test_an_independent_wallet_collects_a_pda1_and_the_peer_verifies_it(live_issuer: LiveIssuer, peer: Peer) -> None:
    if not (PEER_DIR / "node_modules" / "@openid4vc" / "openid4vci").exists():
        pytest.skip("tests/credentials/peer/node_modules missing (python3 run.py test installs it with npm)")
    day = today()
    with httpx.Client(base_url=live_issuer.base) as client:
        decision = client.post(
            "/api/v1/staff/credentials/decisions",
            json={
                "person_scheme": "se_personnummer",
                "person_id": VALID_PNR,
                "legislation_country": "SE",
                "status_confirmation": "01",
                "starting_date": day.isoformat(),
                "ending_date": (day + dt.timedelta(days=300)).isoformat(),
                "employer": {"id": "5560000001", "name": "Bygg AB", "country": "SE"},
                "work_address": {"locality": "Tallinn", "country": "EE"},
            },
            headers=live_issuer.officer,
        ).json()
        issued = client.post(
            "/api/v1/staff/credentials",
            json={"type": "pda1", "decision_id": decision["id"]},
            headers=live_issuer.officer,
        ).json()
    collected = peer("wallet", offer_uri=issued["offer"]["credential_offer_uri"], tx_code=issued["offer"]["tx_code"])
    assert collected["ok"], collected
    credential = collected["credential"]
    payload = sd_jwt_vc.b64url_json(credential.split("~", maxsplit=1)[0].split(".")[1])
    assert payload["vct"] == "urn:eudi:pda1:1"
    assert payload["cnf"]["jwk"]["x"] == collected["holder_jwk"]["x"]  # bound to the wallet's own key
    presented = peer(
        "present",
        credential=credential,
        holder_jwk=collected["holder_jwk"],
        disclose=["personal_administrative_number"],
        audience="https://inspector.example",
        nonce="live",
        iat=int(time.time()),
    )
    assert presented["ok"], presented
    verified = peer(
        "verify",
        presentation=presented["presentation"],
        anchor_pem=live_issuer.anchor_pem,
        audience="https://inspector.example",
        nonce="live",
        now=int(time.time()),
    )  # the peer fetches the status list from the live Saldo itself
    assert verified["ok"], verified
    assert verified["claims"]["personal_administrative_number"] == VALID_PNR
    assert verified["claims"]["work_address"]["locality"] == "Tallinn"


def test_an_independent_wallet_answers_the_verifier_page(live_issuer: LiveIssuer, peer: Peer) -> None:
    """oid4vc-ts's OpenID4VP client reads the request the inspector's QR code carries and posts the
    answer; the page then says valid and shows what was shared."""
    day = today()
    with httpx.Client(base_url=live_issuer.base, follow_redirects=False) as client:
        issued = client.post(
            "/api/v1/staff/credentials",
            json={
                "type": "ehic",
                "person_scheme": "se_personnummer",
                "person_id": VALID_PNR,
                "starting_date": day.isoformat(),
                "ending_date": (day + dt.timedelta(days=700)).isoformat(),
            },
            headers=live_issuer.officer,
        ).json()
        collected = peer(
            "wallet", offer_uri=issued["offer"]["credential_offer_uri"], tx_code=issued["offer"]["tx_code"]
        )
        assert collected["ok"], collected
        page = client.post("/verifier/requests", data={"kind": "ehic"}).headers["location"]
        text = client.get(page).text
        start = text.index("openid4vp://")
        request_url = html.unescape(text[start : text.index('"', start)])
        answered = peer(
            "answer", request_url=request_url, credential=collected["credential"], holder_jwk=collected["holder_jwk"]
        )
        assert answered["ok"], answered
        assert answered["http_status"] == 200
        assert answered["client_id"] == f"redirect_uri:{live_issuer.base}/verifier/response"
        assert answered["query_id"] == "ehic"
        shown = client.get(page, headers={"Accept-Language": "en"}).text
    assert "Valid." in shown
    assert VALID_PNR in shown


def test_an_independent_wallet_designates_an_account_abroad(
    live_issuer: LiveIssuer, peer: Peer, wallet_pki: WalletPki
) -> None:
    """A person logged in on a Saldo serving on a real socket asks for their account from the wallet;
    oid4vc-ts reads the request (two DCQL queries: the PID and the account attestation), sd-jwt-js
    presents both, the client posts them, and the person's page says where payments now go."""
    held = PersonsWallet(peer, wallet_pki)
    with httpx.Client(base_url=live_issuer.base, follow_redirects=False) as browser:
        assert dev_login(browser, VALID_PNR).status_code == 303
        page = browser.get("/me", headers={"Accept-Language": "en"}).text
        where = browser.post("/me/account/wallet", data={"csrf": csrf_of(page)}).headers["location"]
        waiting = browser.get(where).text
        start = waiting.index("openid4vp://")
        request_url = html.unescape(waiting[start : waiting.index('"', start)])
        answered = peer(
            "answer",
            request_url=request_url,
            credentials={
                "pid": {"credential": held.pid, "holder_jwk": held.pid_key.export_private(as_dict=True)},
                "iban": {"credential": held.iban, "holder_jwk": held.iban_key.export_private(as_dict=True)},
            },
        )
        assert answered["ok"], answered
        assert answered["http_status"] == 200
        assert answered["query_ids"] == ["pid", "iban"]
        assert "personal_administrative_number" in answered["asked_by_query"]["pid"]
        assert "iban" in answered["asked_by_query"]["iban"]
        shown = browser.get(where, headers={"Accept-Language": "en"}).text
        overview = browser.get("/api/v1/me/overview").json()
    assert f"Your public payments now go to {FOREIGN_IBAN} at Nordea Bank Abp." in shown
    assert (overview["designation"]["account"], overview["designation"]["channel"]) == (FOREIGN_IBAN, "wallet")
