"""A payer's listing on the fast path answers byte for byte as the documented route does, on
committed data — an unfiltered page from its one statement, a filtered one from the route's own
service in a worker thread — and hands every request it does not handle — a query the route would
refuse or that is not in its plain form, no valid token — to that route unchanged."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg.types.numeric import Int8
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from saldo.app import create_app
from saldo.db.replica import AsyncReads
from saldo.kit.tokens import hash_token
from saldo.payers.service import revoke_token
from saldo.payments.repository import LISTING, LISTING_OF_PAYER
from saldo.settings import Settings
from saldo.web.fastpath import PAYMENTS_PATH, FastPath, PaymentListings
from tests.conftest import HandedOnError, asgi_call, handing_on_fails
from tests.factories import VALID_PNR, auth, make_payer, make_token, payment_body

PAGE_SIZE_MAX = 4  # below the route's own bound of 1,000, so a larger limit is cut to it
READ_LIMIT = 5  # a filtered page tries at most this many of the payer's payments


@dataclass(frozen=True)
class Payers:
    first: str  # its token
    other: str
    idle: str  # a payer with no payments
    first_ids: list[int]
    other_ids: list[int]


@pytest.fixture
def documented(settings: Settings, live_engine: Engine, tmp_path: object) -> Iterator[tuple[TestClient, Payers]]:
    """The app without its fast path, on a database with real commits: two payers' payments in turns,
    one of them held, one checked, one in a payment run, and a payer with none."""
    app: FastAPI = create_app(
        settings.model_copy(
            update={
                "fast_path": False,
                "data_dir": tmp_path,
                "page_size_max": PAGE_SIZE_MAX,
                "listing_read_limit": READ_LIMIT,
            }
        ),
        engine=live_engine,
    )
    with Session(live_engine) as session:
        first = make_token(session, make_payer(session, name="Exempelkommunen"))
        other = make_token(session, make_payer(session, name="Annanstad kommun"))
        idle = make_token(session, make_payer(session, name="Tomma kommun"))
        session.commit()
    with TestClient(app) as client:
        ids: dict[str, list[int]] = {first: [], other: []}
        for n in range(7):
            for token in (first, other):
                body = payment_body(amount_minor=1000 + n, remittance_info=None if n == 3 else f"Rad {n} åäö")
                response = client.post("/api/v1/payments", json=body, headers=auth(token))
                assert response.status_code == 201, response.text
                ids[token].append(response.json()["id"])
        batch = [payment_body(reference=f"BATCH-{n}", amount_minor=2000 + n, payee_name="Olle Berg") for n in range(3)]
        sent = client.post("/api/v1/payment-batches", json={"payments": batch}, headers=auth(first))
        assert sent.status_code in (200, 201, 202), sent.text
        ids[first] += [
            p["id"] for p in client.get(f"{PAYMENTS_PATH}?reference=BATCH-", headers=auth(first)).json()["items"]
        ]
        held = client.post(
            f"/api/v1/payments/{ids[first][2]}/hold", json={"reason": 'Kontroll av "beslut"'}, headers=auth(first)
        )
        assert held.status_code == 200, held.text
        with live_engine.begin() as connection:
            connection.execute(
                text("UPDATE payments SET account_check = 'passed', status = 'verified' WHERE id = :id"),
                {"id": ids[first][4]},
            )
            connection.execute(text("UPDATE payments SET run_id = 77 WHERE id = :id"), {"id": ids[first][5]})
        yield client, Payers(first, other, idle, ids[first], ids[other])


def fast_get(
    engine: Engine, token: str | None, query: str = "", *, app: object, replica: bool = False
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """GET the listing through the fast-path layer alone, in front of an app that fails if reached;
    ``app`` is what Starlette puts in the scope (its settings; a filtered page uses its sessions and
    reads). With ``replica``, the database itself is also given as the replica (a primary counts as
    caught up), so a plain page takes the two statements it takes beside a replica (decision 0039).
    Its connections keep another time zone than the server's: the answer's times are UTC still."""

    async def get() -> tuple[bytes, list[tuple[bytes, bytes]]]:
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

        def connections() -> AsyncConnectionPool:
            options = {"autocommit": True, "options": "-c TimeZone=Europe/Stockholm"}
            return AsyncConnectionPool(conninfo, min_size=1, max_size=2, open=False, kwargs=options)

        pool, reads = connections(), AsyncReads(connections, max_lag_seconds=5)
        listings = PaymentListings(pool, reads if replica else None)
        fast = FastPath(handing_on_fails(query), pool=pool, handlers={}, listings=listings)
        headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
        scope = {"type": "http", "method": "GET", "path": PAYMENTS_PATH, "headers": headers, "app": app}
        try:
            sent = await asgi_call(fast, {**scope, "query_string": query.encode()})
        finally:
            await pool.close()
            await reads.close()
        assert sent[0]["status"] == 200
        return bytes(sent[1]["body"]), list(sent[0]["headers"])  # type: ignore[call-overload]

    return asyncio.run(get())


def test_every_plain_page_is_the_documented_route_s_byte_for_byte(
    documented: tuple[TestClient, Payers], live_engine: Engine
) -> None:
    client, payers = documented
    ids = payers.first_ids
    queries = [
        "",
        "limit=2",
        f"limit=2&after={ids[1]}",
        f"after={ids[2]}&limit=3",
        "order=newest",
        f"order=newest&limit=2&after={ids[5]}",
        "order=oldest&limit=1000",  # cut to page_size_max
        f"after={ids[-1]}",  # past the last: an empty page
        "order=newest&after=0",
        "after=0&limit=7",
        "limit=9",
    ]
    for query in queries:
        expected = client.get(f"{PAYMENTS_PATH}?{query}", headers=auth(payers.first))
        assert expected.status_code == 200, expected.text
        body, headers = fast_get(live_engine, payers.first, query, app=client.app)
        assert body == expected.content, query
        assert dict(headers)[b"saldo-read-from"] == expected.headers["saldo-read-from"].encode() == b"primary"
        assert dict(headers)[b"content-type"] == expected.headers["content-type"].encode()
    whole = client.get(f"{PAYMENTS_PATH}?limit=9", headers=auth(payers.first)).json()
    assert [p["id"] for p in whole["items"]] == ids[:PAGE_SIZE_MAX]
    assert whole["next_after"] == ids[PAGE_SIZE_MAX - 1]
    shown = {p["id"]: p for p in whole["items"]}
    assert shown[ids[2]]["hold"]["reason"] == 'Kontroll av "beslut"'
    assert shown[ids[3]]["remittance_info"] is None


def test_every_filtered_page_is_the_documented_route_s_byte_for_byte(
    documented: tuple[TestClient, Payers], live_engine: Engine
) -> None:
    """Filters go through the route's own service in a worker thread (the app has no replica, so it
    reads the primary and says so). Plain pages beside a replica: the token on the primary, the page
    on the replica, byte for byte the same."""
    client, payers = documented
    ids = payers.first_ids
    batch = client.get(f"{PAYMENTS_PATH}?reference=BATCH-", headers=auth(payers.first)).json()["items"][0]["batch_id"]
    today = client.get(PAYMENTS_PATH, headers=auth(payers.first)).json()["items"][0]["due_date"]
    queries = [
        "status=held",
        "status=registered&limit=2",
        f"status=registered&limit=2&after={ids[1]}",
        "status=verified&order=newest",
        "status=settled",  # none: the window is read to the end
        "benefit=EKB&limit=3",
        "benefit=NOPE",
        f"due_from={today}&due_to={today}&limit=2",
        "due_to=2001-01-01",
        f"batch_id={batch}",
        f"batch_id={batch}&order=newest&limit=2",
        "batch_id=999999",  # no such batch of this payer
        "reference=REF-",
        "reference=BATCH-1",
        "person=Olle",
        "person=andersson&order=newest",
        f"person={VALID_PNR}&limit=2",
        f"person={VALID_PNR[2:8]}-{VALID_PNR[8:]}",  # the number in another form its scheme takes
    ]
    answered_from_a_window = 0
    for query in queries:
        expected = client.get(f"{PAYMENTS_PATH}?{query}", headers=auth(payers.first))
        assert expected.status_code == 200, (query, expected.text)
        body, headers = fast_get(live_engine, payers.first, query, app=client.app)
        assert body == expected.content, query
        assert dict(headers)[b"saldo-read-from"] == b"primary"
        answered_from_a_window += expected.json()["read_limit_reached"]
    assert answered_from_a_window > 0  # some pages stopped at the read limit, and said so
    held = client.get(f"{PAYMENTS_PATH}?status=held", headers=auth(payers.first)).json()["items"]
    assert [p["id"] for p in held] == [ids[2]]
    for query in ("", "limit=2", f"order=newest&after={ids[5]}", f"after={ids[-1]}", "order=oldest&limit=1000"):
        body, headers = fast_get(live_engine, payers.first, query, app=client.app, replica=True)
        assert body == client.get(f"{PAYMENTS_PATH}?{query}", headers=auth(payers.first)).content, query
        assert dict(headers)[b"saldo-read-from"] == b"replica; lag=0.000"


def test_each_payer_sees_its_own_payments_only(documented: tuple[TestClient, Payers], live_engine: Engine) -> None:
    """On both paths: the one statement (no filter) and the route's service (a status filter)."""
    client, payers = documented
    owners = ((payers.first, payers.first_ids), (payers.other, payers.other_ids))
    for (token, own), narrowed in itertools.product(owners, ("", "status=registered&")):
        seen: list[int] = []
        query = f"{narrowed}limit=3"
        while True:
            body, _headers = fast_get(live_engine, token, query, app=client.app)
            page = client.get(f"{PAYMENTS_PATH}?{query}", headers=auth(token))
            assert body == page.content
            seen += [p["id"] for p in page.json()["items"]]
            if page.json()["next_after"] is None:
                break
            query = f"{narrowed}limit=3&after={page.json()['next_after']}"
        if narrowed:
            assert seen
            assert set(seen) <= set(own), (seen, own)
        else:
            assert seen == own
    # another payer's batch is no batch of the caller's: an empty page, as the route gives it
    batch = client.get(f"{PAYMENTS_PATH}?reference=BATCH-", headers=auth(payers.first)).json()["items"][0]["batch_id"]
    theirs, _headers = fast_get(live_engine, payers.other, f"batch_id={batch}", app=client.app)
    assert theirs == client.get(f"{PAYMENTS_PATH}?batch_id={batch}", headers=auth(payers.other)).content
    assert theirs == b'{"items":[],"next_after":null,"read_limit_reached":false}'
    empty, _headers = fast_get(live_engine, payers.idle, "order=newest", app=client.app)
    assert empty == client.get(f"{PAYMENTS_PATH}?order=newest", headers=auth(payers.idle)).content
    assert empty == b'{"items":[],"next_after":null,"read_limit_reached":false}'


@pytest.mark.parametrize(
    "query",
    [
        "status=HELD",
        "status=",
        "person=Anna%20Andersson",
        "person=Anna+Andersson",
        "person=12345",  # no valid number nor a name: 422 from the route
        "batch_id=0",
        "batch_id=01",
        "reference=REF%2D",
        "reference=",
        "benefit=E%4BB",
        "due_from=2026-1-01",
        "due_from=1900-01-01",  # before the dates the route takes
        "due_to=2026-02-30",
        "limit=0",
        "limit=1001",
        "limit=01",
        "limit=+5",
        "limit=%35",
        "limit=",
        "limit",
        "limit=2&limit=3",
        "after=-1",
        "after=9223372036854775808",
        "order=newer",
        "order=NEWEST",
        "unknown=1",
        "&",
    ],
)
def test_a_query_not_in_its_plain_form_is_handed_on(
    documented: tuple[TestClient, Payers], live_engine: Engine, query: str
) -> None:
    client, payers = documented
    with pytest.raises(HandedOnError):
        fast_get(live_engine, payers.first, query, app=client.app)


def test_a_request_with_no_valid_token_is_handed_on(documented: tuple[TestClient, Payers], live_engine: Engine) -> None:
    client, payers = documented
    unknown = (None, "not-a-token", "saldo_pat_" + "x" * 40)
    for token, query, replica in itertools.product(unknown, ("", "status=held"), (False, True)):
        with pytest.raises(HandedOnError):
            fast_get(live_engine, token, query, app=client.app, replica=replica)
    with Session(live_engine) as session:
        token_id = session.execute(
            text("SELECT id FROM api_tokens WHERE secret_sha256 = :s"), {"s": hash_token(payers.first)}
        ).scalar_one()
        revoke_token(session, token_id=token_id)
        session.commit()
    for query, replica in itertools.product(("", "status=held"), (False, True)):
        with pytest.raises(HandedOnError):
            fast_get(live_engine, payers.first, query, app=client.app, replica=replica)
    refused = client.get(PAYMENTS_PATH, headers=auth(payers.first))
    assert refused.status_code == 401


@pytest.mark.parametrize(("newest_first", "beside_a_replica"), list(itertools.product((False, True), (False, True))))
def test_the_scan_starts_at_the_cursor_of_the_caller_s_payer(
    documented: tuple[TestClient, Payers], live_engine: Engine, newest_first: bool, beside_a_replica: bool
) -> None:
    """The caller's payer is a value computed once that bounds the (payer, id) index: joined to the
    scan, it was a filter on every row, and a page newest first walked the whole index (71 ms at a
    million payments, 1.2 ms so). Beside a replica the payer is given, as the token's on the primary."""
    _client, payers = documented
    statement = (LISTING_OF_PAYER if beside_a_replica else LISTING)[newest_first]
    with live_engine.connect() as connection:
        payer_id = connection.execute(
            text("SELECT payer_id FROM api_tokens WHERE secret_sha256 = :s"), {"s": hash_token(payers.first)}
        ).scalar_one()
    params = {
        "secret": hash_token(payers.first),
        "payer_id": Int8(payer_id),
        "after": Int8(payers.first_ids[3]),
        "limit": 3,
    }
    with live_engine.connect() as connection:
        off = ("enable_seqscan", "enable_bitmapscan", "enable_sort", "enable_incremental_sort")
        connection.execute(text("; ".join(f"SET {setting} = off" for setting in off)))
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("EXPLAIN (COSTS OFF) " + statement, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    lines = plan.splitlines()
    scan = next(i for i, line in enumerate(lines) if "using ix_payments_payer_id_id" in line)
    assert ("Backward" in lines[scan]) is newest_first, plan
    bound = "<" if newest_first else ">"
    assert f"Index Cond: ((ROW(payer_id, id) {bound} ROW((InitPlan" in lines[scan + 1], plan
    assert "Join Filter" not in plan, plan
