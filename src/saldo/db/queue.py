"""Durable background jobs, enqueued inside the caller's transaction.

The queue is procrastinate's (its schema is installed by a migration). A job is deferred through
procrastinate's public API on the caller's own connection (``configure_task(..., connection=)``), so
it commits or rolls back with the work that asked for it and a worker sees it only once that work is
committed. The worker side lives in ``saldo.worker``."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.db.engine import driver_connection

if TYPE_CHECKING:
    from procrastinate import App

_WAITING = text("SELECT id FROM procrastinate_jobs WHERE queueing_lock = :queueing_lock AND status = 'todo' LIMIT 1")


@cache
def _deferring_app() -> App:
    """An application that only defers, on connections it is given (it never opens a pool)."""
    from procrastinate import App, SyncPsycopgConnector  # noqa: PLC0415 — only where a job is deferred

    return App(connector=SyncPsycopgConnector())


def defer_job(session: Session, *, task: str, queue: str, args: dict[str, object], lock: str) -> int:
    """Enqueue ``task`` with ``args`` unless the same job (same lock) is already waiting; returns
    the job id. ``lock`` also keeps two jobs with it from running at the same time."""
    params = {"queueing_lock": lock}
    waiting = session.execute(_WAITING, params).scalar()
    if waiting is not None:
        return int(waiting)
    deferrer = _deferring_app().configure_task(
        name=task, queue=queue, lock=lock, queueing_lock=lock, connection=driver_connection(session)
    )
    return int(deferrer.defer(**args))  # type: ignore[arg-type]


def job_states(session: Session, lock: str) -> list[tuple[int, str, int]]:
    """(job id, status, attempts) of every job with this lock, newest first."""
    rows = session.execute(
        text("SELECT id, status, attempts FROM procrastinate_jobs WHERE lock = :lock ORDER BY id DESC"), {"lock": lock}
    )
    return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]
