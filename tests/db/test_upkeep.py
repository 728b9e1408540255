"""Index upkeep: a table's indexes rebuilt compactly while Saldo serves, and what an interrupted
rebuild left (an invalid ``_ccnew`` index) dropped by the next run, which then completes the work.
A real database of the test's own: a concurrent rebuild cannot run inside a transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError

from saldo.db.engine import LOCK_TIMEOUT
from saldo.db.upkeep import DEFAULT_TABLES, UPKEEP_QUEUE, UPKEEP_TASK, Upkeep, UpkeepError, rebuild_indexes
from saldo.settings import Settings
from saldo.worker import QUEUES, build_job_app
from tests.conftest import live_database
from tests.factories import table_indexes


@pytest.fixture
def engine(tmp_path: Path, worker_id: str) -> Iterator[Engine]:
    _, made = live_database(f"saldo_upkeep_{worker_id}", tmp_path / "data")
    yield made
    made.dispose()


def leave_invalid(engine: Engine) -> None:
    """A table with an index, and beside it the invalid one a failed concurrent build leaves."""
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE upkeep_probe (id bigserial PRIMARY KEY, reference text)"))
        connection.execute(text("CREATE INDEX ix_upkeep_probe_reference ON upkeep_probe (reference)"))
        connection.execute(text("INSERT INTO upkeep_probe (reference) SELECT 'same' FROM generate_series(1, 100)"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection, pytest.raises(IntegrityError):
        connection.execute(
            text("CREATE UNIQUE INDEX CONCURRENTLY ix_upkeep_probe_reference_ccnew ON upkeep_probe (reference)")
        )


def test_a_churned_tables_indexes_are_rebuilt_smaller_with_every_row_still_found(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE upkeep_probe (id bigserial PRIMARY KEY, status int, at date)"))
        connection.execute(text("CREATE INDEX ix_upkeep_probe_status_at ON upkeep_probe (status, at)"))
        connection.execute(
            text(
                "INSERT INTO upkeep_probe (status, at) "
                "SELECT 0, date '2026-01-01' + g % 365 FROM generate_series(1, 50000) g"
            )
        )
    for status in (1, 2, 3):  # a year of status changes: each a new row version and index entry
        with engine.begin() as connection:
            connection.execute(text("UPDATE upkeep_probe SET status = :s"), {"s": status})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM upkeep_probe"))

    done = rebuild_indexes(engine, ["upkeep_probe"])
    assert done.dropped == []
    sizes = {r.index: (r.bytes_before, r.bytes_after) for r in done.rebuilt}
    assert set(sizes) == {"upkeep_probe_pkey", "ix_upkeep_probe_status_at"}
    for before, after in sizes.values():
        assert after < 0.6 * before, (before, after)  # the churned indexes held far more than what is live
    assert table_indexes(engine, "upkeep_probe") == {"upkeep_probe_pkey": True, "ix_upkeep_probe_status_at": True}
    with engine.connect() as connection:
        counted = connection.execute(text("SELECT count(*) FROM upkeep_probe WHERE status = 3 AND at >= '2026-01-01'"))
        assert counted.scalar_one() == 50000


def test_what_an_interrupted_rebuild_left_is_dropped_and_the_work_completed(engine: Engine) -> None:
    """A concurrent build that fails leaves its index invalid, as a rebuild cut off by a crash leaves
    ``<index>_ccnew``: the table works, but the invalid index is written on every change. The next
    run drops it and rebuilds what it was to replace."""
    leave_invalid(engine)
    assert table_indexes(engine, "upkeep_probe")["ix_upkeep_probe_reference_ccnew"] is False

    done = rebuild_indexes(engine, ["upkeep_probe"])
    assert done.dropped == ["ix_upkeep_probe_reference_ccnew"]
    assert table_indexes(engine, "upkeep_probe") == {"upkeep_probe_pkey": True, "ix_upkeep_probe_reference": True}
    assert rebuild_indexes(engine, ["upkeep_probe"]).dropped == []  # a second run finds nothing left


def test_the_payments_tables_are_rebuilt_by_default_and_an_unknown_table_is_refused_before_any_work(
    engine: Engine,
) -> None:
    done = rebuild_indexes(engine)
    assert {r.table for r in done.rebuilt} == set(DEFAULT_TABLES)
    assert {r.index for r in done.rebuilt if r.table == "payments"} == set(table_indexes(engine, "payments"))
    assert all(table_indexes(engine, "payments").values())
    leave_invalid(engine)
    with pytest.raises(UpkeepError, match="no table paymentz, nope in this database"):
        rebuild_indexes(engine, ["payments", "paymentz", "nope"])
    assert "ix_upkeep_probe_reference_ccnew" in table_indexes(engine, "upkeep_probe")  # nothing was done


def test_the_worker_rebuilds_on_its_schedule_monthly_by_default(tmp_path: Path) -> None:
    """The job itself, worked by a real worker and killed mid-rebuild, is in tests/crash."""

    def scheduled(settings: Settings) -> list[str]:
        app = build_job_app(create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none"), settings)
        assert app.tasks[UPKEEP_TASK].queue == UPKEEP_QUEUE
        return [p.cron for p in app.periodic_registry.periodic_tasks.values() if p.task.name == UPKEEP_TASK]

    assert UPKEEP_QUEUE in QUEUES  # the worker takes its jobs
    assert scheduled(Settings(data_dir=tmp_path)) == ["0 4 2 * *"]  # after a month has settled
    assert scheduled(Settings(data_dir=tmp_path, index_upkeep_schedule="30 1 * * 0")) == ["30 1 * * 0"]
    assert scheduled(Settings(data_dir=tmp_path, index_upkeep_schedule="")) == []
    with pytest.raises(ValidationError, match="not a cron schedule"):
        Settings(index_upkeep_schedule="monthly")


def test_a_rebuild_waits_for_an_older_transaction_past_the_lock_timeout_instead_of_failing(engine: Engine) -> None:
    """A backup or a snapshot export holds its snapshot for minutes; a concurrent rebuild must wait
    for it to end. It used to give up after Saldo's lock timeout for statements (5 s)."""
    outcome: list[object] = []
    with engine.connect() as reader:
        reader.execute(text("BEGIN ISOLATION LEVEL REPEATABLE READ"))
        reader.execute(text("SELECT count(*) FROM payments")).scalar_one()
        rebuilding = threading.Thread(target=lambda: outcome.append(_rebuilt_or_error(engine)))
        rebuilding.start()
        rebuilding.join(timeout=_lock_timeout_s() + 2)
        assert rebuilding.is_alive(), outcome  # still waiting for the reader, past the lock timeout
        reader.execute(text("COMMIT"))
    rebuilding.join(timeout=60)
    assert not rebuilding.is_alive()
    [done] = outcome
    assert isinstance(done, Upkeep), done
    assert {r.table for r in done.rebuilt} == set(DEFAULT_TABLES)
    assert all(table_indexes(engine, "payments").values())


def _rebuilt_or_error(engine: Engine) -> Upkeep | Exception:
    try:
        return rebuild_indexes(engine)
    except Exception as exc:  # handed to the test to show
        return exc


def _lock_timeout_s() -> float:
    assert LOCK_TIMEOUT.endswith("s")
    return float(LOCK_TIMEOUT.removesuffix("s"))


def test_the_rebuilds_own_settings_do_not_reach_the_pool(engine: Engine) -> None:
    """The rebuild waits 30 minutes for a lock and checks for a lost client; whoever takes a pooled
    connection after it still gets Saldo's lock timeout."""
    rebuild_indexes(engine)
    pooled = [engine.connect() for _ in range(engine.pool.size())]  # type: ignore[attr-defined]
    try:
        for connection in pooled:
            assert connection.execute(text("SHOW lock_timeout")).scalar_one() == LOCK_TIMEOUT
            assert connection.execute(text("SHOW client_connection_check_interval")).scalar_one() == "0"
    finally:
        for connection in pooled:
            connection.close()
