"""Engine and sessions. The caller that opens a session (request, CLI command, job) commits it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg import Connection as PgConnection
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from saldo.db.embedded import start_embedded
from saldo.settings import Settings

# A statement that waits this long for a lock is a bug or an incident, not normal load.
LOCK_TIMEOUT = "5s"
# A server that does not answer a connection within this long is down (or its host is): callers get
# a 503 with Retry-After instead of waiting on it. libpq's smallest useful value is 2 s.
CONNECT_TIMEOUT_S = 2


def resolve_database_url(settings: Settings) -> str:
    """The configured external database URL, or the embedded server's (started on demand)."""
    if settings.database_url:
        url = make_url(settings.database_url)
        if url.drivername in {"postgresql", "postgres"}:
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    return start_embedded(settings.data_dir)


def create_db_engine(settings: Settings, *, url: str | None = None) -> Engine:
    """A pooled engine; every connection gets Saldo's lock timeout and UTC."""
    engine = create_engine(
        url or resolve_database_url(settings),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=False,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'; SET TIME ZONE 'UTC'")
        dbapi_connection.commit()

    return engine


def sibling_database(engine: Engine, name: str) -> str:
    """The URL of database ``name`` on ``engine``'s server, created if it is missing (a second
    node beside the demo's own)."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a database name Saldo makes: {name!r}")
    admin = create_engine(engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return engine.url.set(database=name).render_as_string(hide_password=False)


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def ping(session: Session) -> None:
    """Raise unless the database answers."""
    session.execute(text("SELECT 1"))


def driver_connection(session: Session) -> PgConnection[Any]:
    """The psycopg connection under this session's transaction, for COPY and server-side cursors."""
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, PgConnection)
    return driver
