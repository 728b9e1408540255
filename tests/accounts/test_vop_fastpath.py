"""The VoP fast path answers exactly as the documented route does, over real HTTP on committed data,
and hands every case it does not handle to that route unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from saldo.app import create_app
from saldo.banks.service import create_bank, issue_bank_token
from saldo.payers.service import issue_token, revoke_token
from saldo.web.fastpath import MAX_BODY, VOP_PATH
from tests.conftest import HandedOnError, live_database, post_to_fast_path, serve_in_thread
from tests.factories import account_record, make_payer, make_token, pnr, se_iban

JOINT = se_iban(1)


@dataclass
class Live:
    fast: str  # base URL of a server with the fast path
    documented: TestClient  # the same app without it, on the same database
    payer_token: str
    revoked_token: str
    bank_token: str
    database_url: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Live]:
    settings, engine = live_database(f"saldo_fastpath_{worker_id}", tmp_path_factory.mktemp("fastpath"))
    url = settings.database_url or ""
    with Session(engine) as session:
        payer = make_payer(session)
        payer_token = make_token(session, payer)
        old = issue_token(session, payer_id=payer.id, label="old")
        bank = create_bank(session, bic="ESSESESS", name="SEB")
        bank_token = issue_bank_token(session, bank_id=bank.id, label="test").token
        session.commit()
        revoke_token(session, token_id=old.id)
        session.commit()
    base, stop = serve_in_thread(create_app(settings, engine=engine))
    records = [
        account_record(JOINT, (pnr(1), "Anna Maria Andersson"), (pnr(2), "Björn Östlund")),
        account_record(se_iban(2), (pnr(3), "Carl Ek"), closed_on="2020-01-01"),
    ]
    response = httpx.post(
        f"{base}/api/v1/bank/accounts", json={"accounts": records}, headers={"Authorization": f"Bearer {bank_token}"}
    )
    assert response.status_code == 200, response.text
    documented = create_app(settings.model_copy(update={"fast_path": False}), engine=engine)
    with TestClient(documented) as client:
        yield Live(base, client, payer_token, old.token, bank_token, url)
    stop()
    engine.dispose()


CHECKS: list[object] = [
    {"account": JOINT, "name": "Anna Andersson"},
    {"account": JOINT, "name": "A. Andersson"},
    {"account": JOINT, "name": "Bjorn Ostlund"},
    {"account": JOINT, "name": "Someone Else"},
    {"account": JOINT, "party": {"identifier": pnr(2)}},
    {"account": JOINT, "party": {"identifier": pnr(9)}},
    {"account": se_iban(2), "name": "Carl Ek"},
    {"account": se_iban(3), "name": "Carl Ek"},
    {"account": "SE4550000000058398257467", "name": "Anna"},
    {"account": JOINT},
    {"account": JOINT, "name": "%%%"},
    {"account": JOINT, "name": "Anna", "extra": 1},
    [],
]


@pytest.mark.parametrize("body", CHECKS)
@pytest.mark.parametrize("who", ["payer_token", "bank_token", "revoked_token", None])
def test_the_fast_path_answers_as_the_documented_route(live: Live, body: object, who: str | None) -> None:
    headers = {"Authorization": f"Bearer {getattr(live, who)}"} if who else {}
    fast = httpx.post(f"{live.fast}/api/v1/vop/checks", json=body, headers=headers)
    documented = live.documented.post("/api/v1/vop/checks", json=body, headers=headers)
    assert (fast.status_code, fast.json()) == (documented.status_code, documented.json())


def test_a_body_that_is_not_json_is_handed_on(live: Live) -> None:
    headers = {"Authorization": f"Bearer {live.payer_token}", "Content-Type": "application/json"}
    fast = httpx.post(f"{live.fast}/api/v1/vop/checks", content=b"{not json", headers=headers)
    assert fast.status_code == 422


def test_a_body_over_the_size_limit_is_handed_on_unread(live: Live) -> None:
    # A valid check padded with whitespace: small enough, the fast path answers it; past MAX_BODY it
    # stops reading and hands the request on, and the documented route still answers it.
    check = b'{"account": "%s", "name": "Anna Andersson"' % JOINT.encode()
    small, large = check + b" " * 1_000 + b"}", check + b" " * (MAX_BODY + 1) + b"}"
    status, _ = asyncio.run(post_to_fast_path(live.database_url, VOP_PATH, live.payer_token, small, vop=True))
    assert status == 200
    with pytest.raises(HandedOnError):
        asyncio.run(post_to_fast_path(live.database_url, VOP_PATH, live.payer_token, large, vop=True))
    headers = {"Authorization": f"Bearer {live.payer_token}", "Content-Type": "application/json"}
    documented = httpx.post(f"{live.fast}/api/v1/vop/checks", content=large, headers=headers)
    assert (documented.status_code, documented.json()["outcome"]) == (200, "match")


def test_the_fast_path_answers_the_common_case_itself(live: Live) -> None:
    """Not only the same answers: the fast path must really answer, not hand everything on."""
    body = b'{"account": "%s", "name": "Anna Andersson"}' % JOINT.encode()
    status, answer = asyncio.run(post_to_fast_path(live.database_url, VOP_PATH, live.payer_token, body, vop=True))
    assert (status, orjson.loads(answer)["outcome"]) == (200, "match")
    with pytest.raises(HandedOnError):
        asyncio.run(post_to_fast_path(live.database_url, VOP_PATH, live.revoked_token, body, vop=True))
