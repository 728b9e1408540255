"""Reads that may be a moment old, sent to a streaming replica of the database (PostgreSQL's own
replication) when one is set, up and near enough to the primary; else to the primary itself
(docs/scale-out.md). What a read used, and how old its data may be, goes with the answer.

The replica's lag is asked of the replica at most once a second per process: the time since the
last transaction it replayed, or zero when it has replayed all it has received. A replica that
does not answer is left alone for a few seconds before it is asked again, so a replica that is
down costs one failed connection, not one per request.

``Reads`` serves the documented routes (an ORM session in a worker thread); ``AsyncReads`` the fast
paths (a psycopg async pool on the replica, decision 0039). Both decide the same way."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

_LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "  # a primary given as the replica: nothing to wait for
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) END"
)
LAG = text(_LAG_SQL)
ASK_EVERY_S = 1.0  # how often a process asks the replica how far behind it is
DOWN_FOR_S = 5.0  # after a failed connection, the replica is not tried again for this long
COMMIT_WITHIN_S = 1.0  # a person's own change commits within this of its transaction's start


@dataclass(frozen=True)
class ReadFrom:
    """Where a read went: ``replica`` with how far behind it was (seconds), or ``primary``."""

    source: str
    lag_seconds: float = 0.0

    def header(self) -> str:
        return f"{self.source}; lag={self.lag_seconds:.3f}" if self.source == "replica" else self.source


PRIMARY = ReadFrom("primary")


class _LastLag:
    """What the replica last said of its lag, and when it was asked: asked again ``ASK_EVERY_S``
    after an answer, ``DOWN_FOR_S`` after none (down, or unable to say)."""

    def __init__(self, max_lag_seconds: float) -> None:
        self.max_lag = max_lag_seconds
        self.asked_at = float("-inf")
        self.seconds: float | None = None  # None: down, or its lag unknown

    def due(self) -> bool:
        """Whether to ask now; if so, marked as asked, so the other readers meanwhile take the last
        answer."""
        now = time.monotonic()
        if now - self.asked_at < (ASK_EVERY_S if self.seconds is not None else DOWN_FOR_S):
            return False
        self.asked_at = now
        return True

    def answered(self, value: Any) -> float | None:
        self.seconds = float(value) if value is not None else None
        return self.seconds

    def forget(self) -> None:
        """The replica failed a read: not asked again, nor read, for ``DOWN_FOR_S``."""
        self.seconds, self.asked_at = None, time.monotonic()

    def read_from(self) -> ReadFrom:
        """The replica when it is up and at most ``max_lag`` behind, else the primary."""
        lag = self.seconds
        return ReadFrom("replica", lag) if lag is not None and lag <= self.max_lag else PRIMARY


class Reads:
    """Reads sent to the replica when it is fit, to the primary otherwise."""

    def __init__(self, replica: Engine | None, *, max_lag_seconds: float) -> None:
        self.replica = sessionmaker(bind=replica, expire_on_commit=False) if replica is not None else None
        self.engine = replica
        self.max_lag = max_lag_seconds
        self._lock = threading.Lock()
        self._last = _LastLag(max_lag_seconds)

    def lag(self) -> float | None:
        """How far behind the primary the replica is (seconds), asked at most every ``ASK_EVERY_S``;
        ``None`` when there is no replica, it is down, or it cannot say."""
        if self.engine is None:
            return None
        with self._lock:
            if not self._last.due():
                return self._last.seconds
            try:
                with self.engine.connect() as connection:
                    value = connection.execute(LAG).scalar()
            except DBAPIError:
                value = None
            return self._last.answered(value)

    def choose(self) -> ReadFrom:
        """Where the next read goes: the replica when it is up and at most ``max_lag`` behind."""
        self.lag()
        return self._last.read_from()

    def run(self, work: Callable[[Session], T], primary: Session) -> tuple[T, ReadFrom]:
        """``work`` on a session of the replica, or on ``primary`` (the request's own session), and
        where it read. A replica that fails the read (gone since it was asked, or a conflict with
        its replay) is left alone for ``DOWN_FOR_S`` and the read is done on the primary. Nothing is
        committed on the replica."""
        chosen = self.choose()
        if chosen.source == "replica" and self.replica is not None:
            try:
                with self.replica() as session:
                    return work(session), chosen
            except OperationalError:
                with self._lock:
                    self._last.forget()
        return work(primary), PRIMARY


class AsyncReads:
    """The fast paths' reads: sent to the replica's async pool when it is fit, as ``Reads`` decides,
    else to the primary's. The lag is asked on the replica's pool, at most every ``ASK_EVERY_S``; a
    replica that fails is left alone for ``DOWN_FOR_S``, then asked on a connection of its own, and
    once it answers, read through a new pool (the old one may still be waiting out its reconnection
    backoff, and would keep the reads on the primary for many seconds more)."""

    def __init__(self, connect: Callable[[], AsyncConnectionPool], *, max_lag_seconds: float) -> None:
        self._connect = connect
        self.pool = connect()
        self.max_lag = max_lag_seconds
        self._last = _LastLag(max_lag_seconds)
        self._opened = False

    async def choose(self) -> ReadFrom:
        """Where the next read goes: the replica when it is up and at most ``max_lag`` behind."""
        if self._last.due():
            down = self._opened and self._last.seconds is None
            try:
                value = await (self._ask_afresh() if down else self._ask())
            except psycopg.Error:  # down, or no connection within the pool's wait (PoolTimeout)
                value = None
            self._last.answered(value)
        return self._last.read_from()

    async def _ask(self) -> Any:
        if not self._opened:  # opened by the first read, as the primary's pool is
            self._opened = True
            await self.pool.open()
        async with self.pool.connection() as connection:
            return (await (await connection.execute(_LAG_SQL)).fetchone() or (None,))[0]

    async def _ask_afresh(self) -> Any:
        # the pools are made from a URL and keyword arguments, never from callables
        conninfo, kwargs = cast(str, self.pool.conninfo), cast(dict[str, Any], self.pool.kwargs or {})
        connection = await psycopg.AsyncConnection.connect(conninfo, **kwargs)
        async with connection:
            value = (await (await connection.execute(_LAG_SQL)).fetchone() or (None,))[0]
        old, self.pool = self.pool, self._connect()
        await self.pool.open()
        await old.close()  # a read still on it fails there and is done on the primary
        return value

    async def close(self) -> None:
        await self.pool.close()

    def has_had_time(self, written_at: dt.datetime, now: dt.datetime) -> bool:
        """Whether a write whose transaction began at ``written_at`` is surely on a replica fit to
        read: the replica is at most ``max_lag`` behind, asked at most ``ASK_EVERY_S`` ago, and the
        write's transaction is given ``COMMIT_WITHIN_S`` from its start to its commit."""
        return now - written_at >= dt.timedelta(seconds=self.max_lag + ASK_EVERY_S + COMMIT_WITHIN_S)

    def forget(self) -> None:
        """The replica failed a read: not asked again, nor read, for ``DOWN_FOR_S``."""
        self._last.forget()
