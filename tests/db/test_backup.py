"""A backup taken while Saldo writes, and a restore that is checked, not assumed: every table's rows
against the backup's manifest, the payments row by row, and a failed restore leaving an empty
database (docs/operations.md, "Backup and restore"). Real servers, PostgreSQL's own pg_dump and
pg_restore, and the commands as an operator types them."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from saldo.db.backup import BackupError, backup, read_manifest, restore
from saldo.kit.clock import today
from saldo.payers.models import Payer
from saldo.payers.schemas import PayerPrincipal
from saldo.payments.schemas import PaymentIn
from saldo.payments.service.policy import RegistrationPolicy
from saldo.payments.service.register import register_payment
from saldo.settings import Settings
from tests.conftest import ROOT, create_database, live_database
from tests.factories import make_payer, payment_body


def _register(session: Session, payer: Payer) -> None:
    principal = PayerPrincipal(payer.id, payer.organisation_number, payer.name, payer.connection_model, 0)
    policy = RegistrationPolicy.from_settings(Settings())
    register_payment(
        session, payer=principal, payment=PaymentIn.model_validate(payment_body()), policy=policy, today=today()
    )


@pytest.fixture
def source(tmp_path: Path, worker_id: str) -> Iterator[Engine]:
    _, engine = live_database(f"saldo_backup_{worker_id}", tmp_path / "data")
    with Session(engine) as session:
        payer = make_payer(session)
        for _ in range(50):
            _register(session, payer)
        session.commit()
    yield engine
    engine.dispose()


def _payments(url: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT * FROM payments ORDER BY id"))
            return [tuple(r) for r in rows]
    finally:
        engine.dispose()


def test_a_restore_has_every_row_the_backup_had(source: Engine, tmp_path: Path, worker_id: str) -> None:
    done = backup(source, tmp_path / "backup")
    assert done.manifest.tables["payments"] == 50
    assert done.manifest.tables["benefits"] > 0
    assert done.manifest.revision == read_manifest(tmp_path / "backup").revision

    into = create_database(f"saldo_restored_{worker_id}")
    restored = restore(tmp_path / "backup", into)
    assert restored.manifest == done.manifest
    assert _payments(into) == _payments(source.url.render_as_string(hide_password=False))
    with create_engine(into).connect() as connection:
        assert (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == done.manifest.revision
        )


def test_the_backup_is_of_one_moment_while_payments_are_written(source: Engine, tmp_path: Path, worker_id: str) -> None:
    """Payments registered all through the backup: the manifest's count and the dump agree, so the
    restore passes its own check, whatever moment the snapshot caught."""
    stop = threading.Event()

    def write() -> None:
        with Session(source) as session:
            payer = make_payer(session)
            session.commit()
            while not stop.is_set():
                _register(session, payer)
                session.commit()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        done = backup(source, tmp_path / "backup")
    finally:
        stop.set()
        writer.join()
    into = create_database(f"saldo_restored_{worker_id}")
    restore(tmp_path / "backup", into)
    assert len(_payments(into)) == done.manifest.tables["payments"] >= 50


def test_a_restore_goes_only_into_an_empty_database(source: Engine, tmp_path: Path) -> None:
    backup(source, tmp_path / "backup")
    before = _payments(source.url.render_as_string(hide_password=False))
    with pytest.raises(BackupError, match="is not empty"):
        restore(tmp_path / "backup", source.url.render_as_string(hide_password=False))
    assert _payments(source.url.render_as_string(hide_password=False)) == before


def test_a_damaged_backup_is_refused_and_leaves_the_database_empty(
    source: Engine, tmp_path: Path, worker_id: str
) -> None:
    folder = tmp_path / "backup"
    backup(source, folder)
    into = create_database(f"saldo_restored_{worker_id}")

    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["tables"]["payments"] += 1  # a manifest that does not match its dump
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="payments: 51 backed up, 50 restored"):
        restore(folder, into)
    with create_engine(into).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar() == 0

    manifest["tables"]["payments"] -= 1
    (folder / "manifest.json").write_text(json.dumps(manifest))
    largest = max((folder / "dump").glob("*.dat.gz"), key=lambda f: f.stat().st_size)
    largest.write_bytes(largest.read_bytes()[: largest.stat().st_size // 2])  # a dump cut short
    with pytest.raises(BackupError, match="pg_restore failed"):
        restore(folder, into)
    with create_engine(into).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar() == 0

    (folder / "manifest.json").write_text('{"format": 1, "tables": ')  # a manifest cut short
    with pytest.raises(BackupError, match="cannot be read: the backup is damaged"):
        restore(folder, into)
    (folder / "manifest.json").unlink()
    with pytest.raises(BackupError, match="is not a backup made by `saldo backup`"):
        restore(folder, into)
    with pytest.raises(BackupError, match="is not empty: a backup goes into a new folder"):
        backup(source, folder)


def test_the_commands_as_an_operator_types_them(source: Engine, tmp_path: Path, worker_id: str) -> None:
    env = {"SALDO_DATABASE_URL": source.url.render_as_string(hide_password=False), "PATH": "/usr/bin:/bin"}

    def saldo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "saldo.cli.main", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    taken = saldo("backup", str(tmp_path / "backup"))
    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert "backed up" in taken.stdout
    into = create_database(f"saldo_restored_{worker_id}")
    put_back = saldo("restore", str(tmp_path / "backup"), "--into", into)
    assert put_back.returncode == 0, put_back.stdout + put_back.stderr
    assert "restored" in put_back.stdout
    again = saldo("restore", str(tmp_path / "backup"), "--into", into)
    assert again.returncode == 1
    assert "restore failed: the database to restore into is not empty" in again.stderr
