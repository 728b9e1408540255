"""A payer's listing with archived payments among its own (decision 0035): every page of every filter,
in either order, reads the same before and after a month is archived — its cursors and where it
stops — on the fast path and the documented route alike; with read windows (which hold a fifth as
many archived payments) the same payments in the same order; another payer's archived payments
never appear."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.kit.clock import today
from saldo.payments.service.archive import archive_month
from tests.factories import OTHER_PNR, VALID_PNR, auth, csv_file, make_payer, make_token, payment_body

LIMIT = 4


def _old(**overrides: object) -> dict[str, object]:
    """A payment due in a month that may be archived today: four months back."""
    due = today() - dt.timedelta(days=125)
    start = due.replace(day=1)
    body = {
        "due_date": due.isoformat(),
        "period_start": start.isoformat(),
        "period_end": (start + dt.timedelta(days=27)).isoformat(),
    }
    return payment_body(**(body | overrides))


@pytest.fixture
def payers(client: TestClient, session: Session) -> dict[str, Any]:
    """A payer whose payments of four months ago — alone, in a file, to two persons, of two benefits,
    settled, returned, rejected, cancelled, one still held — lie between newer ones; another payer
    paid the same persons then. What is due four months back and final gets archived."""
    first = make_token(session, make_payer(session, name="Exempelkommunen", benefits=("EKB", "BB")))
    other = make_token(session, make_payer(session, name="Annanstad kommun"))
    session.commit()
    bodies: list[tuple[str, dict[str, object]]] = []
    for n in range(14):
        person = {"payee_id": OTHER_PNR, "payee_name": "Olle Berg"} if n % 3 == 0 else {}
        benefit = {"benefit": "BB"} if n % 4 == 1 else {}
        bodies.append((first, _old(reference=f"ARC-{n:02d}", amount_minor=1000 + n, **person, **benefit)))
        if n % 2 == 0:
            bodies.append((first, payment_body(reference=f"NEW-{n:02d}", amount_minor=5000 + n)))
        if n % 5 == 0:
            bodies.append((other, _old(reference=f"ARC-{n:02d}", amount_minor=9000 + n)))
    for token, body in bodies:
        response = client.post("/api/v1/payments", json=body, headers=auth(token))
        assert response.status_code == 201, response.text
    batch = [
        _old(reference=f"FILE-{n}", amount_minor=3000 + n, payee_name="Olle Berg", payee_id=OTHER_PNR) for n in range(5)
    ]
    sent = client.post(
        "/api/v1/payment-batches", content=csv_file(batch), headers={**auth(first), "Content-Type": "text/csv"}
    )
    assert sent.status_code == 201, sent.text
    session.execute(
        text(
            "UPDATE payments SET status = CASE WHEN reference = 'ARC-03' THEN 'returned' "
            "WHEN reference = 'ARC-05' THEN 'rejected' WHEN reference IN ('ARC-07', 'FILE-2') THEN 'cancelled' "
            "WHEN reference = 'ARC-09' THEN 'held' ELSE 'settled' END WHERE reference NOT LIKE 'NEW-%'"
        )
    )
    session.commit()
    return {"first": first, "other": other, "batch": sent.json()["batch_id"]}


def _walk(client: TestClient, token: str, query: str) -> list[dict[str, Any]]:
    """Every page of the listing for ``query``, cursor after cursor, as the payer gets them."""
    pages, after = [], None
    for _ in range(100):
        cursor = f"&after={after}" if after is not None else ""
        extra = f"&{query}" if query else ""  # a plain page, as the fast path takes it
        response = client.get(f"/api/v1/payments?limit={LIMIT}{cursor}{extra}", headers=auth(token))
        assert response.status_code == 200, (query, response.text)
        pages.append(response.json())
        after = pages[-1]["next_after"]
        if after is None:
            return pages
    raise AssertionError(f"{query}: no last page")


def _items(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page["items"]]


QUERIES = [
    "",
    "order=newest",
    "status=settled",
    "status=returned",
    "status=cancelled&order=newest",
    "status=held",
    "status=registered",
    "benefit=BB",
    "benefit=EKB&order=newest",
    "reference=ARC-1",
    "reference=FILE&order=newest",
    f"person={OTHER_PNR}",
    f"person={VALID_PNR}&status=settled&order=newest",
    "person=Olle",
    "person=berg&order=newest",  # a word of the name, in other case: the year rows' names are tried alike
    f"reference=ARC&person={OTHER_PNR}",
]


@pytest.mark.parametrize("read_limit", [10_000, 6], ids=["unbounded", "read-windows-of-6"])
def test_every_page_reads_the_same_after_a_month_is_archived(
    client: TestClient, app: FastAPI, session: Session, payers: dict[str, Any], read_limit: int
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"listing_read_limit": read_limit})
    due = today() - dt.timedelta(days=125)
    queries = [*QUERIES, f"due_from={due.isoformat()}&due_to={due.isoformat()}", f"batch_id={payers['batch']}"]
    before = {q: _walk(client, payers["first"], q) for q in queries}
    others_before = _walk(client, payers["other"], "")
    moved = archive_month(session, due, today=today())
    session.commit()
    assert moved == 14 - 1 + 5 + 3  # the first payer's but the held one, its file, and the other's three
    for query in queries:
        after = _walk(client, payers["first"], query)
        if read_limit > 1000:  # no window: the same pages, cursor for cursor
            assert after == before[query], query
        else:  # a window holds a fifth as many archived payments: other pages, the same payments in order
            assert _items(after) == _items(before[query]), query
            assert all(len(page["items"]) <= LIMIT for page in after)
    assert _walk(client, payers["other"], "") == others_before
    # the walks are not empty where archived payments are: the test reads the archive
    archived = {p["reference"] for q in queries for page in before[q] for p in page["items"]}
    assert {"ARC-00", "ARC-03", "ARC-05", "ARC-07", "FILE-2"} <= archived
    everything = [p["reference"] for page in before[""] for p in page["items"]]
    assert len(everything) == 14 + 7 + 5
    assert not {p["reference"] for page in others_before for p in page["items"]} & {"NEW-00", "FILE-0"}
