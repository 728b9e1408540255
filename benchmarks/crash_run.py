"""A peak-day payment run killed three times at random moments, then finished by a fresh worker.

Target (issue: payment runs that survive any crash): the 1.25-million-payment run, its worker killed
with SIGKILL three times at random points, ends with zero payments lost and zero duplicated.

    uv run python -m benchmarks.crash_run [--payments 1250000] [--kills 3] [--seed N]

The payments are inserted once into a template database (as in benchmarks/payment_run.py); the run
is planned and queued on a fresh copy. Then, ``--kills`` times: a ``saldo worker`` process (two
writer processes, as configured by default) is started, left to work for a random time between
its first file and 12 s later (a file takes about 2 s), and killed with SIGKILL together with its
writers. A last worker is started and left alone: it must take the run back and finish it without
anyone's help. Then the invariants are checked against the outbox on disk: every verified payment
of the run in exactly one file, every file's hash as recorded, each payment handed over once."""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from lxml import etree
from sqlalchemy import Engine, text

from benchmarks.common import ROOT, WORK, copy_database, drop_database, report
from benchmarks.payment_run import EXECUTION_DATE, TEMPLATE, build_template
from saldo.db.engine import create_db_engine, create_session_factory, unit_of_work
from saldo.mediation.repository import RunRepository
from saldo.mediation.service.runs import plan_payment_runs
from saldo.settings import Settings

DATABASE = "saldo_bench_crash"
KILL_WINDOW_S = 12.0  # a kill falls at a uniformly random moment this long after the worker's first file
STALLED_AFTER_S = 5  # how soon a dead worker's job is handed out again (60 s in production)
END_TO_END_ID = "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.09}EndToEndId"


def start_worker(settings: Settings, outbox: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    env.update(
        SALDO_DATABASE_URL=settings.database_url or "",
        SALDO_DATA_DIR=str(WORK),
        SALDO_OUTBOX_DIR=str(outbox),
        SALDO_WORKER_STALLED_AFTER_S=str(STALLED_AFTER_S),
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "saldo.cli.main", "worker"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def run_state(engine: Engine, run_id: int) -> tuple[str, int, int | None]:
    """(run status, files recorded, the worker working the run's job, if any)."""
    with engine.connect() as connection:
        status = connection.execute(text("SELECT status FROM payment_runs WHERE id = :r"), {"r": run_id}).scalar()
        files = connection.execute(text("SELECT count(*) FROM payment_files WHERE run_id = :r"), {"r": run_id}).scalar()
        worker = connection.execute(
            text("SELECT worker_id FROM procrastinate_jobs WHERE lock = :l AND status = 'doing'"),
            {"l": f"payment-run-{run_id}"},
        ).scalar()
    return str(status), int(files or 0), int(worker) if worker is not None else None


def check_invariants(settings: Settings, run_id: int, outbox: Path) -> dict[str, int]:
    """Lost, duplicated and mismatched counts, from the database and the files on disk."""
    engine = create_db_engine(settings)
    sessions = create_session_factory(engine)
    with sessions() as session:
        run = RunRepository(session).get_run(run_id)
        assert run is not None
        files = RunRepository(session).files_of(run_id)
        payments = dict(session.execute(text("SELECT id, status FROM payments WHERE run_id = :r"), {"r": run_id}).all())
        verified_left = session.execute(text("SELECT count(*) FROM payments WHERE status = 'verified'")).scalar_one()
        handed_over = Counter(
            dict(
                session.execute(
                    text("SELECT payment_id, count(*) FROM payment_events WHERE to_status = 'sent' GROUP BY payment_id")
                ).all()
            )
        )
    engine.dispose()
    in_files: Counter[int] = Counter()
    hash_mismatches = 0
    for f in files:
        path = outbox / f.path
        if not path.exists() or hashlib.sha256(path.read_bytes()).digest() != f.sha256:
            hash_mismatches += 1
            continue
        for _, element in etree.iterparse(str(path), tag=END_TO_END_ID):
            in_files[int(element.text or "0")] += 1
            element.clear()
    published = {p.relative_to(outbox).as_posix() for p in outbox.rglob("*.xml")}
    return {
        "run_payments": int(run.payments or 0),
        "sent": sum(1 for s in payments.values() if s == "sent"),
        "verified_left": int(verified_left),
        "files": len(files),
        "lost": sum(1 for pid in payments if in_files[pid] == 0) + int(verified_left),
        "duplicated_in_files": sum(n - 1 for n in in_files.values() if n > 1),
        "handed_over_twice": sum(n - 1 for n in handed_over.values() if n > 1),
        "in_files_not_sent": sum(1 for pid in in_files if payments.get(pid) != "sent"),
        "hash_mismatches": hash_mismatches,
        "unrecorded_files_in_outbox": len(published - {f.path for f in files}),
        "partials_left": sum(1 for _ in outbox.rglob("*.partial")),
    }


def one_round(payments: int, kills: int, rng: random.Random) -> dict[str, object]:
    settings = copy_database(TEMPLATE, DATABASE)
    engine = create_db_engine(settings)
    with unit_of_work(create_session_factory(engine)) as session:
        [run] = plan_payment_runs(
            session, execution_date=EXECUTION_DATE, requested_by="staff:bench", max_file_transactions=50_000
        )
    killed_at: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(dir=WORK) as folder:
        outbox, log = Path(folder) / "outbox", Path(folder) / "workers.log"
        started = time.perf_counter()
        dead: set[int | None] = {None}
        for _ in range(kills):
            worker = start_worker(settings, outbox, log)
            while (working := run_state(engine, run.id)[2]) in dead:  # until this worker has taken the run
                time.sleep(0.2)
            dead.add(working)
            _, files_before, _ = run_state(engine, run.id)
            # while it writes files: after its first file, at a random moment within the window
            while run_state(engine, run.id)[1] == files_before and run_state(engine, run.id)[0] != "sent":
                time.sleep(0.1)
            deadline = time.monotonic() + rng.uniform(0.0, KILL_WINDOW_S)
            while time.monotonic() < deadline and run_state(engine, run.id)[0] != "sent":
                time.sleep(0.1)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
            status, files_after, _ = run_state(engine, run.id)
            killed_at.append({"files_when_taken": files_before, "files_at_kill": files_after, "status": status})
            print("killed:", killed_at[-1], flush=True)
        last = start_worker(settings, outbox, log)
        while run_state(engine, run.id)[0] != "sent":
            if last.poll() is not None:
                raise SystemExit(f"the last worker ended: {log.read_text()[-4000:]}")
            time.sleep(0.5)
        elapsed = time.perf_counter() - started
        os.killpg(last.pid, signal.SIGTERM)
        last.wait(timeout=60)
        invariants = check_invariants(settings, run.id, outbox)
    engine.dispose()
    print("invariants:", invariants, flush=True)
    return {"kills": killed_at, "seconds_to_sent": round(elapsed, 1), **invariants}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--payments", type=int, default=1_250_000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    build_template(args.payments)
    rounds = [one_round(args.payments, args.kills, rng) for _ in range(args.rounds)]
    drop_database(DATABASE)
    drop_database(TEMPLATE)
    report("crash_run", {"payments": args.payments, "kills": args.kills, "seed": args.seed, "rounds": rounds})
    bad = [r for r in rounds if r["lost"] or r["duplicated_in_files"] or r["handed_over_twice"] or r["hash_mismatches"]]
    if bad:
        raise SystemExit(f"{len(bad)} round(s) lost or duplicated payments")


if __name__ == "__main__":
    main()
