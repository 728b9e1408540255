"""A web process killed (SIGKILL) while it answers a wallet's credential request, before and after
its commit: the wallet asks again with the same access token and a fresh nonce and gets its
credential, bound to its key; nothing is half-recorded and no status entry is taken twice."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from saldo.kit.clock import today
from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.crash.conftest import Lab, free_port, wait_until
from tests.credentials.issuer_files import issuer_environment
from tests.credentials.wallet import Wallet, offer_from_uri


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
