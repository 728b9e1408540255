"""The background worker: runs the durable jobs the domains queue (payment runs, the daily reminders
of information requests, the nightly analysis) on procrastinate, and delivers payer messages to
webhooks, against the same database as the web app. ``saldo worker`` starts it; the demo runs it
in-process."""

from __future__ import annotations

import asyncio
import logging

import procrastinate
from sqlalchemy import Engine

from saldo.db.engine import create_session_factory
from saldo.inforequests import jobs as request_jobs
from saldo.mediation import jobs as mediation_jobs
from saldo.mediation.jobs import JobResources
from saldo.messages.delivery import Deliverer
from saldo.oversight import jobs as analysis_jobs
from saldo.payments.service.batch import settle_left_behind
from saldo.settings import Settings

QUEUES = ("payment_runs", request_jobs.REMINDER_QUEUE, analysis_jobs.ANALYSIS_QUEUE)
# A worker refreshes its heartbeat every 10 s (procrastinate's default); one silent for a minute
# has died (killed, machine lost), and the jobs it held are handed out again.
STALLED_AFTER_S = 60.0


def conninfo_of(engine: Engine) -> str:
    """The libpq connection string of an engine's database."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_job_app(engine: Engine, settings: Settings | None = None) -> procrastinate.App:
    """The procrastinate app with every domain's tasks, on the engine's database; with ``settings``,
    the scheduled analysis on its schedule."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo_of(engine)))
    mediation_jobs.register_tasks(app)
    request_jobs.register_tasks(app)
    analysis_jobs.register_tasks(app, settings.analysis_schedule if settings is not None else None)
    return app


def run_worker(settings: Settings, engine: Engine, *, wait: bool, concurrency: int = 1) -> None:
    """Work the queues; with ``wait`` false, stop when no job is left (the demo, tests)."""
    resources = JobResources(
        settings=settings,
        sessions=create_session_factory(engine),
        database_url=engine.url.render_as_string(hide_password=False),
    )
    app = build_job_app(engine, settings)
    settle_left_behind(engine)  # parts of a large file whose process ended before settling them
    logging.getLogger("procrastinate").setLevel(logging.WARNING)

    async def work() -> None:
        # Webhook delivery runs beside the jobs; when the jobs stop (SIGTERM, or an empty queue in
        # burst mode) every lane finishes the message it is sending and marks it, then stops.
        stop = asyncio.Event()
        deliverer = Deliverer(conninfo_of(engine), lanes=settings.webhook_lanes)
        delivery = asyncio.create_task(deliverer.run(stop, until_idle=not wait))
        try:
            async with app.open_async():
                await retry_stalled_jobs(app)
                await app.run_worker_async(
                    queues=list(QUEUES),
                    wait=wait,
                    concurrency=concurrency,
                    additional_context={"resources": resources},
                    install_signal_handlers=wait,
                    delete_jobs="never",
                )
        finally:
            if wait:
                stop.set()
            await delivery

    asyncio.run(work())


async def retry_stalled_jobs(app: procrastinate.App) -> int:
    """Queue again the jobs of workers that died while working them; returns how many. A payment
    run resumes where it stopped, so running its job again is safe."""
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_S))
    for job in stalled:
        await app.job_manager.retry_job(job)
    if stalled:
        logging.getLogger(__name__).warning("queued %d job(s) of dead workers again", len(stalled))
    return len(stalled)
