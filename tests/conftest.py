"""Test database and app: a real PostgreSQL (embedded by default, external with
SALDO_TEST_DATABASE_URL), migrated once per run; every test runs in a transaction that is rolled back."""

from __future__ import annotations

import os
import socket
import threading
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from saldo.app import create_app
from saldo.benefits.service import seed_catalogue
from saldo.db.embedded import start_embedded
from saldo.db.engine import create_db_engine
from saldo.db.migrate import check_database, upgrade_database
from saldo.kit.name_match import Thresholds
from saldo.payments.service.policy import RegistrationPolicy
from saldo.settings import Settings
from saldo.web.fastpath import FastPath, PaymentRegistration, VopChecks
from tests.factories import make_bank, make_bank_token
from tests.web_login import route_provider_calls_to

ROOT = Path(__file__).resolve().parents[1]
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def _server_url() -> str:
    external = os.environ.get("SALDO_TEST_DATABASE_URL")
    if external:
        url = make_url(external)
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return start_embedded(ROOT / ".saldo" / "test")


def create_database(name: str, *, template: str | None = None) -> str:
    """A fresh database on the test server, empty or a copy of ``template``; returns its URL."""
    server = make_url(_server_url())
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


# The test client names "testserver"; servers started in a thread are reached at 127.0.0.1.
TEST_HOSTS = ["testserver", "127.0.0.1", "localhost"]


@pytest.fixture(scope="session")
def database_url(worker_id: str) -> str:
    return create_database(f"saldo_test_{worker_id}")


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        max_upload_bytes=16 * 1024**2,
        allowed_hosts=TEST_HOSTS,
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings)
    upgrade_database(engine)
    check_database(engine)
    with Session(engine) as session:
        seed_catalogue(session)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One transaction per test, rolled back at the end: tests never see each other's data."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


class _Cursor:
    """The async face of a cursor of the test's own connection."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self.cursor = cursor

    async def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None) -> _Cursor:
        self.cursor.execute(query, params, prepare=prepare)
        return self

    async def fetchone(self) -> Any:
        return self.cursor.fetchone()

    async def fetchall(self) -> list[Any]:
        return self.cursor.fetchall()


class _Connection:
    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    async def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None) -> _Cursor:
        return await _Cursor(self.connection.cursor()).execute(query, params, prepare=prepare)

    def cursor(self, **kwargs: Any) -> _Cursor:
        return _Cursor(self.connection.cursor(**kwargs))


class TransactionPool:
    """The fast paths' connection pool, inside the test's transaction: each statement runs on the
    test's own connection in a savepoint of its own (as the real pool's autocommit statements stand
    alone), so the fast paths see what the test wrote and a failed statement spoils nothing."""

    def __init__(self, connection: Connection) -> None:
        self.raw = cast("psycopg.Connection[Any]", connection.connection.driver_connection)

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[_Connection]:
        with self.raw.transaction():
            yield _Connection(self.raw)


def app_in_transaction(settings: Settings, engine: Engine, connection: Connection) -> FastAPI:
    """The production app, fast paths on, with its sessions and fast paths inside the test's transaction."""
    pool = cast("AsyncConnectionPool", TransactionPool(connection))
    app = create_app(settings.model_copy(update={"fast_path": True}), engine=engine, fast_path_pool=pool)
    app.state.session_factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return app


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    # Sessions commit into savepoints of the test's transaction, exactly as requests commit.
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def app(settings: Settings, engine: Engine, connection: Connection) -> FastAPI:
    """The production app from create_app(), fast paths included; only its database connections
    join the test's transaction."""
    return app_in_transaction(settings, engine, connection)


@pytest.fixture
def bank_token(session: Session) -> str:
    """A committed bank (SEB) and its API token."""
    token = make_bank_token(session, make_bank(session))
    session.commit()
    return token


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def live_database(name: str, data_dir: Path, *, url: str | None = None) -> tuple[Settings, Engine]:
    """A migrated database of its own with the catalogue, for tests whose data must really be committed:
    ``name`` made anew on the test server, or the empty database at ``url`` (a server of the test's own)."""
    settings = Settings(database_url=url or create_database(name), data_dir=data_dir, allowed_hosts=TEST_HOSTS)
    engine = create_db_engine(settings)
    upgrade_database(engine)
    with Session(engine) as session:
        seed_catalogue(session)
        session.commit()
    return settings, engine


def serve_in_thread(app: FastAPI, *, port: int | None = None) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` with a real uvicorn on a loopback port (a free one unless given); returns its
    base URL and a stop."""
    if port is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop


class HandedOnError(AssertionError):
    """The fast path passed the request on to the documented route."""


def handing_on_fails(what: str) -> Callable[[object, object, object], Awaitable[None]]:
    """An app behind the fast-path layer that fails if a request is handed on to it."""

    async def documented_route(scope: object, receive: object, send: object) -> None:
        raise HandedOnError(what)

    return documented_route


async def asgi_call(
    app: Callable[..., Awaitable[None]], scope: dict[str, object], body: bytes = b""
) -> list[dict[str, object]]:
    """Call an ASGI app with one request; the messages it sent."""
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def post_to_fast_path(database_url: str, path: str, token: str, body: bytes, *, vop: bool) -> tuple[int, bytes]:
    """POST through the fast-path layer alone, in front of an app that fails if it is reached."""
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = AsyncConnectionPool(conninfo, min_size=1, max_size=2, open=False, kwargs={"autocommit": True})
    settings = Settings(database_url=database_url)
    handler = (
        VopChecks(pool, Thresholds()) if vop else PaymentRegistration(pool, RegistrationPolicy.from_settings(settings))
    )
    fast = FastPath(handing_on_fails(path), pool=pool, handlers={path: handler})
    headers = [(b"authorization", f"Bearer {token}".encode()), (b"content-type", b"application/json")]
    try:
        sent = await asgi_call(fast, {"type": "http", "method": "POST", "path": path, "headers": headers}, body)
    finally:
        await pool.close()
    return int(sent[0]["status"]), bytes(sent[1]["body"])  # type: ignore[call-overload]


@pytest.fixture
def web_app(settings: Settings, engine: Engine, connection: Connection) -> FastAPI:
    """The production app with the development eID provider switched on, as the demo runs it."""
    app = app_in_transaction(settings.model_copy(update={"dev_login": True}), engine, connection)
    route_provider_calls_to(app)
    return app


@pytest.fixture(scope="session")
def live_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    """A migrated database with the catalogue, copied for each test that needs committed data."""
    name = f"saldo_live_template_{worker_id}"
    _, engine = live_database(name, tmp_path_factory.mktemp("live-template"))
    engine.dispose()  # a template may have no connections while it is copied
    return name


@pytest.fixture
def live_engine(live_template: str, worker_id: str, settings: Settings, tmp_path: Path) -> Iterator[Engine]:
    """A database of this test's own where commits are real, so work on other threads sees them
    (background checks, several connections). A copy of the template: about a tenth of a second."""
    url = create_database(f"saldo_live_{worker_id}", template=live_template)
    engine = create_db_engine(settings.model_copy(update={"database_url": url, "data_dir": tmp_path}))
    yield engine
    engine.dispose()


@pytest.fixture
def live_web_app(settings: Settings, live_engine: Engine, tmp_path: Path) -> FastAPI:
    """``web_app`` on a database of its own, with real commits."""
    changes = {"dev_login": True, "fast_path": True, "data_dir": tmp_path}
    app = create_app(settings.model_copy(update=changes), engine=live_engine)
    route_provider_calls_to(app)
    return app


@pytest.fixture
def web(web_app: FastAPI) -> Iterator[TestClient]:
    """A browser-like client (it keeps cookies) of the pages."""
    with TestClient(web_app) as client:
        yield client
