"""Background work of the payments domain. Jobs own their transactions: they commit what they do."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import procrastinate
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from saldo.db.engine import unit_of_work
from saldo.db.queue import defer_job
from saldo.db.upkeep import UPKEEP_QUEUE
from saldo.kit.clock import today
from saldo.payers.schemas import PayerPrincipal
from saldo.payments.errors import BatchFormatError
from saldo.payments.models import UploadStatus
from saldo.payments.repository import UploadRepository
from saldo.payments.schemas import BatchAccepted, BatchRejected
from saldo.payments.service.archive import archive_settled
from saldo.payments.service.batch import BatchSource, ingest_batch, settle_left_behind
from saldo.payments.service.policy import RegistrationPolicy
from saldo.payments.service.uploads import FAILED, HEARTBEAT_S
from saldo.payments.service.verify import CheckSummary, check_payment_accounts, plan_account_check

log = logging.getLogger(__name__)

# Half a million payments per transaction: each part commits in seconds, and a check interrupted
# part-way leaves whole parts done (the rerun takes only what is still registered).
CHECK_CHUNK_IDS = 500_000


def run_account_check(
    sessions: sessionmaker[Session],
    *,
    payer_id: int | None = None,
    batch_id: int | None = None,
    on: dt.date | None = None,
    workers: int = 2,
    chunk_ids: int = CHECK_CHUNK_IDS,
) -> CheckSummary:
    """The pre-payment account check in parts of ``chunk_ids`` ids, ``workers`` parts at a time, each
    in its own transaction. Idempotent: running it again checks only what is still to check."""
    with sessions() as session:
        ranges = plan_account_check(session, payer_id=payer_id, batch_id=batch_id, chunk_ids=chunk_ids)

    def check(ids: tuple[int, int]) -> CheckSummary:
        with unit_of_work(sessions) as session:
            return check_payment_accounts(session, payer_id=payer_id, batch_id=batch_id, on=on, ids=ids)

    if workers <= 1 or len(ranges) <= 1:
        return CheckSummary.combine([check(r) for r in ranges])
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="account-check") as pool:
        return CheckSummary.combine(list(pool.map(check, ranges)))


def check_upload(
    sessions: sessionmaker[Session],
    *,
    upload_id: int,
    payer: PayerPrincipal,
    source: BatchSource,
    policy: RegistrationPolicy,
    today: dt.date,
    slots: threading.Semaphore | None = None,
) -> None:
    """Check and register a file sent in the browser whole or not at all, then delete the file.

    It goes through ``ingest_batch``, the API's all-or-nothing check. A heartbeat writes the payments
    checked so far once a second, in short transactions of its own; the final status is written in
    the transaction that registers the payments, so an accepted upload and its payments are
    committed together. With ``slots`` the check waits for a free one, its heartbeat beating
    meanwhile, so a file waiting its turn is not taken for an interrupted one."""
    checked = [0]
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_S):
            try:
                with unit_of_work(sessions) as session:
                    UploadRepository(session).report(upload_id, checked[0], dt.datetime.now(dt.UTC))
            except Exception:  # a missed beat only makes the bar lag
                log.warning("could not report the progress of upload %s", upload_id, exc_info=True)

    def finish(
        session: Session, status: UploadStatus, outcome: BatchAccepted | BatchRejected | None, error: str | None
    ) -> None:
        UploadRepository(session).finish(
            upload_id,
            status=status,
            checked=outcome.records if outcome is not None else checked[0],
            result=outcome.model_dump(mode="json") if outcome is not None else None,
            error=error,
            at=dt.datetime.now(dt.UTC),
        )

    heartbeat = threading.Thread(target=beat, name=f"saldo-upload-{upload_id}", daemon=True)
    heartbeat.start()
    try:
        with slots or contextlib.nullcontext(), sessions() as session:
            try:
                outcome = ingest_batch(
                    session,
                    payer=payer,
                    source=source,
                    policy=policy,
                    today=today,
                    progress=lambda n: checked.__setitem__(0, n),
                )
            except BatchFormatError as exc:
                session.rollback()
                stop.set()
                heartbeat.join()
                finish(session, UploadStatus.REJECTED, None, str(exc))
                session.commit()
                return
            stop.set()
            heartbeat.join()
            if isinstance(outcome, BatchAccepted):
                finish(session, UploadStatus.ACCEPTED, outcome, None)
            else:
                session.rollback()
                finish(session, UploadStatus.REJECTED, outcome, None)
            session.commit()  # an accepted file: its payments and its status together
    except Exception:
        log.exception("checking upload %s failed", upload_id)
        stop.set()
        with unit_of_work(sessions) as session:
            finish(session, UploadStatus.FAILED, None, FAILED)
    finally:
        stop.set()
        heartbeat.join()
        source.path.unlink(missing_ok=True)


# How often a running web process or worker settles the parts of large files that a process
# which ended (killed, machine lost) left prepared: a batch it accepted is visible within this.
SETTLE_EVERY_S = 10.0


def settle_parts_continuously(engine: Engine, *, every_s: float = SETTLE_EVERY_S) -> Callable[[], None]:
    """Settle left-behind parts now (beside the caller: the process starts even while its database
    cannot be reached) and every ``every_s`` seconds after; returns the function that stops it."""
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                settle_left_behind(engine)
            except Exception:  # an unreachable database: try again at the next round
                log.warning("could not settle the prepared parts of large files", exc_info=True)
            if stop.wait(every_s):
                return

    thread = threading.Thread(target=loop, name="saldo-settle-parts", daemon=True)
    thread.start()

    def stop_settling() -> None:
        stop.set()
        thread.join(timeout=10)

    return stop_settling


ARCHIVE_TASK = ARCHIVE_LOCK = "payment_archive"


def queue_archive(session: Session) -> int:
    """Ask the worker for the payment archive now (in the caller's transaction); the job id. One
    already waiting is not queued twice."""
    return defer_job(session, task=ARCHIVE_TASK, queue=UPKEEP_QUEUE, args={}, lock=ARCHIVE_LOCK)


def register_tasks(app: procrastinate.App, sessions: sessionmaker[Session], schedule: str | None = None) -> None:
    """The payment archive's task (decision 0035); with ``schedule`` (cron), also run by the worker on
    that schedule, by default before the monthly index upkeep, which then rebuilds the indexes the
    archive thinned out. One lock keeps two runs from overlapping."""

    def payment_archive(timestamp: int | None = None) -> None:
        for done in archive_settled(sessions, today=today()):
            log.info("archived %d payments due in %s in %.1f s", done.payments, f"{done.month:%Y-%m}", done.seconds)

    task = app.task(name=ARCHIVE_TASK, queue=UPKEEP_QUEUE, lock=ARCHIVE_LOCK)(payment_archive)
    if schedule:
        app.periodic(cron=schedule, periodic_id=ARCHIVE_TASK)(task)
