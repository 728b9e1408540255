"""Durable background jobs, enqueued inside the caller's transaction.

The queue is procrastinate's (its schema is installed by a migration). A job is inserted through
procrastinate's own SQL function on the caller's connection, so it commits or rolls back with the
work that asked for it and a worker sees it only once that work is committed. The worker side
lives in ``saldo.worker``."""

from __future__ import annotations

import orjson
from sqlalchemy import text
from sqlalchemy.orm import Session

_WAITING = text("SELECT id FROM procrastinate_jobs WHERE queueing_lock = :queueing_lock AND status = 'todo' LIMIT 1")
_DEFER = text(
    """
    SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[
        ROW(:queue, :task, 0, :lock, :queueing_lock, CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1
    ]))
    """
)


def defer_job(session: Session, *, task: str, queue: str, args: dict[str, object], lock: str) -> int:
    """Enqueue ``task`` with ``args`` unless the same job (same lock) is already waiting; returns
    the job id. ``lock`` also keeps two jobs with it from running at the same time."""
    params = {"queueing_lock": lock}
    waiting = session.execute(_WAITING, params).scalar()
    if waiting is not None:
        return int(waiting)
    job_id = session.execute(
        _DEFER,
        {"queue": queue, "task": task, "lock": lock, "queueing_lock": lock, "args": orjson.dumps(args).decode()},
    ).scalar_one()
    return int(job_id)


def job_states(session: Session, lock: str) -> list[tuple[int, str, int]]:
    """(job id, status, attempts) of every job with this lock, newest first."""
    rows = session.execute(
        text("SELECT id, status, attempts FROM procrastinate_jobs WHERE lock = :lock ORDER BY id DESC"), {"lock": lock}
    )
    return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]
