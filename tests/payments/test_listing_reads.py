"""A payer's listing reads a bounded share of the payer's payments a page, whatever it is narrowed to
(decision 0037): an index of its own for a reference, a person, a batch or a rare status; a window
of at most ``read_limit`` payments for a filter tried on each payment; and a cursor that starts the
scan where the page starts, in either order."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from saldo.payments.models import RARE_STATUSES, PaymentStatus
from saldo.payments.repository import PaymentFilter
from saldo.payments.schemas import PaymentPage
from saldo.payments.service.query import list_payments
from saldo.payments.service.verify import plan_account_check
from tests.factories import auth, load_migration, make_payer, make_token, payment_body

BERG = {3, 4, 19, 20, 21, 29}  # which of the payer's 30 payments go to Bo Berg


def _batch(client: TestClient, token: str, bodies: list[dict[str, object]]) -> int:
    response = client.post("/api/v1/payment-batches", json={"payments": bodies}, headers=auth(token))
    assert response.status_code == 201, response.text
    return int(response.json()["batch_id"])


@pytest.fixture
def payers(client: TestClient, token: str, session: Session) -> tuple[int, int]:
    """The payer's 30 payments (references P-00 … P-29) in three batches, with another payer's
    payments registered between them so that the two payers' ids interleave; (payer, other payer)."""
    other = make_token(session, make_payer(session, name="Annan kommun"))
    session.commit()
    for part in range(3):
        bodies = []
        for n in range(part * 10, part * 10 + 10):
            name = "Bo Berg" if n in BERG else "Anna Andersson"
            bodies.append(payment_body(reference=f"P-{n:02d}", payee_name=name))
        _batch(client, token, bodies)
        _batch(client, other, [payment_body(reference=f"O-{part}-{n}", payee_name="Bo Berg") for n in range(5)])
    payer = session.scalar(text("SELECT payer_id FROM payments WHERE reference = 'P-00'"))
    other_payer = session.scalar(text("SELECT payer_id FROM payments WHERE reference = 'O-0-0'"))
    return int(payer), int(other_payer)


def _pages(session: Session, payer: int, filters: PaymentFilter, *, limit: int, read_limit: int) -> list[PaymentPage]:
    pages, after = [], None
    while True:
        page = list_payments(session, payer_id=payer, filters=filters, after=after, limit=limit, read_limit=read_limit)
        pages.append(page)
        if page.next_after is None:
            return pages
        after = page.next_after


@pytest.mark.parametrize("newest_first", [False, True])
def test_a_filter_tried_on_each_payment_reads_a_window_a_page_and_finds_every_match_once(
    session: Session, payers: tuple[int, int], newest_first: bool
) -> None:
    payer, _ = payers
    filters = PaymentFilter(payee_name="Berg", newest_first=newest_first)
    pages = _pages(session, payer, filters, limit=2, read_limit=6)
    found = [item.reference for page in pages for item in page.items]
    expected = [f"P-{n:02d}" for n in sorted(BERG, reverse=newest_first)]
    assert found == expected  # each match once, in the listing's order, and none of the other payer's
    # 30 payments, 6 read a page: pages stop at their window, some of them empty ...
    assert any(p.read_limit_reached and not p.items for p in pages)
    assert any(p.read_limit_reached and 0 < len(p.items) < 2 for p in pages)
    # ... a page that fills before its window ends goes on from its last match, as without a filter ...
    full = [p for p in pages if not p.read_limit_reached and p.next_after is not None]
    assert full
    assert all(len(p.items) == 2 and p.next_after == p.items[-1].id for p in full)
    # ... and the last page says so.
    assert pages[-1].next_after is None
    assert not pages[-1].read_limit_reached
    assert len(pages) >= 30 // 6


def test_the_window_is_counted_in_the_payers_own_payments(session: Session, payers: tuple[int, int]) -> None:
    """The other payer's 15 payments between the payer's never use up a page's reading."""
    payer, _ = payers
    page = list_payments(
        session, payer_id=payer, filters=PaymentFilter(payee_name="Berg"), after=None, limit=100, read_limit=10
    )
    assert [i.reference for i in page.items] == ["P-03", "P-04"]  # the payer's first ten payments
    assert page.read_limit_reached
    assert page.next_after == session.scalar(text("SELECT id FROM payments WHERE reference = 'P-09'"))


def test_an_index_narrowed_filter_reads_no_window(session: Session, payers: tuple[int, int]) -> None:
    """A reference's beginning or a rare status narrow the listing through their own index: a page
    is full or the last, never cut short by the read limit."""
    payer, _ = payers
    session.execute(text("UPDATE payments SET status = 'held' WHERE reference IN ('P-02', 'P-27')"))
    for filters in (PaymentFilter(reference="P-2"), PaymentFilter(status=PaymentStatus.HELD)):
        pages = _pages(session, payer, filters, limit=100, read_limit=3)
        assert len(pages) == 1, filters
        assert not pages[0].read_limit_reached, filters
        assert len(pages[0].items) == (10 if filters.reference else 2), filters
    held = list_payments(
        session, payer_id=payer, filters=PaymentFilter(status=PaymentStatus.HELD), after=None, limit=100, read_limit=3
    )
    assert [i.reference for i in held.items] == ["P-02", "P-27"]


def test_another_payers_batch_lists_nothing(session: Session, payers: tuple[int, int]) -> None:
    payer, _ = payers
    theirs = session.scalar(text("SELECT batch_id FROM payments WHERE reference = 'O-0-0'"))
    page = list_payments(session, payer_id=payer, filters=PaymentFilter(batch_id=theirs), after=None, limit=100)
    assert page.items == []
    assert page.next_after is None


def test_the_rare_status_index_holds_exactly_the_rare_statuses(session: Session) -> None:
    definition = session.scalar(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_payments_payer_id_rare_status_id'")
    )
    where = definition.split(" WHERE ", 1)[1]
    assert {s.value for s in PaymentStatus if f"'{s.value}'" in where} == {s.value for s in RARE_STATUSES}


# --- the plans, through an index as at national size -------------------------------------------


_PAGE_IDS = "AS merged"  # the listing's query of a page's ids (PaymentRepository.list_for_payer)


@contextmanager
def _statements(session: Session) -> Iterator[list[tuple[str, object]]]:
    """The statements the session runs meanwhile, with their parameters."""
    seen: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def _listing_plan(session: Session, payer: int, filters: PaymentFilter, *, after: int | None, read_limit: int) -> str:
    """The plan of the listing's own query (the last that finds a page's ids, in the payments table and
    the archive, before its payments are read with their labels), read in the listing's order from an
    index, as at national size."""
    with _statements(session) as seen:
        list_payments(session, payer_id=payer, filters=filters, after=after, limit=2, read_limit=read_limit)
    statement, parameters = next(s for s in reversed(seen) if _PAGE_IDS in s[0])
    off = ("enable_seqscan", "enable_bitmapscan", "enable_sort", "enable_incremental_sort")
    session.execute(text("; ".join(f"SET LOCAL {setting} = off" for setting in off)))
    cursor = session.connection().connection.cursor()
    cursor.execute("EXPLAIN (COSTS OFF) " + statement, parameters)
    plan = "\n".join(row[0] for row in cursor.fetchall())
    session.execute(text("; ".join(f"RESET {setting}" for setting in off)))
    return plan


def test_a_page_newest_first_starts_its_scan_at_the_cursor(session: Session, payers: tuple[int, int]) -> None:
    """With "payer_id <= :p" beside the cursor, a backward scan began at the payer's newest payment
    and read back to the cursor: deep pages grew with the payer's payments. The cursor is the
    scan's only bound on that side, in both orders."""
    payer, _ = payers
    cursor = session.scalar(text("SELECT id FROM payments WHERE reference = 'P-15'"))
    newest = _listing_plan(session, payer, PaymentFilter(newest_first=True), after=cursor, read_limit=1000)
    assert "Scan Backward using ix_payments_payer_id_id" in newest, newest  # index-only when no filter
    assert f"ROW(payer_id, id) < ROW({payer}::bigint," in newest.replace("'", "")
    assert "payer_id <=" not in newest
    oldest = _listing_plan(session, payer, PaymentFilter(), after=cursor, read_limit=1000)
    assert "payer_id >=" not in oldest


def test_a_window_is_read_as_a_range_of_ids(session: Session, payers: tuple[int, int]) -> None:
    """Both ends of the window bound the scan, whichever index the planner takes for it (the payer's
    (payer, id) at national size, where it reads only the payer's payments in the window)."""
    payer, _ = payers
    plan = _listing_plan(session, payer, PaymentFilter(due_to=dt.date(2099, 1, 1)), after=None, read_limit=5)
    scan = next(line for line in plan.splitlines() if "Index Cond" in line and "id >=" in line)
    assert "(id <=" in scan, plan


@pytest.mark.parametrize("newest_first", [False, True])
def test_a_first_pages_window_begins_at_the_payers_first_payment(
    session: Session, payers: tuple[int, int], newest_first: bool
) -> None:
    """Without a cursor the near end of the window is the payer's first payment in the listing's
    order, not the first id of all: from there the planner read every other payer's payments before
    the payer's by the primary key (72,749 rows for a window of 10,000 at ten million payments)."""
    payer, _ = payers
    ids = {
        reference: session.scalar(text("SELECT id FROM payments WHERE reference = :r"), {"r": reference})
        for reference in ("P-00", "P-04", "P-25", "P-29")
    }
    filters = PaymentFilter(due_to=dt.date(2099, 1, 1), newest_first=newest_first)
    plan = _listing_plan(session, payer, filters, after=None, read_limit=5)
    scan = next(line for line in plan.splitlines() if "Index Cond" in line and "id >=" in line)
    bounds = sorted(int(n) for n in re.findall(r"id [<>]= '?(\d+)", scan))
    assert bounds == sorted([ids["P-25"], ids["P-29"]] if newest_first else [ids["P-00"], ids["P-04"]]), plan


def _batch_of(session: Session, reference: str) -> int:
    return int(session.scalar(text("SELECT batch_id FROM payments WHERE reference = :r"), {"r": reference}))


def _share_range(session: Session, first: int, middle: int, last: int) -> None:
    """The middle batch's range as if the batches before and after it were registered at the same
    time: its range then holds their payments too."""
    session.execute(
        text(
            "UPDATE payment_batches SET ids_from = (SELECT ids_from FROM payment_batches WHERE id = :first),"
            " ids_to = (SELECT ids_to FROM payment_batches WHERE id = :last) WHERE id = :middle"
        ),
        {"first": first, "middle": middle, "last": last},
    )


def test_a_batch_records_the_range_of_ids_its_payments_took(session: Session, payers: tuple[int, int]) -> None:
    batch_id = _batch_of(session, "P-15")
    ids_from, ids_to = session.execute(
        text("SELECT ids_from, ids_to FROM payment_batches WHERE id = :b"), {"b": batch_id}
    ).one()
    first, last = session.execute(
        text("SELECT min(id), max(id) FROM payments WHERE batch_id = :b"), {"b": batch_id}
    ).one()
    assert ids_from <= first <= last <= ids_to


@pytest.mark.parametrize("newest_first", [False, True])
def test_a_batch_is_read_a_window_at_a_time_within_its_range(
    session: Session, payers: tuple[int, int], newest_first: bool
) -> None:
    """A batch's listing reads only the range of ids it recorded, and in it a window a page, like a
    filter tried on each payment: its time grows neither with the payer's payments nor the batch's.
    The range may hold another batch's payments (two sent at once): they are never listed."""
    payer, _ = payers
    first, middle, last = (_batch_of(session, r) for r in ("P-05", "P-15", "P-25"))
    _share_range(session, first, middle, last)
    filters = PaymentFilter(batch_id=middle, newest_first=newest_first)
    pages = _pages(session, payer, filters, limit=4, read_limit=6)
    found = [item.reference for page in pages for item in page.items]
    assert found == [f"P-{n:02d}" for n in sorted(range(10, 20), reverse=newest_first)]
    assert any(p.read_limit_reached for p in pages)
    assert not pages[-1].read_limit_reached
    plan = _listing_plan(session, payer, filters, after=None, read_limit=6)
    scan = next(line for line in plan.splitlines() if "Index Cond" in line and "id >=" in line)
    assert "(id <=" in scan, plan
    # no window ever reaches past the range: the other batches' payments outside it are not read
    ids_from, ids_to = session.execute(
        text("SELECT ids_from, ids_to FROM payment_batches WHERE id = :b"), {"b": middle}
    ).one()
    with _statements(session) as seen:
        _pages(session, payer, filters, limit=100, read_limit=1000)
    listing = next(parameters for statement, parameters in seen if _PAGE_IDS in statement)
    assert {ids_from, ids_to} <= set(listing.values()), listing


def _windows_read(session: Session, payer: int, filters: PaymentFilter, *, after: int | None, limit: int) -> list[int]:
    """How many of the payer's payments each window a page tried was to hold, in the order tried."""
    with _statements(session) as seen:
        list_payments(session, payer_id=payer, filters=filters, after=after, limit=limit, read_limit=1000)
    # the windows of the payments table (each is read of the archive's keys too, a fifth as many)
    table = [(statement, parameters) for statement, parameters in seen if "FROM payments " in statement]
    offsets = [(re.search(r"OFFSET %\((\w+)\)s", statement), parameters) for statement, parameters in table]
    return [int(parameters[found.group(1)]) + 1 for found, parameters in offsets if found]  # type: ignore[index]


@pytest.mark.parametrize("newest_first", [False, True])
def test_a_batch_alone_in_its_range_reads_a_window_of_the_pages_size(
    session: Session, payers: tuple[int, int], newest_first: bool
) -> None:
    """A batch's payments mostly lie together in its range: a page first reads as many of the
    payer's payments as it shows (and one to know there are more), and reads the whole window only
    when another batch's payments share it."""
    payer, _ = payers
    first, middle, last = (_batch_of(session, r) for r in ("P-05", "P-15", "P-25"))
    filters = PaymentFilter(batch_id=middle, newest_first=newest_first)
    pages = _pages(session, payer, filters, limit=4, read_limit=1000)
    assert [item.reference for page in pages for item in page.items] == [
        f"P-{n:02d}" for n in sorted(range(10, 20), reverse=newest_first)
    ]
    assert not any(page.read_limit_reached for page in pages)
    assert _windows_read(session, payer, filters, after=None, limit=4) == [5]
    _share_range(session, first, middle, last)
    assert _windows_read(session, payer, filters, after=None, limit=4) == [5, 1000]
    pages = _pages(session, payer, filters, limit=4, read_limit=1000)
    assert [item.reference for page in pages for item in page.items] == [
        f"P-{n:02d}" for n in sorted(range(10, 20), reverse=newest_first)
    ]
    # a batch and another filter: the window is the whole one from the start
    named = PaymentFilter(batch_id=middle, payee_name="Berg", newest_first=newest_first)
    assert _windows_read(session, payer, named, after=None, limit=4) == [1000]


def test_a_batch_of_another_payer_lists_nothing(session: Session, payers: tuple[int, int]) -> None:
    payer, _ = payers
    page = list_payments(
        session, payer_id=payer, filters=PaymentFilter(batch_id=_batch_of(session, "O-1-0")), after=None, limit=100
    )
    assert page.items == []
    assert page.next_after is None


def test_no_index_reads_the_payments_by_batch(session: Session) -> None:
    """A batch's payments are read in the range of ids it recorded. Beside that range the planner took
    a block-range index of batches too, and such an index is read whole on every scan: 2.4 ms of a
    batch's 2.5 ms page at 9.8 M payments, growing with the table (decision 0037)."""
    indexed = session.scalars(
        text(
            "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_attribute a"
            " ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            " WHERE i.indrelid = 'payments'::regclass AND a.attname = 'batch_id'"
        )
    ).all()
    assert indexed == []


def test_a_batchs_account_check_looks_only_in_its_range(session: Session, payers: tuple[int, int]) -> None:
    """Checking one batch reads the ids it recorded, not every payment of every payer (1.3 s at 9.8 M)."""
    batch_id = _batch_of(session, "P-15")
    recorded = tuple(
        session.execute(text("SELECT ids_from, ids_to FROM payment_batches WHERE id = :b"), {"b": batch_id}).one()
    )
    with _statements(session) as seen:
        ranges = plan_account_check(session, batch_id=batch_id, chunk_ids=1_000)
    looked = [p for statement, p in seen if "count(*) FROM payments" in statement]
    assert [(p["lo"], p["hi"]) for p in looked] == [recorded]  # type: ignore[index]
    batch_ids = session.execute(
        text("SELECT min(id), max(id) FROM payments WHERE batch_id = :b AND status = 'registered'"), {"b": batch_id}
    ).one()
    assert ranges == [tuple(batch_ids)]
    assert plan_account_check(session, batch_id=10**12, chunk_ids=1_000) == []


def test_the_payment_ids_are_handed_out_one_at_a_time(session: Session) -> None:
    """A batch's range is read from the sequence around its inserts: a connection holding a cache of
    ids from before would put a payment outside it."""
    assert session.scalar(text("SELECT seqcache FROM pg_sequence WHERE seqrelid = 'payments_id_seq'::regclass")) == 1


def test_the_migration_gives_existing_batches_their_ranges(session: Session, payers: tuple[int, int]) -> None:
    expected = session.execute(text("SELECT id, ids_from, ids_to FROM payment_batches ORDER BY id")).all()
    found = session.execute(
        text("SELECT batch_id, min(id), max(id) FROM payments GROUP BY batch_id ORDER BY batch_id")
    ).all()
    migration = load_migration("*_batch_payment_ids.py")
    with Operations.context(MigrationContext.configure(session.connection())):
        migration.downgrade()
        migration.upgrade()
    backfilled = session.execute(text("SELECT id, ids_from, ids_to FROM payment_batches ORDER BY id")).all()
    assert backfilled == [tuple(row) for row in found]  # each batch's own payments, exactly
    assert all(f <= b_from and b_to <= t for (_, f, t), (_, b_from, b_to) in zip(expected, backfilled, strict=True))


def test_a_rare_status_is_read_from_its_own_index(session: Session, payers: tuple[int, int]) -> None:
    payer, _ = payers
    for status in RARE_STATUSES:
        plan = _listing_plan(session, payer, PaymentFilter(status=status), after=None, read_limit=5)
        assert "ix_payments_payer_id_rare_status_id" in plan, status


# --- the API and the payer's page ----------------------------------------------------------------


def test_the_api_says_when_a_page_stopped_at_its_read_limit(
    app: FastAPI, client: TestClient, token: str, session: Session
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"listing_read_limit": 1000})
    bodies = [payment_body(reference=f"R-{n:04d}") for n in range(1100)]
    for n in (0, 1099):
        bodies[n]["payee_name"] = "Bo Berg"
    _batch(client, token, bodies)
    first = client.get("/api/v1/payments", params={"person": "Berg", "limit": 10}, headers=auth(token)).json()
    assert [i["reference"] for i in first["items"]] == ["R-0000"]
    assert first["read_limit_reached"] is True
    assert first["next_after"] == session.scalar(text("SELECT id FROM payments WHERE reference = 'R-0999'"))
    rest = client.get(
        "/api/v1/payments", params={"person": "Berg", "limit": 10, "after": first["next_after"]}, headers=auth(token)
    ).json()
    assert [i["reference"] for i in rest["items"]] == ["R-1099"]
    assert rest["read_limit_reached"] is False
    assert rest["next_after"] is None
