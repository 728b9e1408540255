"""The citizen overview's fast path answers exactly as the documented route does, on committed data,
and hands every case it does not handle — no live citizen session, a caseworker, an odd query — to
that route unchanged."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from saldo.app import create_app
from saldo.db.replica import AsyncReads
from saldo.kit.clock import today
from saldo.settings import Settings
from saldo.staff.models import Role
from saldo.web.fastpath import OVERVIEW_PATH, CitizenOverviews, FastPath
from tests.conftest import HandedOnError, asgi_call, handing_on_fails
from tests.factories import (
    OTHER_PNR,
    VALID_PNR,
    account_record,
    auth,
    log_a_read,
    make_bank,
    make_bank_token,
    make_payer,
    make_staff,
    make_token,
    payment_body,
    se_iban,
)
from tests.web_login import csrf_of, dev_login, route_provider_calls_to, start_assisting

CASEWORKER_PNR = "197802022389"


@pytest.fixture
def documented(settings: Settings, live_engine: Engine, tmp_path: object) -> Iterator[TestClient]:
    """The app without its fast path, on a database with real commits, with two payers' payments to
    Anna, one to Olle, two accounts Anna holds and one she designated, and a read of her data."""
    app: FastAPI = create_app(
        settings.model_copy(update={"dev_login": True, "fast_path": False, "data_dir": tmp_path}), engine=live_engine
    )
    route_provider_calls_to(app)
    with Session(live_engine) as session:
        kommun = make_token(session, make_payer(session, name="Exempelkommunen"))
        agency = make_token(session, make_payer(session, name="Försäkringskassan Test", benefits=("BB", "SJP")))
        other = make_token(session, make_payer(session, name="Annanstad kommun"))
        bank = make_bank_token(session, make_bank(session))
        make_staff(session, "karin.handlaggare", CASEWORKER_PNR, Role.CASEWORKER)
        log_a_read(session, VALID_PNR, "kontroll")
        session.commit()
    with TestClient(app) as client:
        last_year = (today() - dt.timedelta(days=370)).isoformat()  # within the registry's 400 days
        for token, body in (
            (kommun, payment_body(amount_minor=125000)),
            (agency, payment_body(benefit="BB", amount_minor=150000)),
            (kommun, payment_body(reference="LAST-YEAR", due_date=last_year, amount_minor=5000)),
            (other, payment_body(payee_id=OTHER_PNR, payee_name="Olle Berg", amount_minor=999900)),
        ):
            response = client.post("/api/v1/payments", json=body, headers=auth(token))
            assert response.status_code == 201, response.text
        records = [account_record(se_iban(n), (VALID_PNR, "Anna Andersson")) for n in (1, 2)]
        assert client.post("/api/v1/bank/accounts", json={"accounts": records}, headers=auth(bank)).status_code == 200
        yield client


def citizen_cookie(client: TestClient, personnummer: str = VALID_PNR) -> str:
    client.cookies.clear()
    assert dev_login(client, personnummer).status_code == 303
    return str(client.cookies["saldo_session"])


def fast_get(
    engine: Engine,
    cookie: str | None,
    query: str = "",
    *,
    path: str = OVERVIEW_PATH,
    app: object = None,
    replica: bool = False,
) -> bytes:
    """The body of ``fast_answer``."""
    return fast_answer(engine, cookie, query, path=path, app=app, replica=replica)[0]


def fast_answer(
    engine: Engine,
    cookie: str | None,
    query: str = "",
    *,
    path: str = OVERVIEW_PATH,
    app: object = None,
    replica: bool = False,
    max_lag: float = 5,
) -> tuple[bytes, str]:
    """GET the overview (or its page) through the fast-path layer alone, in front of an app that
    fails if reached; ``app`` is what Starlette puts in the scope (the page reads its settings).
    With ``replica``, the database itself is also given as the replica (a primary counts as caught
    up), so the session is read on one pool and the overview on another (decision 0039). The body,
    and where it says it was read."""

    async def get() -> tuple[bytes, str]:
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

        def connections() -> AsyncConnectionPool:
            return AsyncConnectionPool(conninfo, min_size=1, max_size=2, open=False, kwargs={"autocommit": True})

        pool, reads = connections(), AsyncReads(connections, max_lag_seconds=max_lag)
        overview = CitizenOverviews(pool, idle_minutes=30, reads=reads if replica else None)
        fast = FastPath(handing_on_fails(path), pool=pool, handlers={}, overview=overview)
        headers = [(b"cookie", f"saldo_lang=sv; saldo_session={cookie}".encode())] if cookie else []
        scope = {"type": "http", "method": "GET", "path": path, "headers": headers, "app": app}
        try:
            sent = await asgi_call(fast, {**scope, "query_string": query.encode()})
        finally:
            await pool.close()
            await reads.close()
        assert sent[0]["status"] == 200
        answered = dict(sent[0]["headers"])  # type: ignore[call-overload]
        assert answered[b"cache-control"] == b"no-store"
        return bytes(sent[1]["body"]), answered[b"saldo-read-from"].decode()  # type: ignore[call-overload]

    return asyncio.run(get())


def test_the_fast_path_gives_the_documented_route_s_overview(documented: TestClient, live_engine: Engine) -> None:
    cookie = citizen_cookie(documented)
    page = documented.get("/me")
    designated = documented.post(
        "/me/account", data={"account": f"iban:{se_iban(2)}", "csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert designated.status_code == 303
    earlier = (today() - dt.timedelta(days=370)).year
    for query, params in (("", {}), (f"year={earlier}", {"year": earlier})):
        expected = documented.get(OVERVIEW_PATH, params=params)
        assert (expected.status_code, expected.headers["cache-control"]) == (200, "no-store")
        assert expected.headers["saldo-read-from"] == "primary"
        answered = orjson.loads(fast_get(live_engine, cookie, query))
        assert answered == expected.json()
        # beside a replica, just after the citizen's own change of account: read on the primary
        body, read_from = fast_answer(live_engine, cookie, query, replica=True)
        assert (orjson.loads(body), read_from) == (expected.json(), "primary")
    # with no lag allowed, the change is on any replica fit to read two seconds after it (a second for
    # the lag asked, a second for its commit): read there
    time.sleep(2.1)
    for query, params in (("", {}), (f"year={earlier}", {"year": earlier})):
        body, read_from = fast_answer(live_engine, cookie, query, replica=True, max_lag=0)
        assert (orjson.loads(body), read_from) == (
            documented.get(OVERVIEW_PATH, params=params).json(),
            "replica; lag=0.000",
        )
    this_year = orjson.loads(fast_get(live_engine, cookie))
    assert sorted(p["amount_minor"] for p in this_year["payments"]) == [125000, 150000]
    assert this_year["designation"]["account"] == se_iban(2)
    assert [a["purpose"] for a in this_year["access"]] == ["kontroll"]
    assert OTHER_PNR not in str(this_year)


def test_the_fast_path_renders_the_documented_route_s_page(documented: TestClient, live_engine: Engine) -> None:
    cookie = citizen_cookie(documented)
    earlier = (today() - dt.timedelta(days=370)).year
    for query, params in (("", {}), (f"year={earlier}", {"year": earlier})):
        expected = documented.get("/me", params=params)
        assert (expected.status_code, expected.headers["cache-control"]) == (200, "no-store")
        assert fast_get(live_engine, cookie, query, path="/me", app=documented.app).decode() == expected.text
        body, read_from = fast_answer(live_engine, cookie, query, path="/me", app=documented.app, replica=True)
        assert (body.decode(), read_from) == (expected.text, "replica; lag=0.000")
    assert "Exempelkommunen" in fast_get(live_engine, cookie, path="/me", app=documented.app).decode()
    with pytest.raises(HandedOnError):  # a language choice is remembered in a cookie by the documented route
        fast_get(live_engine, cookie, "lang=en", path="/me", app=documented.app)


@pytest.mark.parametrize("query", ["year=abc", "year=1850", "year=2026&x=1", "lang=en"])
def test_a_query_other_than_a_plain_year_is_handed_on(documented: TestClient, live_engine: Engine, query: str) -> None:
    cookie = citizen_cookie(documented)
    with pytest.raises(HandedOnError):
        fast_get(live_engine, cookie, query)


@pytest.mark.parametrize("replica", [False, True])
def test_no_live_citizen_session_is_handed_on(documented: TestClient, live_engine: Engine, replica: bool) -> None:
    with pytest.raises(HandedOnError):
        fast_get(live_engine, None, replica=replica)
    with pytest.raises(HandedOnError):
        fast_get(live_engine, "not-a-session", replica=replica)
    idle = citizen_cookie(documented)
    with live_engine.begin() as connection:
        connection.execute(text("UPDATE web_sessions SET last_seen_at = now() - interval '31 minutes'"))
    with pytest.raises(HandedOnError):
        fast_get(live_engine, idle, replica=replica)
    ended = citizen_cookie(documented)
    page = documented.get("/me")
    assert documented.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False).status_code == 303
    with pytest.raises(HandedOnError):
        fast_get(live_engine, ended, replica=replica)


@pytest.mark.parametrize("replica", [False, True])
def test_a_caseworker_s_read_is_handed_on_to_be_logged(
    documented: TestClient, live_engine: Engine, replica: bool
) -> None:
    documented.cookies.clear()
    assert dev_login(documented, CASEWORKER_PNR, provider="dev-staff", next="/staff").status_code == 303
    assert start_assisting(documented, VALID_PNR, "assisted_service").status_code == 303
    with pytest.raises(HandedOnError):
        fast_get(live_engine, str(documented.cookies["saldo_session"]), replica=replica)


@pytest.mark.parametrize("replica", [False, True])
def test_the_session_s_last_seen_time_is_written_at_most_once_a_minute(
    documented: TestClient, live_engine: Engine, replica: bool
) -> None:
    """On the primary, beside a replica too."""
    cookie = citizen_cookie(documented)
    with live_engine.begin() as connection:
        connection.execute(text("UPDATE web_sessions SET last_seen_at = now() - interval '5 minutes'"))
    fast_get(live_engine, cookie, replica=replica)
    with live_engine.begin() as connection:
        seen = connection.execute(text("SELECT last_seen_at FROM web_sessions")).scalar_one()
        assert dt.datetime.now(dt.UTC) - seen < dt.timedelta(seconds=10)
        connection.execute(text("UPDATE web_sessions SET last_seen_at = now() - interval '30 seconds'"))
        before = connection.execute(text("SELECT last_seen_at FROM web_sessions")).scalar_one()
    fast_get(live_engine, cookie, replica=replica)
    with live_engine.connect() as connection:
        assert connection.execute(text("SELECT last_seen_at FROM web_sessions")).scalar_one() == before
