"""The background worker: runs the durable jobs the domains queue (payment runs, the daily reminders
of information requests, the nightly analysis, the monthly payment archive and index upkeep) on
procrastinate, and
delivers payer messages to webhooks, against the same database as the web app. ``saldo worker``
starts it; the demo runs it in-process."""

from __future__ import annotations

import asyncio
import logging

import procrastinate
from sqlalchemy import Engine

from saldo.db import upkeep
from saldo.db.engine import create_session_factory
from saldo.eessi import jobs as eessi_jobs
from saldo.inforequests import jobs as request_jobs
from saldo.mediation import jobs as mediation_jobs
from saldo.mediation.jobs import JobResources
from saldo.messages.service import WebhookPolicy
from saldo.messages.service.delivery import Deliverer
from saldo.onceonly import jobs as onceonly_jobs
from saldo.oversight import jobs as analysis_jobs
from saldo.payments import jobs as payments_jobs
from saldo.payments.jobs import settle_parts_continuously
from saldo.settings import Settings

QUEUES = (
    "payment_runs",
    request_jobs.REMINDER_QUEUE,
    analysis_jobs.ANALYSIS_QUEUE,
    eessi_jobs.DELIVER_QUEUE,
    onceonly_jobs.DELIVER_QUEUE,
    upkeep.UPKEEP_QUEUE,
)
# A worker beats six times within the time after which it counts as dead (10 s of 60 by default,
# procrastinate's own interval), so a slow beat or two never hands out a live worker's job.
BEATS_PER_STALL = 6


def conninfo_of(engine: Engine) -> str:
    """The libpq connection string of an engine's database."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_job_app(engine: Engine, settings: Settings | None = None, *, scheduled: bool = True) -> procrastinate.App:
    """The procrastinate app with every domain's tasks, on the engine's database; with ``settings``
    and ``scheduled``, also every job the worker defers on its own schedule (the analysis, index
    upkeep, the payment archive, reminders, and a node's cross-border deliveries)."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo_of(engine)))
    schedules = settings if scheduled else None
    mediation_jobs.register_tasks(app)
    request_jobs.register_tasks(app, scheduled=schedules is not None)
    analysis_jobs.register_tasks(app, schedules.analysis_schedule if schedules is not None else None)
    eessi_jobs.register_tasks(app, enabled=schedules is not None and schedules.eessi_institution is not None)
    onceonly_jobs.register_tasks(app, enabled=schedules is not None and schedules.onceonly_party is not None)
    upkeep.register_tasks(app, engine, schedules.index_upkeep_schedule if schedules is not None else None)
    payments_jobs.register_tasks(
        app, create_session_factory(engine), schedules.payment_archive_schedule if schedules is not None else None
    )
    return app


def run_worker(settings: Settings, engine: Engine, *, wait: bool, concurrency: int = 1) -> None:
    """Work the queues; with ``wait`` false, stop when no job is left (the demo, tests). Only a
    waiting worker defers the scheduled jobs: one that stops when the queues are empty works what was
    queued, even when it starts within the ten minutes after a scheduled time."""
    resources = JobResources(
        settings=settings,
        sessions=create_session_factory(engine),
        database_url=engine.url.render_as_string(hide_password=False),
    )
    app = build_job_app(engine, settings, scheduled=wait)
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    stalled_after = settings.worker_stalled_after_s
    beat = stalled_after / BEATS_PER_STALL

    async def work() -> None:
        # Webhook delivery runs beside the jobs; when the jobs stop (SIGTERM, or an empty queue in
        # burst mode) every lane finishes the message it is sending and marks it, then stops.
        stop = asyncio.Event()
        deliverer = Deliverer(
            conninfo_of(engine), lanes=settings.webhook_lanes, policy=WebhookPolicy.from_settings(settings)
        )
        delivery = asyncio.create_task(deliverer.run(stop, until_idle=not wait))
        # parts of a large file whose process ended before settling them, now and while working
        stop_settling = settle_parts_continuously(engine, every_s=beat)
        try:
            async with app.open_async():
                await retry_stalled_jobs(app, stalled_after)
                watch = asyncio.create_task(watch_stalled_jobs(app, stalled_after, every_s=beat)) if wait else None
                try:
                    await app.run_worker_async(
                        queues=list(QUEUES),
                        wait=wait,
                        concurrency=concurrency,
                        additional_context={"resources": resources},
                        install_signal_handlers=wait,
                        delete_jobs="never",
                        update_heartbeat_interval=beat,
                        stalled_worker_timeout=stalled_after,
                    )
                finally:
                    if watch is not None:
                        watch.cancel()
        finally:
            if wait:
                stop.set()
            await delivery
            await asyncio.to_thread(stop_settling)

    asyncio.run(work())


async def watch_stalled_jobs(app: procrastinate.App, stalled_after: float, *, every_s: float) -> None:
    """While this worker lives, hand out again every ``every_s`` seconds the jobs of workers that
    died: a run a dead worker held is taken back within ``stalled_after + every_s`` seconds, whether
    or not any worker starts meanwhile."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await retry_stalled_jobs(app, stalled_after)
        except Exception:  # the database away for a moment: the next round tries again
            logging.getLogger(__name__).warning("could not look for stalled jobs", exc_info=True)


async def retry_stalled_jobs(app: procrastinate.App, stalled_after: float) -> int:
    """Queue again the jobs of workers silent for ``stalled_after`` seconds; returns how many. A
    payment run resumes where it stopped, so running its job again is safe. When the same job is
    already waiting again (an operator resumed the run meanwhile), the dead worker's job is closed
    as failed instead, so the waiting one runs: never two waiting, never a worker that cannot start."""
    manager = app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after))
    for job in stalled:
        try:
            await manager.retry_job(job)
        except procrastinate.exceptions.UniqueViolation:
            await manager.finish_job(job, procrastinate.jobs.Status.FAILED, delete_job=False)
    if stalled:
        logging.getLogger(__name__).warning("queued %d job(s) of dead workers again", len(stalled))
    return len(stalled)
