"""Index upkeep while Saldo serves: a table's indexes rebuilt compactly, without locking out writers.

A year of payment runs leaves the payments' indexes about half empty: every status change writes a
new row version and a new entry in each index, and vacuum frees the old ones' space for reuse but
never hands it back. Rebuilt after a month has settled, the indexes hold only what is live, packed
(decisions 0031 and 0034 have the figures: 260 to 143 bytes a payment now). ``REINDEX TABLE CONCURRENTLY`` builds
each new index beside the old one and swaps them, while payments go on being written and read.

A crash during a rebuild (the server or the machine going down) leaves the new index half built:
an invalid index named ``<index>_ccnew`` (or the old one, ``<index>_ccold``, when it came after the
swap). The table works meanwhile, but each invalid index is still written to on every change. So
every run first drops what an interrupted run left, and the next run completes the work: the same
end state as an uninterrupted one."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text

if TYPE_CHECKING:
    import procrastinate
    from sqlalchemy.orm import Session

# the tables that grow with payments and change most: rebuilt when no table is named
DEFAULT_TABLES = ("payments", "payment_events")
REBUILD_LOCK_TIMEOUT = "30min"
UPKEEP_TASK = "index_upkeep"
UPKEEP_QUEUE = "upkeep"
UPKEEP_LOCK = "index_upkeep"

_LEFTOVERS = text(
    """SELECT n.nspname, c.relname FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT i.indisvalid AND c.relname ~ '_cc(new|old)[0-9]*$' AND n.nspname = current_schema()
        ORDER BY c.relname"""
)
_INDEXES = text(
    """SELECT c.relname, pg_relation_size(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = CAST(:table AS regclass) ORDER BY c.relname"""
)
_TABLE = text(
    """SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = :table AND c.relkind = 'r' AND n.nspname = current_schema()"""
)


class UpkeepError(ValueError):
    """What cannot be rebuilt, and why."""


@dataclass(frozen=True)
class Rebuilt:
    table: str
    index: str
    bytes_before: int
    bytes_after: int


@dataclass(frozen=True)
class Upkeep:
    dropped: list[str]  # invalid indexes an interrupted rebuild had left
    rebuilt: list[Rebuilt]


def _quoted(connection: Connection, name: str) -> str:
    return str(connection.dialect.identifier_preparer.quote_identifier(name))


def _sizes(connection: Connection, table: str) -> dict[str, int]:
    return {str(name): int(size) for name, size in connection.execute(_INDEXES, {"table": table})}


def drop_leftovers(connection: Connection) -> list[str]:
    """Drop the invalid indexes an interrupted concurrent rebuild left behind; their names."""
    dropped = []
    for schema, name in connection.execute(_LEFTOVERS).all():
        connection.execute(
            text(f"DROP INDEX CONCURRENTLY IF EXISTS {_quoted(connection, schema)}.{_quoted(connection, name)}")
        )
        dropped.append(str(name))
    return dropped


def rebuild_indexes(engine: Engine, tables: Sequence[str] = DEFAULT_TABLES) -> Upkeep:
    """Drop what an interrupted run left, then rebuild each table's indexes concurrently; each index's
    size before and after. Raises UpkeepError for a table that does not exist, before any work."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        try:
            # A rebuild whose process died (a killed worker) stops within a second instead of running on
            # unseen beside the job queued again: what it leaves is dropped by that job, as above.
            connection.execute(text("SET client_connection_check_interval = '1s'"))
            # A concurrent rebuild waits for the transactions running when it starts to end. The waiting
            # holds up no reader or writer, so it may last longer than Saldo's lock timeout for
            # statements (a payment run's file, a long export). Past this, the rebuild gives up and the
            # next run drops what it left.
            connection.execute(text(f"SET lock_timeout = '{REBUILD_LOCK_TIMEOUT}'"))
            unknown = [t for t in tables if connection.execute(_TABLE, {"table": t}).first() is None]
            if unknown:
                raise UpkeepError(f"no table {', '.join(unknown)} in this database")
            dropped = drop_leftovers(connection)
            rebuilt = []
            for table in tables:
                before = _sizes(connection, table)
                connection.execute(text(f"REINDEX TABLE CONCURRENTLY {_quoted(connection, table)}"))
                after = _sizes(connection, table)
                rebuilt += [Rebuilt(table, name, before.get(name, 0), size) for name, size in after.items()]
        finally:
            # The settings above are this connection's own: it is closed, not handed back to the
            # pool with them, where the next user would wait 30 minutes for a lock instead of 5 s.
            connection.invalidate()
    return Upkeep(dropped, rebuilt)


def queue_upkeep(session: Session) -> int:
    """Ask the worker for the index upkeep now (in the caller's transaction); the job id. One already
    waiting is not queued twice."""
    from saldo.db.queue import defer_job  # noqa: PLC0415 — procrastinate only where a job is queued

    return defer_job(session, task=UPKEEP_TASK, queue=UPKEEP_QUEUE, args={}, lock=UPKEEP_LOCK)


def register_tasks(app: procrastinate.App, engine: Engine, schedule: str | None = None) -> None:
    """The index upkeep task, on ``engine``'s database; with ``schedule`` (cron), also run by the
    worker on that schedule. One lock keeps two runs from overlapping."""

    def index_upkeep(timestamp: int | None = None) -> None:
        done = rebuild_indexes(engine)
        logging.getLogger(__name__).info(
            "index upkeep: %d indexes rebuilt, %d to %d bytes; %d left invalid by an interrupted run dropped",
            len(done.rebuilt),
            sum(each.bytes_before for each in done.rebuilt),
            sum(each.bytes_after for each in done.rebuilt),
            len(done.dropped),
        )

    task = app.task(name=UPKEEP_TASK, queue=UPKEEP_QUEUE, lock=UPKEEP_LOCK)(index_upkeep)
    if schedule:
        app.periodic(cron=schedule, periodic_id=UPKEEP_TASK)(task)
