"""The registration fast path registers exactly as the documented route does, over real HTTP on
committed data, and hands every other case (replays, conflicts, errors) to that route unchanged."""

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
from saldo.payers.models import ConnectionModel
from saldo.payers.service import issue_token, revoke_token
from saldo.web.fastpath import PAYMENTS_PATH
from tests.conftest import HandedOnError, live_database, post_to_fast_path, serve_in_thread
from tests.factories import make_payer, make_token, payment_body, pnr


@dataclass
class Live:
    fast: str
    documented: TestClient
    tokens: dict[str, str]
    database_url: str

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Live]:
    settings, engine = live_database(f"saldo_regfast_{worker_id}", tmp_path_factory.mktemp("regfast"))
    url = settings.database_url or ""
    with Session(engine) as session:
        payer = make_payer(session)
        analysis = make_payer(session, name="Lunds kommun", connection_model=ConnectionModel.ANALYSIS_ONLY)
        old = issue_token(session, payer_id=payer.id, label="old")
        tokens = {
            "payer": make_token(session, payer),
            "analysis_only": make_token(session, analysis),
            "revoked": old.token,
        }
        session.commit()
        revoke_token(session, token_id=old.id)
        session.commit()
    base, stop = serve_in_thread(create_app(settings, engine=engine))
    with TestClient(create_app(settings.model_copy(update={"fast_path": False}), engine=engine)) as client:
        yield Live(base, client, tokens, url)
    stop()
    engine.dispose()


def fast_post(live: Live, body: object, who: str | None = "payer") -> httpx.Response:
    return httpx.post(f"{live.fast}/api/v1/payments", json=body, headers=live.headers(who))


class TestRegistering:
    def test_a_new_payment_is_registered_as_the_documented_route_shows_it(self, live: Live) -> None:
        response = fast_post(live, payment_body(payee_id=pnr(11)))
        assert response.status_code == 201, response.text
        stored = live.documented.get(f"/api/v1/payments/{response.json()['id']}", headers=live.headers("payer"))
        assert response.json() == stored.json()

    def test_a_payment_reported_by_an_analysis_only_payer_is_registered_as_reported(self, live: Live) -> None:
        response = fast_post(live, payment_body(payee_id=pnr(12)), "analysis_only")
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "reported"
        stored = live.documented.get(f"/api/v1/payments/{response.json()['id']}", headers=live.headers("analysis_only"))
        assert response.json() == stored.json()

    def test_a_resent_payment_is_the_same_payment(self, live: Live) -> None:
        body = payment_body()
        first = fast_post(live, body)
        again = fast_post(live, body)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()

    def test_a_reference_used_for_another_payment_is_a_conflict(self, live: Live) -> None:
        body = payment_body()
        assert fast_post(live, body).status_code == 201
        changed = fast_post(live, {**body, "amount_minor": 99})
        assert (changed.status_code, changed.json()["error"]) == (409, "reference_conflict")
        assert changed.json()["extra"]["fields"] == ["amount_minor"]


ERRORS: list[tuple[dict[str, object], str | None]] = [
    (payment_body(payee_id="198112289875"), "payer"),  # wrong check digit
    (payment_body(benefit="NOPE"), "payer"),  # unknown benefit
    (payment_body(benefit="AKE"), "payer"),  # a benefit this payer may not pay
    (payment_body(amount_minor=0), "payer"),
    (payment_body(account="SE0000000000000000000000"), "payer"),
    (payment_body(due_date="2001-01-01"), "payer"),
    ({"reference": "x"}, "payer"),
    (payment_body(), "revoked"),
    (payment_body(), None),
]


@pytest.mark.parametrize(("body", "who"), ERRORS)
def test_every_error_is_the_documented_routes(live: Live, body: dict[str, object], who: str | None) -> None:
    fast = fast_post(live, body, who)
    documented = live.documented.post("/api/v1/payments", json=body, headers=live.headers(who))
    assert fast.status_code >= 400
    assert (fast.status_code, fast.json()) == (documented.status_code, documented.json())


def test_the_fast_path_registers_the_plain_case_itself(live: Live) -> None:
    body = orjson.dumps(payment_body())
    status, answer = asyncio.run(
        post_to_fast_path(live.database_url, PAYMENTS_PATH, live.tokens["payer"], body, vop=False)
    )
    assert (status, orjson.loads(answer)["status"]) == (201, "registered")
    with pytest.raises(HandedOnError):  # the replay is the documented route's to answer
        asyncio.run(post_to_fast_path(live.database_url, PAYMENTS_PATH, live.tokens["payer"], body, vop=False))
