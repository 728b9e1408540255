"""Alembic environment. Runs on a connection handed in by saldo.db.migrate (CLI, tests, demo), or
on the database the Settings name when invoked as plain ``alembic``."""

from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy import Connection, text

from saldo.db.engine import create_db_engine
from saldo.models import Base
from saldo.settings import Settings

# Serialises concurrent migration runs (two web workers starting at once, say).
MIGRATION_LOCK_KEY = 0x5A1D0  # arbitrary, fixed: "SALDO"

target_metadata = Base.metadata

# The archive's year rows are arrays of the payments table's row type (saldo.db.types.RowsOf), which
# reflection cannot name; the comparison then leaves that one column's type alone.
warnings.filterwarnings("ignore", message="Did not recognize type 'payments'")


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Leave the job queue's tables to the job queue: procrastinate owns its schema (see the
    migration that installs it), so model comparison ignores every ``procrastinate_*`` object."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_server_default=True,
        include_name=include_name,
    )
    connection.execute(text("SET lock_timeout = '5s'"))
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    engine = create_db_engine(Settings())
    with engine.begin() as connection:
        run_on(connection)


run_online()
