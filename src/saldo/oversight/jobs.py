"""The analysis as a scheduled background job: every night (``SALDO_ANALYSIS_SCHEDULE``, cron) the
worker takes a new snapshot and runs the rule catalogue on it, selecting with the precision the audit
has measured from payers' outcomes — the same steps as `saldo analysis snapshot` and `saldo analysis
run`. It lives here, beside the precision it needs, because the analysis layer may not read the
audit's outcomes. `saldo analysis queue` asks for one now. One lock keeps two runs from overlapping."""

from __future__ import annotations

import logging

import procrastinate
from sqlalchemy.orm import Session

from saldo.analysis.service.run import run_analysis
from saldo.analysis.service.snapshot import export_snapshot
from saldo.db.engine import unit_of_work
from saldo.db.queue import defer_job
from saldo.mediation.jobs import JobResources
from saldo.oversight.service.precision import selection_precision

ANALYSIS_TASK = "scheduled_analysis"
ANALYSIS_QUEUE = "analysis"
ANALYSIS_LOCK = "analysis"
ANALYSIS_ACTOR = "system:scheduled-analysis"


def queue_analysis(session: Session) -> int:
    """Ask the worker for a snapshot and an analysis run now (in the caller's transaction); the job id.
    An analysis already waiting is not queued twice."""
    return defer_job(session, task=ANALYSIS_TASK, queue=ANALYSIS_QUEUE, args={}, lock=ANALYSIS_LOCK)


def scheduled_analysis_job(context: procrastinate.JobContext, timestamp: int | None = None) -> int:
    """A snapshot (committed on its own), then the rules on it; returns the analysis run's id. A run
    that fails is recorded as failed with its error, and the job fails with it so the queue shows it."""
    resources = context.additional_context["resources"]
    assert isinstance(resources, JobResources)
    settings = resources.settings
    log = logging.getLogger(__name__)
    with unit_of_work(resources.sessions) as session:
        snapshot = export_snapshot(session, settings, created_by=ANALYSIS_ACTOR)
        snapshot_id = snapshot.id
    with unit_of_work(resources.sessions) as session:
        run = run_analysis(
            session,
            settings,
            started_by=ANALYSIS_ACTOR,
            snapshot_id=snapshot_id,
            precision=selection_precision(session, prior_weight=settings.precision_prior_weight),
            progress=log.info,
        )
        run_id, error, findings, selected = run.id, run.error, run.findings, run.selected
    if error is not None:
        raise RuntimeError(f"analysis run {run_id} failed: {error}")
    log.info("analysis run %d on snapshot %d: %d findings, %d selected", run_id, snapshot_id, findings, selected)
    return run_id


def register_tasks(app: procrastinate.App, schedule: str | None = None) -> None:
    """The analysis task; with ``schedule`` (cron), also run by the worker on that schedule."""
    task = app.task(name=ANALYSIS_TASK, queue=ANALYSIS_QUEUE, lock=ANALYSIS_LOCK, pass_context=True)(
        scheduled_analysis_job
    )
    if schedule:
        app.periodic(cron=schedule, periodic_id=ANALYSIS_TASK)(task)
