"""Payment runs as durable jobs: queued in the transaction that plans them, worked by the
procrastinate worker against a database where everything is really committed, files written by
several processes at once, and a run that stopped half-way resumed without duplicates."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from saldo.db.engine import create_session_factory
from saldo.db.queue import job_states
from saldo.mediation.jobs import JobResources, execute_run
from saldo.mediation.models import RunStatus
from saldo.mediation.repository import RunRepository
from saldo.mediation.schemas import BankMessageOut
from saldo.mediation.service.answers import read_bank_message
from saldo.mediation.service.files import Initiator, publish_file
from saldo.mediation.service.runs import RUN_TASK, run_lock
from saldo.synthetic.bank import answer_payment_file
from saldo.worker import build_job_app, run_worker
from tests.conftest import live_database
from tests.mediation.conftest import Live


@pytest.fixture
def live(tmp_path: Path, worker_id: str) -> Live:
    settings, engine = live_database(f"saldo_runs_{worker_id}", tmp_path / "data")
    settings = settings.model_copy(update={"outbox_dir": tmp_path / "outbox"})
    yield Live(settings, engine, create_session_factory(engine))
    engine.dispose()


def test_a_queued_run_is_worked_by_the_worker_with_files_written_in_parallel(live: Live) -> None:
    live.settings = live.settings.model_copy(update={"run_workers": 2})
    run = live.planned_run(7, max_file=3)
    with live.sessions() as session:
        assert job_states(session, run_lock(run.id))[0][1] == "todo"

    run_worker(live.settings, live.engine, wait=False)

    with live.sessions() as session:
        repository = RunRepository(session)
        done = repository.get_run(run.id)
        assert done is not None
        assert done.status is RunStatus.SENT
        files = repository.files_of(run.id)
        assert [f.transactions for f in files] == [3, 3, 1]
        for f in files:
            assert hashlib.sha256((live.settings.outbox / f.path).read_bytes()).digest() == f.sha256
        assert job_states(session, run_lock(run.id))[0][1] == "succeeded"
        assert session.execute(text("SELECT status, count(*) FROM payments GROUP BY status")).all() == [("sent", 7)]

        # a file lost after its commit (before the rename) is written again, byte for byte
        lost = live.settings.outbox / files[1].path
        lost.unlink()
        initiator = Initiator(live.settings.authority_name, live.settings.authority_organisation_number)
        publish_file(session, outbox=live.settings.outbox, file=files[1], initiator=initiator, batch_booking=True)
        assert hashlib.sha256(lost.read_bytes()).digest() == files[1].sha256


def test_a_run_that_stopped_part_way_resumes_without_duplicates(live: Live, tmp_path: Path) -> None:
    live.settings = live.settings.model_copy(update={"run_workers": 1})
    run = live.planned_run(4, max_file=2)
    resources = JobResources(live.settings, live.sessions, database_url="unused")
    live.settings.outbox.write_text("a file where the outbox should be")  # the outbox cannot be written
    with pytest.raises(OSError):  # noqa: PT011 — which OSError depends on the platform
        execute_run(resources, run.id)
    with live.sessions() as session:
        stopped = RunRepository(session).get_run(run.id)
        assert stopped is not None
        assert stopped.status is RunStatus.FAILED
        assert "Error" in (stopped.error or "")
        assert RunRepository(session).files_of(run.id) == []
        assert stopped.files_planned == 2
        assert session.execute(text("SELECT count(*) FROM payments WHERE status = 'verified'")).scalar() == 4

    live.settings.outbox.unlink()
    resumed = execute_run(resources, run.id)

    assert resumed.status is RunStatus.SENT
    with live.sessions() as session:
        assert [f.transactions for f in RunRepository(session).files_of(run.id)] == [2, 2]
        sent = session.execute(
            text("SELECT count(*), count(DISTINCT payment_id) FROM payment_events WHERE to_status = 'sent'")
        )
        assert sent.one() == (4, 4)  # each payment handed over once, the failed attempt notwithstanding


def test_the_same_bank_file_read_twice_at_once_is_applied_once(live: Live, tmp_path: Path) -> None:
    live.settings = live.settings.model_copy(update={"run_workers": 1})
    run = live.planned_run(3, max_file=10)
    execute_run(JobResources(live.settings, live.sessions, database_url="unused"), run.id)
    with live.sessions() as session:
        [f] = RunRepository(session).files_of(run.id)
    answers = answer_payment_file(live.settings.outbox / f.path, tmp_path / "bank", reject_rate=0.0, return_rate=0.0)
    first = live.sessions()
    result_first = read_bank_message(first, answers.notification, filename=None, received_by="staff:a")  # not committed
    second: list[BankMessageOut] = []
    reader = threading.Thread(
        target=lambda: second.append(_read_and_commit(live.sessions, answers.notification)), daemon=True
    )
    reader.start()
    time.sleep(0.5)  # the second reader now waits on the first one's rows
    first.commit()
    first.close()
    reader.join(timeout=30)
    assert result_first.applied == 3
    assert second[0].already_read is True
    with live.sessions() as session:
        settled = session.execute(text("SELECT count(*) FROM payment_events WHERE to_status = 'settled'")).scalar()
        assert settled == 3
        assert session.execute(text("SELECT count(*) FROM bank_messages")).scalar() == 1


def _read_and_commit(sessions: sessionmaker[Session], path: Path) -> BankMessageOut:
    with sessions() as session:
        result = read_bank_message(session, path, filename=None, received_by="staff:b")
        session.commit()
        return result


def test_a_run_whose_worker_died_is_taken_up_by_the_next_worker(live: Live) -> None:
    live.settings = live.settings.model_copy(update={"run_workers": 1})
    run = live.planned_run(2, max_file=10)
    with live.sessions() as session:  # a worker took the job and died: it is doing, with no live worker
        session.execute(text("UPDATE procrastinate_jobs SET status = 'doing' WHERE lock = :l"), {"l": run_lock(run.id)})
        session.commit()

    run_worker(live.settings, live.engine, wait=False)

    with live.sessions() as session:
        done = RunRepository(session).get_run(run.id)
        assert done is not None
        assert done.status is RunStatus.SENT
        assert job_states(session, run_lock(run.id))[0][1] == "succeeded"


def test_every_worker_app_knows_the_run_task(engine: Engine) -> None:
    # the demo, tests and long-lived processes build more than one; each must find the task
    for _ in range(2):
        assert RUN_TASK in build_job_app(engine).tasks
