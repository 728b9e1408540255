"""The crash-test suite: real Saldo processes (the ``saldo`` command, as an operator starts it) on a
database of the test's own, halted at a named point (``SALDO_HALT_AT``, saldo.kit.crash_points),
killed there with SIGKILL, and followed by a fresh process that must reach the same end state
without anyone's help. The process sleeps at the point until it is killed: nothing of it runs
after the point, exactly as if it had died there."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from saldo.db.engine import create_session_factory
from saldo.settings import Settings
from tests.conftest import live_database
from tests.credentials.conftest import peer, wallet_pki  # noqa: F401 — the wallet's issuers and the independent peer, for the crash tests

STALLED_AFTER_S = 2.0  # a dead worker's job is handed out again this soon (workers beat every third of a second)
WAIT_S = 90.0  # what any one step may take on a busy two-core machine before the test gives up


@dataclass
class Lab:
    """A database and data folder of the test's own, and the processes started on them."""

    settings: Settings
    engine: Engine
    folder: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def sessions(self) -> sessionmaker[Session]:
        return create_session_factory(self.engine)

    def environment(self, halt_at: str | None, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
        env.update(
            SALDO_DATABASE_URL=str(self.settings.database_url),
            SALDO_DATA_DIR=str(self.settings.data_dir),
            SALDO_OUTBOX_DIR=str(self.settings.outbox),
            SALDO_RUN_WORKERS="1",
            SALDO_WEBHOOK_LOCAL_RECEIVERS="true",  # the tests' webhook receivers listen on this machine
            SALDO_WORKER_STALLED_AFTER_S=str(STALLED_AFTER_S),
            # nothing on a schedule: a test's worker works only what the test queued
            SALDO_ANALYSIS_SCHEDULE="",
            SALDO_INDEX_UPKEEP_SCHEDULE="",
            SALDO_PAYMENT_ARCHIVE_SCHEDULE="",
            **extra,
        )
        if halt_at:
            env["SALDO_HALT_AT"] = halt_at
        return env

    def start(self, *args: str, halt_at: str | None = None, **extra: str) -> subprocess.Popen[bytes]:
        """``saldo <args>`` in a process (and process group) of its own; its output goes to a log file."""
        log = (self.folder / f"process-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "saldo.cli.main", *args],
            env=self.environment(halt_at, extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def output(self, process: subprocess.Popen[bytes]) -> str:
        return (self.folder / f"process-{self.processes.index(process)}.log").read_text(errors="replace")

    def kill_at(self, process: subprocess.Popen[bytes], point: str) -> None:
        """Wait until ``process`` halts at ``point``, then kill it (and any child) with SIGKILL."""
        self.wait_halted(process, point)
        self.kill(process)

    def wait_halted(self, process: subprocess.Popen[bytes], point: str) -> None:
        """Wait until ``process`` has halted at ``point``."""
        marker = self.settings.halted_dir / point
        deadline = time.monotonic() + WAIT_S
        while not marker.exists():
            if process.poll() is not None:
                pytest.fail(f"the process ended ({process.returncode}) before {point}:\n{self.output(process)}")
            if time.monotonic() > deadline:
                pytest.fail(f"the process did not reach {point} in {WAIT_S} s:\n{self.output(process)}")
            time.sleep(0.05)
        marker.unlink()

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL to the process and any child of it: no handler, no clean-up, nothing flushed."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL

    def workers_alive(self) -> int:
        """Workers registered in the job queue (a worker registers once its start-up checks are done)."""
        with self.engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one())

    def finish(self, process: subprocess.Popen[bytes], *, timeout: float = WAIT_S) -> str:
        """Wait for a process that ends by itself; returns its output (fails on a non-zero exit)."""
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the process did not end in {timeout} s:\n{self.output(process)}")
        output = self.output(process)
        assert code == 0, output
        return output

    def stop_all(self) -> None:
        stop_processes(self.processes)


def stop_processes(processes: Iterable[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each process group still running, SIGKILL to any that has not ended in 20 s."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Callable[[], bool], what: str, *, timeout: float = WAIT_S) -> float:
    """Poll ``check`` until it holds; returns the seconds it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - started


@pytest.fixture
def lab(tmp_path: Path, worker_id: str) -> Iterator[Lab]:
    settings, engine = live_database(f"saldo_crash_{worker_id}", tmp_path / "data")
    settings = settings.model_copy(update={"outbox_dir": tmp_path / "outbox", "run_workers": 1})
    lab = Lab(settings, engine, tmp_path)
    try:
        yield lab
    finally:
        lab.stop_all()
        engine.dispose()
