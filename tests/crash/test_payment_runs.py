"""A payment run survives a worker killed at any step boundary: plan, write, record, publish, mark
sent. A worker is started on a queued run, halted at the point and killed with SIGKILL; a new worker
(started as an operator would, waiting for work) takes the run back by itself and finishes it.
Then every payment of the run is in exactly one file in the outbox, the database's files and hashes
are the outbox's, and no payment was handed over twice."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import text

from saldo.db.queue import job_states
from saldo.mediation.models import RunStatus
from saldo.mediation.repository import RunRepository
from saldo.mediation.service.runs import run_lock
from saldo.synthetic.bank import answer_payment_file
from tests.crash.conftest import Lab, wait_until
from tests.mediation.conftest import Live

PAYMENTS, PER_FILE = 7, 3  # three files: 3, 3, 1
PAIN001 = "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.09}"


def queue_run(lab: Lab) -> int:
    """Committed verified payments and today's run for them, queued for a worker."""
    return Live(lab.settings, lab.engine, lab.sessions).planned_run(PAYMENTS, max_file=PER_FILE).id


def run_status(lab: Lab, run_id: int) -> RunStatus:
    with lab.sessions() as session:
        run = RunRepository(session).get_run(run_id)
        assert run is not None
        return run.status


def assert_outbox_equals_database(lab: Lab, run_id: int) -> None:
    """Every payment of the run in exactly one published file; files and hashes as recorded."""
    outbox = lab.settings.outbox
    with lab.sessions() as session:
        files = RunRepository(session).files_of(run_id)
        sent = dict(session.execute(text("SELECT id, status FROM payments WHERE run_id = :run"), {"run": run_id}).all())
        handed_over = session.execute(
            text("SELECT payment_id, count(*) FROM payment_events WHERE to_status = 'sent' GROUP BY payment_id")
        ).all()
    assert len(sent) == PAYMENTS
    assert set(sent.values()) == {"sent"}
    assert dict(handed_over) == dict.fromkeys(sent, 1)  # each handed over once
    assert [f.sequence for f in files] == [1, 2, 3]
    in_files: Counter[int] = Counter()
    for f in files:
        path = outbox / f.path
        assert hashlib.sha256(path.read_bytes()).digest() == f.sha256, f.path
        ids = etree.parse(str(path)).findall(f".//{PAIN001}EndToEndId")
        assert len(ids) == f.transactions
        in_files.update(int(e.text or "") for e in ids)
        assert path.with_suffix(".manifest.json").exists()
    assert in_files == Counter(dict.fromkeys(sent, 1))  # every payment in exactly one file
    published = sorted(p.relative_to(outbox).as_posix() for p in outbox.rglob("*.xml"))
    assert published == sorted(f.path for f in files)
    assert [p.name for p in outbox.rglob("*.partial")] == []  # nothing left half-written


@pytest.mark.parametrize(
    "point",
    [
        "run.planned",  # cut into files; nothing written
        "run.file.written",  # the first file on disk, its transaction not committed
        "run.file.recorded",  # the first file committed (its payments sent), not yet in the outbox
        "run.file.published",  # the first file in the outbox
        "run.published",  # every file in the outbox, the run not yet marked sent
        "run.sent",  # marked sent, the job not yet marked done
    ],
)
def test_a_worker_killed_mid_run_is_replaced_and_the_run_finishes_whole(lab: Lab, point: str) -> None:
    run_id = queue_run(lab)
    doomed = lab.start("worker", halt_at=point)
    lab.wait_halted(doomed, point)
    # A second worker is already running when the first dies, as in production: it takes the run
    # back by itself (its start-up saw a live worker), and nobody resumes the run by hand.
    lab.start("worker")
    wait_until(lambda: lab.workers_alive() == 2, "the second worker starting")
    lab.kill(doomed)
    wait_until(lambda: run_status(lab, run_id) is RunStatus.SENT, "the run finishing")
    with lab.sessions() as session:
        wait_until(lambda: job_states(session, run_lock(run_id))[0][1] == "succeeded", "the job closing")
    assert_outbox_equals_database(lab, run_id)


def test_resuming_by_hand_after_a_kill_is_safe_however_often(lab: Lab) -> None:
    """The documented remedy (``saldo runs resume``), run twice while the dead worker's job is
    still marked running, neither queues two jobs nor stops any worker from starting."""
    run_id = queue_run(lab)
    doomed = lab.start("worker", halt_at="run.file.recorded")
    lab.kill_at(doomed, "run.file.recorded")
    for _ in range(2):
        lab.finish(lab.start("runs", "resume", str(run_id)))
    with lab.sessions() as session:
        states = Counter(state for _, state, _ in job_states(session, run_lock(run_id)))
    assert states == Counter({"doing": 1, "todo": 1})

    worker = lab.start("worker")
    wait_until(lambda: run_status(lab, run_id) is RunStatus.SENT, "the run finishing")
    assert worker.poll() is None, lab.output(worker)  # the worker started and keeps working
    assert_outbox_equals_database(lab, run_id)
    with lab.sessions() as session:
        states = Counter(state for _, state, _ in job_states(session, run_lock(run_id)))
    assert states == Counter({"succeeded": 1, "failed": 1})  # the dead worker's job closed, not retried twice


def test_a_killed_reader_of_bank_answers_applies_the_file_whole_when_read_again(lab: Lab, tmp_path: Path) -> None:
    run_id = queue_run(lab)
    lab.finish(lab.start("worker", "--burst"))
    with lab.sessions() as session:
        files = RunRepository(session).files_of(run_id)
    answers = answer_payment_file(
        lab.settings.outbox / files[0].path, tmp_path / "bank", reject_rate=0.0, return_rate=0.0
    )
    for point in ("answers.staged", "answers.applied"):
        reader = lab.start("runs", "read-bank-file", str(answers.notification), halt_at=point)
        lab.kill_at(reader, point)
        with lab.sessions() as session:
            settled = session.execute(text("SELECT count(*) FROM payments WHERE status = 'settled'")).scalar()
            messages = session.execute(text("SELECT count(*) FROM bank_messages")).scalar()
        assert (settled, messages) == (0, 0)  # nothing of a killed read is kept
    output = lab.finish(lab.start("runs", "read-bank-file", str(answers.notification)))
    assert f"{files[0].transactions} payments moved" in output
    with lab.sessions() as session:
        settled = session.execute(text("SELECT count(*) FROM payments WHERE status = 'settled'")).scalar()
    assert settled == files[0].transactions
