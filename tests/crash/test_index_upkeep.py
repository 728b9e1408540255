"""The monthly index upkeep as a worker job, its worker killed with SIGKILL in the middle of a
concurrent rebuild: the rebuild it left half done (an invalid ``_ccnew`` index) stops with it, and
the job, handed out again, drops what was left and completes the rebuild. Nothing stays invalid."""

from __future__ import annotations

from sqlalchemy import text

from saldo.db.queue import job_states
from saldo.db.upkeep import DEFAULT_TABLES, UPKEEP_LOCK
from tests.crash.conftest import Lab, wait_until
from tests.factories import table_indexes

_REBUILDING = text(
    "SELECT p.phase FROM pg_stat_progress_create_index p JOIN pg_class c ON c.oid = p.relid "
    "WHERE c.relname = 'payments' AND p.command = 'REINDEX CONCURRENTLY'"
)


def _jobs(lab: Lab) -> list[tuple[int, str, int]]:
    with lab.sessions() as session:
        return job_states(session, UPKEEP_LOCK)


def _invalid(lab: Lab) -> list[str]:
    return sorted(name for t in DEFAULT_TABLES for name, valid in table_indexes(lab.engine, t).items() if not valid)


def test_a_worker_killed_mid_rebuild_leaves_nothing_invalid_once_its_job_is_done_again(lab: Lab) -> None:
    output = lab.finish(lab.start("reindex", "--queue"))  # as an operator asks for it now
    job = int(output.split("queued as job ")[1].split(";")[0])
    # A reader that keeps its snapshot open holds the rebuild in its last wait, its new index built
    # but not yet valid: the moment the worker is killed.
    with lab.engine.connect() as reader:
        reader.execute(text("BEGIN ISOLATION LEVEL REPEATABLE READ"))
        reader.execute(text("SELECT count(*) FROM payments")).scalar_one()
        doomed = lab.start("worker")
        phases: list[str] = []

        def waiting_on_the_reader() -> bool:
            with lab.engine.connect() as connection:
                phases[:] = [str(p) for p in connection.execute(_REBUILDING).scalars()]
            return any(phase.startswith("waiting for old snapshots") for phase in phases)

        wait_until(waiting_on_the_reader, "the rebuild of payments waiting on the open reader")
        assert [name for name in _invalid(lab) if name.endswith("_ccnew")], "the new indexes exist, not yet valid"
        lab.kill(doomed)
        # the server sees the worker gone within a second and stops the rebuild it was running
        wait_until(lambda: not waiting_on_the_reader(), "the dead worker's rebuild stopping")
        reader.execute(text("COMMIT"))
    left = _invalid(lab)
    assert left
    assert all(name.endswith("_ccnew") for name in left), left
    assert _jobs(lab) == [(job, "doing", 0)]  # held by the dead worker

    lab.start("worker")  # the dead worker's job is handed out again, and completes the rebuild
    # each look in a transaction of its own: a rebuild waits for every transaction open before it
    wait_until(lambda: _jobs(lab)[0][1] == "succeeded", "the job done again")
    assert [(j, state) for j, state, _ in _jobs(lab)] == [(job, "succeeded")]
    assert _invalid(lab) == []
    indexes = [name for t in DEFAULT_TABLES for name in table_indexes(lab.engine, t)]
    assert indexes
    assert not [name for name in indexes if "_cc" in name]  # nothing of the dead rebuild is left
