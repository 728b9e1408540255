"""A web process killed (SIGKILL) while it answers a wallet's credential request, before and after
its commit: the wallet asks again with the same access token and a fresh nonce and gets its
credential, bound to its key; nothing is half-recorded and no status entry is taken twice. And one
killed while it designates a person's account from their wallet: the wallet's second post lands it
once."""

from __future__ import annotations

import datetime as dt
import html
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import text

from saldo.kit.clock import today
from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.crash.conftest import Lab, free_port, wait_until
from tests.credentials.conftest import Peer, WalletPki
from tests.credentials.issuer_files import issuer_environment
from tests.credentials.test_account_attestation import PersonsWallet
from tests.credentials.wallet import Wallet, offer_from_uri
from tests.factories import VALID_PNR
from tests.web_login import csrf_of, dev_login


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("point", ["credentials.before_commit_collected", "credentials.after_commit_collected"])
def test_a_wallet_gets_its_credential_after_the_server_died_answering(lab: Lab, point: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = issuer_environment(lab.folder / "issuer", base)
    with lab.sessions() as session:
        create_staff(session, username="crash.issuer", name="Ida", roles=[Role.ISSUER])
        officer = {"Authorization": f"Bearer {issue_staff_token(session, username='crash.issuer', label='t')}"}
        session.commit()
    server = lab.start("serve", "--port", str(port), halt_at=point, **env)
    wait_until(lambda: _up(base), "the server answering")
    day = today()
    with httpx.Client(base_url=base, timeout=30) as client:
        issued = client.post(
            "/api/v1/staff/credentials",
            json={
                "type": "ehic",
                "person_scheme": "se_personnummer",
                "person_id": "198506124117",
                "starting_date": day.isoformat(),
                "ending_date": (day + dt.timedelta(days=365)).isoformat(),
            },
            headers=officer,
        ).json()
        wallet = Wallet()
        offer = offer_from_uri(issued["offer"]["credential_offer_uri"])
        token = wallet.token(client, offer, issued["offer"]["tx_code"]).json()["access_token"]
        nonce = client.post("/credentials/nonce").json()["c_nonce"]
    lost: dict[str, Any] = {}

    def ask() -> None:
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                lost["answer"] = client.post(
                    "/credentials/credential",
                    json={"proofs": {"jwt": [wallet.proof(audience=base, nonce=nonce)]}},
                    headers={"Authorization": f"Bearer {token}"},
                )
        except httpx.HTTPError as error:
            lost["error"] = error

    asking = threading.Thread(target=ask)
    asking.start()
    lab.kill_at(server, point)
    asking.join(timeout=60)
    assert "answer" not in lost  # the wallet never had its answer
    recorded = _collections(lab)
    assert recorded == (0 if point.startswith("credentials.before") else 1)

    lab.start("serve", "--port", str(port), **env)
    wait_until(lambda: _up(base), "the server answering again")
    with httpx.Client(base_url=base, timeout=30) as client:
        nonce = client.post("/credentials/nonce").json()["c_nonce"]
        again = client.post(
            "/credentials/credential",
            json={"proofs": {"jwt": [wallet.proof(audience=base, nonce=nonce)]}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert again.status_code == 200, again.text
    assert _collections(lab) == recorded + 1
    with lab.engine.connect() as connection:
        entries = connection.execute(text("SELECT count(*), count(DISTINCT status_index) FROM credentials")).one()
        events = connection.scalars(text("SELECT action FROM credential_events ORDER BY id")).all()
    assert tuple(entries) == (1, 1)
    assert events == ["issued", "offered", *["collected"] * (recorded + 1)]


def _collections(lab: Lab) -> int:
    with lab.engine.connect() as connection:
        return int(connection.scalar(text("SELECT collections FROM credentials")) or 0)


@pytest.mark.parametrize("point", ["credentials.before_commit_designation"])
def test_a_designation_from_the_wallet_lands_once_after_the_server_died_answering(
    lab: Lab, point: str, peer: Peer, wallet_pki: WalletPki
) -> None:
    """Killed before its commit, the server designated nothing; the wallet posts its answer again (the
    request is still open) and the account is designated once, with one letter."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = issuer_environment(lab.folder / "issuer", base) | {
        "SALDO_CREDENTIALS_PID_TRUST_ANCHORS": str(wallet_pki.pid_anchors),
        "SALDO_CREDENTIALS_BANK_TRUST_ANCHORS": str(wallet_pki.bank_anchors),
        "SALDO_DEV_LOGIN": "1",
    }
    server = lab.start("serve", "--port", str(port), halt_at=point, **env)
    wait_until(lambda: _up(base), "the server answering")
    held = PersonsWallet(peer, wallet_pki)
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as browser:
        assert dev_login(browser, VALID_PNR).status_code == 303
        page = browser.get("/me").text
        where = browser.post("/me/account/wallet", data={"csrf": csrf_of(page)}).headers["location"]
        waiting = browser.get(where).text
    link = html.unescape(waiting[waiting.index("openid4vp://") : waiting.index('"', waiting.index("openid4vp://"))])
    request = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    answer = {"vp_token": held.answer(request), "state": request["state"]}
    lost: dict[str, Any] = {}

    def post() -> None:
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                lost["answer"] = client.post("/verifier/response", data=answer)
        except httpx.HTTPError as error:
            lost["error"] = error

    posting = threading.Thread(target=post)
    posting.start()
    lab.kill_at(server, point)
    posting.join(timeout=60)
    assert "answer" not in lost
    assert _designations(lab) == (0, 0)

    lab.start("serve", "--port", str(port), **env)
    wait_until(lambda: _up(base), "the server answering again")
    with httpx.Client(base_url=base, timeout=30) as client:
        again = client.post("/verifier/response", data=answer)
        assert again.status_code == 200, again.text
        assert client.post("/verifier/response", data=answer).status_code == 400  # answered: once only
    assert _designations(lab) == (1, 1)


def _designations(lab: Lab) -> tuple[int, int]:
    with lab.engine.connect() as connection:
        found = connection.execute(
            text("SELECT (SELECT count(*) FROM account_designations), (SELECT count(*) FROM letters)")
        ).one()
    return int(found[0]), int(found[1])
