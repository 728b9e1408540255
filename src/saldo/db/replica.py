"""Reads that may be a moment old, sent to a streaming replica of the database (PostgreSQL's own
replication) when one is set, up and near enough to the primary; else to the primary itself
(docs/scale-out.md). What a read used, and how old its data may be, goes with the answer.

The replica's lag is asked of the replica at most once a second per process: the time since the
last transaction it replayed, or zero when it has replayed all it has received. A replica that
does not answer is left alone for a few seconds before it is asked again, so a replica that is
down costs one failed connection, not one per request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

LAG = text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "  # a primary given as the replica: nothing to wait for
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) END"
)
ASK_EVERY_S = 1.0  # how often a process asks the replica how far behind it is
DOWN_FOR_S = 5.0  # after a failed connection, the replica is not tried again for this long


@dataclass(frozen=True)
class ReadFrom:
    """Where a read went: ``replica`` with how far behind it was (seconds), or ``primary``."""

    source: str
    lag_seconds: float = 0.0

    def header(self) -> str:
        return f"{self.source}; lag={self.lag_seconds:.3f}" if self.source == "replica" else self.source


PRIMARY = ReadFrom("primary")


class Reads:
    """Reads sent to the replica when it is fit, to the primary otherwise."""

    def __init__(self, replica: Engine | None, *, max_lag_seconds: float) -> None:
        self.replica = sessionmaker(bind=replica, expire_on_commit=False) if replica is not None else None
        self.engine = replica
        self.max_lag = max_lag_seconds
        self._lock = threading.Lock()
        self._asked_at = float("-inf")
        self._lag: float | None = None  # None: down, or its lag unknown

    def lag(self) -> float | None:
        """How far behind the primary the replica is (seconds), asked at most every ``ASK_EVERY_S``;
        ``None`` when there is no replica, it is down, or it cannot say."""
        if self.engine is None:
            return None
        with self._lock:
            now = time.monotonic()
            if now - self._asked_at < (ASK_EVERY_S if self._lag is not None else DOWN_FOR_S):
                return self._lag
            self._asked_at = now
            try:
                with self.engine.connect() as connection:
                    value = connection.execute(LAG).scalar()
            except DBAPIError:
                value = None
            self._lag = float(value) if value is not None else None
            return self._lag

    def _forget(self) -> None:
        with self._lock:
            self._lag, self._asked_at = None, time.monotonic()

    def choose(self) -> ReadFrom:
        """Where the next read goes: the replica when it is up and at most ``max_lag`` behind."""
        lag = self.lag()
        return ReadFrom("replica", lag) if lag is not None and lag <= self.max_lag else PRIMARY

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
                self._forget()
        return work(primary), PRIMARY
