"""The analysis as a background job: queued (or put on the worker's schedule), worked by the real
procrastinate worker against a database where everything is really committed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine, select, text

from saldo.analysis.models import AnalysisRun, RunStatus, Snapshot
from saldo.analysis.service import run as run_module
from saldo.cli.country import load_country
from saldo.db.engine import create_session_factory
from saldo.db.queue import job_states
from saldo.oversight.jobs import ANALYSIS_ACTOR, ANALYSIS_LOCK, ANALYSIS_TASK, queue_analysis
from saldo.settings import Settings
from saldo.synthetic.country import generate_country
from saldo.worker import build_job_app, run_worker
from tests.conftest import live_database

pytestmark = pytest.mark.slow


def test_a_queued_analysis_is_worked_by_the_worker(tmp_path: Path, worker_id: str) -> None:
    settings, engine = live_database(f"saldo_analysis_job_{worker_id}", tmp_path / "data")
    # Every minute is always a scheduled time just past: a worker that stops when the queue is empty
    # works the queued job alone, and leaves the schedule to a waiting worker.
    settings = settings.model_copy(update={"analysis_schedule": "* * * * *", "index_upkeep_schedule": "* * * * *"})
    sessions = create_session_factory(engine)
    try:
        generate_country(tmp_path / "country", persons=1_500, seed=5, as_of=dt.date(2026, 11, 22))
        load_country(sessions, settings, tmp_path / "country", loaded_by="staff:test")
        with sessions() as session:
            first = queue_analysis(session)
            assert queue_analysis(session) == first  # one waiting analysis is enough
            session.commit()
        run_worker(settings, engine, wait=False)
        with sessions() as session:
            assert job_states(session, ANALYSIS_LOCK) == [(first, "succeeded", 1)]
            run = session.scalars(select(AnalysisRun)).one()
            assert run.status is RunStatus.FINISHED
            assert run.started_by == ANALYSIS_ACTOR
            assert run.findings > 0
            snapshot = session.get(Snapshot, run.snapshot_id)
            assert snapshot is not None
            assert snapshot.created_by == ANALYSIS_ACTOR
    finally:
        engine.dispose()


def test_a_failed_scheduled_run_is_recorded_and_fails_its_job(
    tmp_path: Path, worker_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, engine = live_database(f"saldo_analysis_job_fail_{worker_id}", tmp_path / "data")
    settings = settings.model_copy(update={"analysis_schedule": "* * * * *"})

    def engine_gives_out(*_args: object, **_kwargs: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(run_module, "execute_rules", engine_gives_out)
    sessions = create_session_factory(engine)
    try:
        generate_country(tmp_path / "country", persons=300, seed=6, as_of=dt.date(2026, 11, 22))
        load_country(sessions, settings, tmp_path / "country", loaded_by="staff:test")
        with sessions() as session:
            queue_analysis(session)
            session.commit()
        run_worker(settings, engine, wait=False)
        with sessions() as session:
            [(_, state, _)] = job_states(session, ANALYSIS_LOCK)
            assert state == "failed"
            run = session.scalars(select(AnalysisRun)).one()
            assert run.status is RunStatus.FAILED
            assert run.error == "OSError: No space left on device"
            assert session.scalar(text("SELECT count(*) FROM findings")) == 0
    finally:
        engine.dispose()


def test_the_worker_runs_the_analysis_on_its_schedule(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, analysis_schedule="15 3 * * 1-5")
    engine_url = "postgresql+psycopg://nobody@127.0.0.1:9/none"  # the app is only built, not connected
    app = build_job_app(create_engine(engine_url), settings)
    assert ANALYSIS_TASK in app.tasks
    [periodic] = [p for p in app.periodic_registry.periodic_tasks.values() if p.task.name == ANALYSIS_TASK]
    assert periodic.cron == "15 3 * * 1-5"
    unscheduled = build_job_app(create_engine(engine_url), settings.model_copy(update={"analysis_schedule": ""}))
    assert not [p for p in unscheduled.periodic_registry.periodic_tasks.values() if p.task.name == ANALYSIS_TASK]
    assert not build_job_app(create_engine(engine_url), settings, scheduled=False).periodic_registry.periodic_tasks


def test_a_schedule_that_is_not_cron_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a cron schedule"):
        Settings(analysis_schedule="every night")
