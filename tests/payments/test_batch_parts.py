"""A large CSV file stored over several connections: each part a transaction of its own, prepared,
and committed with the batch or rolled back with it (decision 0013). On a database of the test's
own, because the parts are separate connections and only real commits show what they did."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from saldo.kit.clock import today
from saldo.payers.schemas import PayerPrincipal
from saldo.payments.models import BatchFormat, Payment, PaymentBatch
from saldo.payments.repository import prepared_capacity, settle_batch_parts
from saldo.payments.schemas import BatchAccepted, BatchRejected
from saldo.payments.service import batch as batch_module
from saldo.payments.service import columns
from saldo.payments.service.batch import BatchSource, ingest_batch, settle_left_behind
from saldo.payments.service.policy import RegistrationPolicy
from saldo.settings import Settings
from tests.factories import csv_file, make_payer, payment_body

PAYMENTS = 1_500


@pytest.fixture
def engine_live(live_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The test's database, with small CSV blocks so that a file of 1,500 payments is ~70 blocks
    dealt out to the parts; whatever a test leaves prepared is settled before the database goes."""
    with Session(live_engine) as session:
        if prepared_capacity(session) < 2:  # an external server left at PostgreSQL's default of 0
            pytest.skip("the server allows fewer than two prepared transactions (max_prepared_transactions)")
    monkeypatch.setattr(columns, "BLOCK_BYTES", 4 << 10)
    yield live_engine
    settle_batch_parts(live_engine)


@pytest.fixture
def payer(engine_live: Engine) -> PayerPrincipal:
    with Session(engine_live) as session:
        payer = make_payer(session)
        principal = PayerPrincipal(payer.id, payer.organisation_number, payer.name, payer.connection_model, 0)
        session.commit()
    return principal


@pytest.fixture
def policy(settings: Settings) -> RegistrationPolicy:
    """Two parts for any file, however small."""
    return dataclasses.replace(RegistrationPolicy.from_settings(settings), writers=2, parallel_bytes=0)


def source_of(tmp_path: Path, bodies: list[dict[str, object]], name: str = "batch.csv") -> BatchSource:
    path = tmp_path / name
    path.write_text(csv_file(bodies), encoding="utf-8")
    return BatchSource(path=path, format=BatchFormat.CSV, sha256=hashlib.sha256(path.read_bytes()).digest())


def ingest(session: Session, payer: PayerPrincipal, source: BatchSource, policy: RegistrationPolicy):  # type: ignore[no-untyped-def]
    return ingest_batch(session, payer=payer, source=source, policy=policy, today=today())


def stored(engine: Engine) -> tuple[int, int, int]:
    """(payments, batches, prepared parts) as another connection sees them."""
    with engine.connect() as connection:
        payments = connection.scalar(select(func.count()).select_from(Payment))
        batches = connection.scalar(select(func.count()).select_from(PaymentBatch))
        prepared = connection.scalar(text("SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()"))
    return payments or 0, batches or 0, prepared or 0


def assert_batch_ranges_hold_their_payments(engine: Engine) -> None:
    """Every payment's id is within its batch's recorded range (decision 0037), whichever connection
    wrote it; a listing of the batch reads only that range."""
    with engine.connect() as connection:
        outside = connection.scalar(
            text(
                "SELECT count(*) FROM payments p JOIN payment_batches b ON b.id = p.batch_id"
                " WHERE b.ids_from IS NULL OR b.ids_to IS NULL OR p.id NOT BETWEEN b.ids_from AND b.ids_to"
            )
        )
        batches = connection.scalar(text("SELECT count(*) FROM payment_batches WHERE ids_to >= ids_from"))
    assert outside == 0
    assert batches >= 1


def test_a_large_file_is_stored_in_parts_and_committed_with_its_batch(
    engine_live: Engine, payer: PayerPrincipal, policy: RegistrationPolicy, tmp_path: Path
) -> None:
    source = source_of(tmp_path, [payment_body() for _ in range(PAYMENTS)])
    with Session(engine_live) as session:
        outcome = ingest(session, payer, source, policy)
        assert isinstance(outcome, BatchAccepted)
        assert outcome.registered == PAYMENTS
        assert stored(engine_live) == (0, 0, 2)  # two parts prepared; nothing visible before the commit
        session.commit()
    assert stored(engine_live) == (PAYMENTS, 1, 0)
    with engine_live.connect() as connection:
        writers = connection.scalar(text("SELECT count(DISTINCT xmin::text) FROM payments"))
        lines = connection.scalar(select(func.count(func.distinct(Payment.reference))))
    assert writers == 2, "each part wrote its share in a transaction of its own"
    assert lines == PAYMENTS
    assert_batch_ranges_hold_their_payments(engine_live)


def test_a_server_without_room_for_the_parts_stores_the_file_on_the_batchs_connection(
    engine_live: Engine, payer: PayerPrincipal, policy: RegistrationPolicy, tmp_path: Path
) -> None:
    with Session(engine_live) as session:
        capacity = prepared_capacity(session)
    more_than_room = dataclasses.replace(policy, writers=capacity + 1)
    source = source_of(tmp_path, [payment_body() for _ in range(PAYMENTS)])
    with Session(engine_live) as session:
        outcome = ingest(session, payer, source, more_than_room)
        assert isinstance(outcome, BatchAccepted)
        assert stored(engine_live) == (0, 0, 0)  # nothing prepared: it is all in the batch's transaction
        session.commit()
    assert stored(engine_live) == (PAYMENTS, 1, 0)


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_a_batch_not_committed_takes_its_parts_with_it(
    engine_live: Engine, payer: PayerPrincipal, policy: RegistrationPolicy, tmp_path: Path, end: str
) -> None:
    """Rolled back, or its session closed without a commit."""
    source = source_of(tmp_path, [payment_body() for _ in range(PAYMENTS)])
    with Session(engine_live) as session:
        assert isinstance(ingest(session, payer, source, policy), BatchAccepted)
        getattr(session, end)()
    assert stored(engine_live) == (0, 0, 0)


def test_a_reference_twice_in_far_apart_blocks_is_reported_and_nothing_is_kept(
    engine_live: Engine, payer: PayerPrincipal, policy: RegistrationPolicy, tmp_path: Path
) -> None:
    bodies = [payment_body() for _ in range(PAYMENTS)]
    bodies[-1]["reference"] = bodies[0]["reference"]  # most likely in another part, waited on then given up
    with Session(engine_live) as session:
        outcome = ingest(session, payer, source_of(tmp_path, bodies), policy)
        session.commit()
    assert isinstance(outcome, BatchRejected)
    assert [(e.line, e.field) for e in outcome.errors] == [(PAYMENTS + 1, "reference")]
    assert "also on line 2" in outcome.errors[0].reason
    assert stored(engine_live) == (0, 0, 0)


def test_a_file_sent_again_with_more_payments_is_reconciled(
    engine_live: Engine, payer: PayerPrincipal, policy: RegistrationPolicy, tmp_path: Path
) -> None:
    bodies = [payment_body() for _ in range(PAYMENTS)]
    with Session(engine_live) as session:
        assert isinstance(ingest(session, payer, source_of(tmp_path, bodies[:500], "first.csv"), policy), BatchAccepted)
        session.commit()
    with Session(engine_live) as session:
        outcome = ingest(session, payer, source_of(tmp_path, bodies, "again.csv"), policy)
        session.commit()
    assert isinstance(outcome, BatchAccepted)
    assert (outcome.registered, outcome.already_registered) == (PAYMENTS - 500, 500)
    assert stored(engine_live) == (PAYMENTS, 2, 0)
    assert_batch_ranges_hold_their_payments(engine_live)


def test_parts_left_prepared_by_an_ended_process_are_settled_by_whether_the_batch_committed(
    engine_live: Engine,
    payer: PayerPrincipal,
    policy: RegistrationPolicy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def ended(*_: object) -> None:
        raise ConnectionError("the process ended here")  # after the batch's own commit or rollback

    monkeypatch.setattr(batch_module, "settle_batch_parts", ended)
    committed = source_of(tmp_path, [payment_body() for _ in range(PAYMENTS)], "committed.csv")
    with Session(engine_live) as session:
        assert isinstance(ingest(session, payer, committed, policy), BatchAccepted)
        session.commit()
    rolled_back = source_of(tmp_path, [payment_body() for _ in range(PAYMENTS)], "rolled-back.csv")
    with Session(engine_live) as session:
        assert isinstance(ingest(session, payer, rolled_back, policy), BatchAccepted)
        session.rollback()
    assert stored(engine_live) == (0, 1, 4)  # the batch committed, its payments still in prepared parts

    running = source_of(tmp_path, [payment_body() for _ in range(PAYMENTS)], "running.csv")
    with Session(engine_live) as session:
        assert isinstance(ingest(session, payer, running, policy), BatchAccepted)
        monkeypatch.undo()
        # the start of another process: the running batch's parts are left to it
        assert sorted(committed for _, committed in settle_batch_parts(engine_live)) == [False, False, True, True]
        assert stored(engine_live) == (PAYMENTS, 1, 2)
        session.commit()
    assert stored(engine_live) == (2 * PAYMENTS, 2, 0)
    assert settle_left_behind(engine_live) == 0
