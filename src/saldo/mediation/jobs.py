"""Background work of payment mediation. A payment run is a durable job in the procrastinate queue:
a worker takes it, and a job that fails on a lost connection or a full disk is retried; the run
itself resumes where it stopped (it is cut into files once, a file takes its payments only in the
transaction that writes it, written files are skipped). Jobs own their transactions."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import procrastinate
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from saldo.db.engine import create_db_engine, create_session_factory, unit_of_work
from saldo.kit.crash_points import arm, reach
from saldo.mediation.models import PaymentFile, PaymentRun
from saldo.mediation.repository import RunRepository
from saldo.mediation.service.files import (
    Initiator,
    WrittenFile,
    publish_file,
    remove_leftovers,
    run_bank_bic,
    write_run_file,
)
from saldo.mediation.service.runs import RUN_QUEUE, RUN_TASK, fail_run, finish_run, schedule_run
from saldo.payments.jobs import run_account_check
from saldo.settings import Settings


@dataclass(frozen=True, slots=True)
class JobResources:
    """What a worker hands its jobs: the settings and a way to open sessions."""

    settings: Settings
    sessions: sessionmaker[Session]
    database_url: str


def _initiator(settings: Settings) -> Initiator:
    return Initiator(settings.authority_name, settings.authority_organisation_number)


def _write_and_publish(sessions: sessionmaker[Session], settings: Settings, run_id: int, sequence: int) -> WrittenFile:
    outbox = settings.outbox
    with unit_of_work(sessions) as session:
        written = write_run_file(
            session,
            outbox=outbox,
            run_id=run_id,
            sequence=sequence,
            initiator=_initiator(settings),
            batch_booking=settings.batch_booking,
        )
        reach("run.file.written")  # the file is on disk under its partial name; nothing committed
    reach("run.file.recorded")  # committed: its payments are sent, the file is not yet in the outbox
    if written.file is not None:
        _publish(sessions, settings, written.file)
        reach("run.file.published")
    return written


def _publish(sessions: sessionmaker[Session], settings: Settings, file: PaymentFile) -> None:
    with sessions() as session:
        publish_file(
            session,
            outbox=settings.outbox,
            file=file,
            initiator=_initiator(settings),
            batch_booking=settings.batch_booking,
        )


def _write_in_child(settings: Settings, database_url: str, run_id: int, sequence: int) -> int:
    """One file written by a worker process with its own connection."""
    arm(settings.halt_at, settings.halted_dir)
    engine = create_db_engine(settings, url=database_url)
    try:
        return _write_and_publish(create_session_factory(engine), settings, run_id, sequence).transactions
    finally:
        engine.dispose()


def execute_run(
    resources: JobResources, run_id: int, *, progress: Callable[[int, int], None] | None = None
) -> PaymentRun:
    """Check the accounts of the payments waiting for the run, cut it into files, write its missing
    files (``settings.run_workers`` at a time), and mark it sent. Any failure is recorded on the run
    and re-raised, so the job is retried."""
    sessions, settings = resources.sessions, resources.settings
    try:
        with sessions() as session:
            repository = RunRepository(session)
            planned = repository.get_run(run_id)
            payer_ids = (
                [p.id for p in repository.payers_of_account(planned.debtor_account_scheme, planned.debtor_account)]
                if planned is not None and planned.payments is None
                else []
            )
            on = planned.execution_date if planned is not None else None
        # Every payment's account is checked before it can be paid: what registered since the
        # last check is checked now, for the run's payers, as of the execution date.
        for payer_id in payer_ids:
            run_account_check(sessions, payer_id=payer_id, on=on, workers=1)
        with unit_of_work(sessions) as session:
            run = schedule_run(session, run_id)
            done = {f.sequence for f in RunRepository(session).files_of(run_id)}
        reach("run.planned")
        todo = [s for s in range(1, (run.files_planned or 0) + 1) if s not in done]
        if progress:
            progress(len(done), run.files_planned or 0)
        if settings.run_workers > 1 and len(todo) > 1:
            context = multiprocessing.get_context("spawn")  # no forked database connections
            with ProcessPoolExecutor(max_workers=settings.run_workers, mp_context=context) as pool:
                futures = [pool.submit(_write_in_child, settings, resources.database_url, run_id, s) for s in todo]
                for n, future in enumerate(futures, start=1):
                    future.result()
                    if progress:
                        progress(len(done) + n, run.files_planned or 0)
        else:
            for n, sequence in enumerate(todo, start=1):
                _write_and_publish(sessions, settings, run_id, sequence)
                if progress:
                    progress(len(done) + n, run.files_planned or 0)
        # Every recorded file is published again, this attempt's and an earlier one's alike: the
        # attempt that recorded a file may have died before its rename (publishing is idempotent
        # and checks the recorded hash). Only then is the run sent.
        with sessions() as session:
            files = RunRepository(session).files_of(run_id)
        for file in files:
            _publish(sessions, settings, file)
        with sessions() as session:
            bic = run_bank_bic(session, run)
        remove_leftovers(settings.outbox, run, bic)
        reach("run.published")
        with unit_of_work(sessions) as session:
            sent = finish_run(session, run_id)
    except Exception as exc:
        with unit_of_work(sessions) as session:
            fail_run(session, run_id, f"{type(exc).__name__}: {exc}")
        raise
    reach("run.sent")  # sent in the database; the queue does not yet know the job succeeded
    return sent


def execute_payment_run(context: procrastinate.JobContext, run_id: int) -> None:
    """The queued form of ``execute_run``."""
    resources = context.additional_context["resources"]
    assert isinstance(resources, JobResources)
    execute_run(resources, run_id)


def register_tasks(app: procrastinate.App) -> None:
    """Add this domain's jobs to a worker's app. (A procrastinate blueprint renames its tasks when
    it is added to an app, so it could serve one app per process only; this serves any number.)"""
    app.task(
        name=RUN_TASK,
        queue=RUN_QUEUE,
        pass_context=True,
        # a lost connection or a full disk may pass; a RunError is a fault a person must look at
        retry=procrastinate.RetryStrategy(
            max_attempts=5, exponential_wait=10, retry_exceptions={OSError, OperationalError}
        ),
    )(execute_payment_run)
