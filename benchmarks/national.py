"""Saldo at national size: one method, measured at several sizes of the same country.

Issue (national scale): the same measurements at 1, 10 and 100 million payments, so that how each
figure grows can be read from one table.

    .venv/bin/python -m benchmarks.national build --persons 145000       # about 1 M payments
    .venv/bin/python -m benchmarks.national build --persons 145000 --reindex-monthly
    .venv/bin/python -m benchmarks.national build --persons 145000 --archive-monthly
    .venv/bin/python -m benchmarks.national measure --persons 145000 [--runs 3] [--seconds 10]
        [--only reads|writes|keeping|snapshot] [--no-fast-path] [--replica]
    .venv/bin/python -m benchmarks.national reindex --persons 145000 [--runs 3]
    .venv/bin/python -m benchmarks.national peak --persons 145000 [--peak-payments 3000000]
    .venv/bin/python -m benchmarks.national archive|history --persons 145000 [--runs 3]
    .venv/bin/python -m benchmarks.national migration --persons 145000 [--archived] [--runs 3]

build:   a synthetic country of --persons (seed 9, as of 2026-11-22; above 1,450,000 persons in blocks
         of 500,000) is generated as files and loaded
         through Saldo's own paths, the ones a real authority's data takes: the banks' account
         registers, the payers' register, every payer's payment file through `ingest_file`, the
         decisions and registers of the analysis, and the SEDs from abroad. Kept in its own database
         (`saldo_bench_national_<persons>`): a rerun reuses it. Its time is reported. With
         --reindex-monthly, `saldo reindex` runs after each month's vacuum, as an authority would
         schedule it, in a database of its own (`..._reindexed`): the storage before each month's
         rebuild (what the indexes grow back to in a month) and at the year's end are reported.
         With --archive-monthly, the archive job (decision 0035) and the index upkeep after it run on
         each month's 2nd up to the country's date, as the worker schedules them, in a database of
         its own (`..._archived_monthly`): what each job moved, the storage after it and at the end.
measure: on that database, each measurement the same way at every size:
         - storage: bytes per payment (the table, each index, TOAST), the database's size;
         - the citizen's overview, page and JSON (`saldo serve`, wrk, random citizens' sessions);
         - a payer's listing of its payments (`GET /api/v1/payments`, keyset pagination): the first
           page, and a page deep in the list, for the largest payer and for a small one;
         - verification of payee, single checks of the country's own accounts and names;
         - single registration (`POST /api/v1/payments`), paced, and a payer's file of a third of a
           million payments through `ingest_file` (both on a copy of the database, dropped after);
         - a consistent backup (`saldo backup`) and its checked restore (`saldo restore`);
         - the analysis snapshot export, step by step (with --only snapshot, its peak memory too).
         With --replica, the reads are served beside a streaming replica of the benchmark server
         (pg_basebackup, on the same machine), which Saldo reads the overview and listings from.
peak:    a peak day on a copy of that database: --peak-payments (3 M) new payments due on one day
         taken in from the payers' files, the account check, and the day's payment runs with their
         pain.001 files and the bank's answers read back; each stage timed.
reindex: `saldo reindex` on a copy of that database (brought to the newest migration): the time to
         rebuild every index of payments and payment_events concurrently, and the storage before
         and after.
archive: the archive job (decision 0035) on copies of that database, each month timed, and the
         storage as it leaves it and compact; history: decision 0040's migration on the archived copy.
migration: the newest migration on that database (or its archived copy), down and up again in place.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import resource
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from benchmarks.citizen import LUA as CITIZEN_LUA
from benchmarks.citizen import open_sessions
from benchmarks.common import (
    WORK,
    copy_database,
    drop_database,
    empty_database,
    ensure_wrk,
    median,
    migrated_database,
    pacing_ms,
    report,
    run_wrk,
    start_server,
    streaming_replica,
    time_each,
)
from benchmarks.vop import LUA as VOP_LUA
from saldo.analysis.service.snapshot import export_snapshot
from saldo.banks.service import find_bank, issue_bank_token
from saldo.cli.accounts import import_bank_register
from saldo.cli.context import CliContext
from saldo.cli.country import load_country
from saldo.cli.demo import pay_out
from saldo.cli.ingest import ingest_file
from saldo.db.backup import backup, restore
from saldo.db.engine import create_db_engine, create_session_factory, unit_of_work
from saldo.db.migrate import alembic_config, upgrade_database
from saldo.db.upkeep import rebuild_indexes
from saldo.kit.clock import today
from saldo.payers.service import issue_token
from saldo.payments.jobs import run_account_check
from saldo.payments.repository import PaymentRepository
from saldo.payments.schemas import BatchAccepted
from saldo.payments.service.archive import archive_settled
from saldo.settings import Settings
from saldo.synthetic.country import generate_country

AS_OF = dt.date(2026, 11, 22)
SEED = 9
LARGEST = "2021005521"  # Försäkringskassan: the largest payer of the synthetic country
FILE_ROWS = 333_333  # a payer's file for the ingest measurement
PEAK_PAYMENTS = 3_000_000  # a peak day's payments (issue 22: check, pain.001, the bank's answers)
PEAK_DAY = dt.date(2026, 11, 25)
# Countries up to the 9.8 M year's are generated whole, as they were first measured; a larger one in
# blocks of persons, so the generator holds one block's payments at a time (13.2 GB for the 9.8 M
# year whole, about 130 GB for 100 M).
WHOLE_UP_TO = 1_450_000
BLOCK_PERSONS = 500_000


def block_persons(persons: int) -> int | None:
    return None if persons <= WHOLE_UP_TO else BLOCK_PERSONS


def database(persons: int) -> str:
    return f"saldo_bench_national_{persons}"


def folder(persons: int) -> Path:
    return WORK / "national" / f"country-{persons}"


def payments_held(settings: Settings) -> int:
    engine = create_db_engine(settings)
    with engine.connect() as connection:
        held = int(connection.scalar(text("SELECT count(*) FROM payments")) or 0)
    engine.dispose()
    return held


def months(country: Path) -> dict[str, Path]:
    """Each payer's year-long payment file cut by the month its payments are due, as a payer sends
    them (``months/<YYYY-MM>/<organisation number>.csv``, header and lines unchanged). Written once."""
    out = country / "months"
    if not out.exists():
        parts = out.with_name("months.partial")
        shutil.rmtree(parts, ignore_errors=True)
        for path in sorted((country / "payments").glob("*.csv")):
            with path.open(newline="") as lines:
                header = next(lines)
                due = next(csv.reader([header])).index("due_date")
                writers: dict[str, Any] = {}
                for line in lines:
                    month = next(csv.reader([line]))[due][:7]
                    if month not in writers:
                        (parts / month).mkdir(parents=True, exist_ok=True)
                        writers[month] = (parts / month / path.name).open("w", newline="")
                        writers[month].write(header)
                    writers[month].write(line)
                for writer in writers.values():
                    writer.close()
        parts.rename(out)
    return {month.name: month for month in sorted(out.iterdir())}


class Builder:
    """A build's database, its timed stages, and one month of the year."""

    def __init__(self, settings: Settings, *, reindex_monthly: bool = False, archive_monthly: bool = False) -> None:
        self.settings = settings
        self.reindex_monthly = reindex_monthly
        self.archive_monthly = archive_monthly
        self.engine = create_db_engine(settings)
        self.sessions = create_session_factory(self.engine)
        self.context = CliContext()
        self.context.__dict__.update(settings=settings, engine=self.engine, sessions=self.sessions)  # cached parts
        self.stages: dict[str, float] = {}
        self.before_reindex: dict[str, dict[str, int]] = {}  # bytes a payment before each month's rebuild
        self.archived: dict[str, dict[str, Any]] = {}  # each monthly archive job: what it moved, the storage after

    def held(self, sql: str, **params: object) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(text(sql), params) or 0)

    def stage(self, name: str, work: Callable[[], object]) -> None:
        began = time.perf_counter()
        work()
        took = time.perf_counter() - began
        self.stages[name] = round(self.stages.get(name, 0.0) + took, 1)
        if took >= 60:  # a long build says what it has done as it goes
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            print(
                f"{dt.datetime.now(dt.UTC):%H:%M:%S} {name}: {took:.1f} s (the build's peak so far {peak} MiB)",
                flush=True,
            )

    def vacuum(self, tables: str = "") -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"VACUUM ANALYZE {tables}"))

    def month(self, month: str, files: Path) -> None:
        """The month's files (unless taken in), the account check, a run on each due date up to the
        country's date with the bank's answers, and the month's vacuum. Nothing when the month is done."""
        first = dt.date.fromisoformat(f"{month}-01")
        window = {"first": first, "after": (first + dt.timedelta(days=31)).replace(day=1), "as_of": AS_OF}
        in_month = "FROM payments WHERE due_date >= :first AND due_date < :after"
        runs = "FROM payment_runs WHERE execution_date >= :first AND execution_date < :after"
        # a month archived has left the table; its runs stay
        if self.held(f"SELECT count(*) {in_month}", **window) or self.held(f"SELECT count(*) {runs}", **window):
            if not self.held(
                f"SELECT count(*) {in_month} AND due_date <= :as_of AND status IN ('registered', 'verified')",
                **window,
            ):
                return
        else:
            for path in sorted(files.glob("*.csv")):

                def ingest(path: Path = path) -> None:
                    with unit_of_work(self.sessions) as session:
                        ingest_file(
                            session, self.settings, organisation_number=path.stem, path=path, show_progress=False
                        )

                self.stage("payers' files", ingest)
        self.stage("account check", lambda: run_account_check(self.sessions))
        with self.engine.connect() as connection:
            days = connection.scalars(
                text(f"SELECT DISTINCT due_date {in_month} AND due_date <= :as_of ORDER BY 1"),
                window,
            ).all()
        for day in days:
            self.stage(
                "payment runs, pain.001 and the bank's answers",
                lambda day=day: pay_out(self.context, WORK / "national", execution_date=day),
            )
        self.stage("vacuum each month", lambda: self.vacuum("payments, payment_events"))
        if self.reindex_monthly:
            # what the indexes have grown to since the last month's rebuild: the month's high-water mark
            grown = storage(self.settings)
            self.before_reindex[month] = {
                "payments": grown["bytes_per_payment_with_indexes"],
                "history": grown["status_history_bytes_per_payment"],
            }
            self.stage("saldo reindex each month", lambda: rebuild_indexes(self.engine))
        job_day = window["after"] + dt.timedelta(days=1)  # the archive job's day: 01:00 on the 2nd
        if self.archive_monthly and job_day <= AS_OF:
            began = time.perf_counter()
            moved = archive_settled(self.sessions, today=job_day)
            self.stages["archive job each month"] = round(
                self.stages.get("archive job each month", 0.0) + time.perf_counter() - began, 1
            )
            self.stage("vacuum after the archive job", self.vacuum)
            self.stage("saldo reindex after the archive job", lambda: rebuild_indexes(self.engine))
            self.archived[f"{job_day:%Y-%m-%d}"] = {
                "months": {f"{m.month:%Y-%m}": m.payments for m in moved},
                "storage_after": {
                    key: value
                    for key, value in storage(self.settings).items()
                    if key
                    in (
                        "payments",
                        "archived_payments",
                        "bytes_per_payment_of_the_year",
                        "with_history_bytes_per_payment_of_the_year",
                        "database_gib",
                    )
                },
            }
        print(f"{month}: {self.stages}", flush=True)


def build(persons: int, *, reindex_monthly: bool = False, archive_monthly: bool = False) -> Settings:
    """The country of ``persons`` in its database, built through Saldo's own paths and the way a year
    runs: month by month, each payer's file for the month, the account check, a payment run on each
    due date up to the country's date (the bank's answers read back), and a vacuum standing in for the
    month's autovacuum. Payments due after the country's date are registered and checked, waiting.
    Each month is done only if the database does not show it done, so a rerun (or a build that was
    stopped) goes on from the month it reached."""
    name = (
        database(persons) + ("_reindexed" if reindex_monthly else "") + ("_archived_monthly" if archive_monthly else "")
    )
    settings = migrated_database(name, fresh=False)
    settings = settings.model_copy(update={"data_dir": WORK / "national"})
    country = folder(persons)
    builder = Builder(settings, reindex_monthly=reindex_monthly, archive_monthly=archive_monthly)
    held, stage = builder.held, builder.stage
    if not held("SELECT count(*) FROM payers"):
        shutil.rmtree(country, ignore_errors=True)
        stage(
            "generate the files",
            lambda: generate_country(
                country,
                persons=persons,
                seed=SEED,
                as_of=AS_OF,
                block_persons=block_persons(persons),
                progress=lambda step: (
                    print(f"{dt.datetime.now(dt.UTC):%H:%M:%S} {step}", flush=True)
                    if step.startswith("block")
                    else None
                ),
            ),
        )
        stage(
            "load payers, decisions, registers, SEDs",
            lambda: load_country(builder.sessions, settings, country, loaded_by="staff:benchmark", payments=False),
        )
    if not held("SELECT count(*) FROM bank_accounts"):
        with unit_of_work(builder.sessions) as session:
            stage("load the banks' account registers", lambda: import_bank_register(session, country, settings))
    if not (country / "months").exists():
        stage("cut the payers' files by month", lambda: months(country))
    for month, files in months(country).items():
        builder.month(month, files)
    if builder.stages:
        stage("vacuum and analyze", builder.vacuum)
        report(
            f"national build, {persons:,} persons",
            {
                "persons": persons,
                "payments": held("SELECT count(*) FROM payments"),
                "accounts": held("SELECT count(*) FROM bank_accounts"),
                "payments by status": by_status(builder.engine),
                "payment runs": held("SELECT count(*) FROM payment_runs"),
                "stages_seconds": builder.stages,
                # the build process's peak, the generator's whole year of payments in memory included
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                "files_mib": round(
                    sum(p.stat().st_size for p in country.rglob("*") if p.is_file() and "months" not in p.parts)
                    / 1024**2
                ),
                **(
                    {
                        "storage_before_each_monthly_reindex": builder.before_reindex,
                        "storage_at_the_years_end": storage(settings),
                    }
                    if reindex_monthly
                    else {}
                ),
                **(
                    {"each_monthly_archive_job": builder.archived, "storage_at_the_countrys_date": storage(settings)}
                    if archive_monthly
                    else {}
                ),
            },
        )
    else:
        print(f"{name} holds {held('SELECT count(*) FROM payments'):,} payments: reused")
    builder.engine.dispose()
    return settings


def by_status(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT status::text, count(*) FROM payments GROUP BY 1")).all()
    return {str(status): int(count) for status, count in rows}


# What the archive keeps of the payments that left the table (decision 0035), counted with them.
ARCHIVE_TABLES = ("archived_payment_years", "archived_payment_keys", "archived_run_totals", "archived_status_totals")


def archive_storage(connection: Connection) -> dict[str, Any]:
    """The archive's payments and bytes, each table with its indexes and TOAST; none before it exists."""
    archived = int(connection.scalar(text("SELECT count(*) FROM archived_payment_keys")) or 0)
    sizes = {
        table: int(connection.scalar(text(f"SELECT pg_total_relation_size('{table}')")) or 0)
        for table in ARCHIVE_TABLES
    }
    return {"archived": archived, "bytes": sum(sizes.values()), "each_table": sizes}


def storage(settings: Settings) -> dict[str, Any]:
    """Bytes per payment: the table's rows, each index, TOAST; and the whole database. With the
    archive: the payments that stay and the archived ones, each part's bytes a payment of its own,
    and the bytes a payment of the whole year (the table and the archive over every payment)."""
    engine = create_db_engine(settings)
    with engine.connect() as connection:
        payments = int(connection.scalar(text("SELECT count(*) FROM payments")) or 0)
        archive = archive_storage(connection)
        heap, total, indexes, whole = connection.execute(
            text(
                "SELECT pg_relation_size('payments'), pg_total_relation_size('payments'), "
                "pg_indexes_size('payments'), pg_database_size(current_database())"
            )
        ).one()
        events, history = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM payment_events), "
                "pg_total_relation_size('payment_events') + pg_total_relation_size('payment_event_notes') "
                "+ coalesce(pg_total_relation_size(to_regclass('payment_event_moments')), 0)"
            )
        ).one()
        each = connection.execute(
            text(
                "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                "WHERE indrelid = 'payments'::regclass ORDER BY 1"
            )
        ).all()
    engine.dispose()
    return {
        "payments": payments,
        "bytes_per_payment_with_indexes": round(total / payments),
        "rows": round(heap / payments),
        "indexes": round(indexes / payments),
        "toast_and_maps": round((total - heap - indexes) / payments),
        "each_index": {name: round(size / payments, 1) for name, size in each},
        # The status history each payment shows (payment_events, the notes they name and the archived
        # histories' moments, with their indexes), beside the table.
        "status_events_per_payment": round(events / payments, 2),
        "status_history_bytes_per_payment": round(history / payments),
        "database_gib": round(whole / 1024**3, 2),
    } | (
        {
            "archived_payments": archive["archived"],
            "archive_bytes_per_archived_payment": round(archive["bytes"] / archive["archived"], 1),
            "archive_tables": archive["each_table"],
            "bytes_per_payment_of_the_year": round((total + archive["bytes"]) / (payments + archive["archived"]), 1),
            # the archived histories are in the keys (decision 0040), counted above, and the moments
            "status_history_bytes_per_payment_of_the_year": round(history / (payments + archive["archived"]), 1),
            "with_history_bytes_per_payment_of_the_year": round(
                (total + archive["bytes"] + history) / (payments + archive["archived"]), 1
            ),
        }
        if archive["archived"]
        else {}
    )


def wrk_runs(
    wrk: str, base: str, script: Path, args: argparse.Namespace, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A short warm-up, then --runs runs of --seconds with 8 connections; medians. Then one run with
    one connection: a request's own time, with no other waiting before it at the server (with 8,
    a request waits for the ones ahead of it: p50 is about 8 / the rate)."""
    run_wrk(wrk, base, script, connections=4, seconds=2, args=extra)
    runs = [run_wrk(wrk, base, script, connections=8, seconds=args.seconds, args=extra) for _ in range(args.runs)]
    alone = run_wrk(wrk, base, script, connections=1, seconds=args.seconds, args=extra)
    return {
        "per_second": round(median([r["requests_per_second"] for r in runs]), 1),
        "p50_ms": median([r["p50_ms"] for r in runs]),
        "p99_ms": median([r["p99_ms"] for r in runs]),
        "p99_ms_each": [r["p99_ms"] for r in runs],
        "one_connection": {
            "per_second": alone["requests_per_second"],
            "p50_ms": alone["p50_ms"],
            "p99_ms": alone["p99_ms"],
        },
        "errors": sum(int(r["non_2xx"]) for r in [*runs, alone]),
    }


REGISTER_LUA = """
local counter = 0
template = [[__TEMPLATE__]]
headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer __TOKEN__"}
function init(args)
  prefix = args[1] .. "-" .. math.random(1, 1000000)
end
function delay()
  return __PACING__
end
function request()
  counter = counter + 1
  local body = string.gsub(template, "__REF__", prefix .. "-" .. counter)
  return wrk.format("POST", "/api/v1/payments", headers, body)
end
"""

GET_LUA = """
function request()
  return wrk.format("GET", path, headers)
end
"""


def listing_targets(settings: Settings) -> list[tuple[str, str, str]]:
    """(name, token, path) for the first page and a page nine tenths down the list, of the largest
    payer and of a small one (the payer with the fewest payments among those with at least 10,000);
    and the largest payer's first page of references beginning as one halfway down its list does
    (all but its last two characters: up to 100 payments), a name that matches none of its payments,
    its held payments, its last batch, and its last page newest first."""
    engine = create_db_engine(settings)
    targets = []
    with Session(engine) as session:
        # every payment of a payer, in the table or archived (decision 0035)
        every = (
            "(SELECT id, payer_id, reference FROM payments UNION ALL "
            "SELECT id, payer_id, reference FROM archived_payment_keys)"
        )
        counts = session.execute(
            text(
                f"SELECT p.id, p.organisation_number, count(*) FROM {every} x JOIN payers p ON p.id = x.payer_id "
                "GROUP BY p.id, p.organisation_number ORDER BY 3"
            )
        ).all()
        largest = next(row for row in counts if row[1] == LARGEST)
        small = next(row for row in counts if row[2] >= 10_000)
        for name, (payer_id, _number, count) in (("largest payer", largest), ("small payer", small)):
            token = issue_token(session, payer_id=payer_id, label="benchmark").token
            deep = session.scalar(
                text(f"SELECT id FROM {every} x WHERE payer_id = :p ORDER BY id OFFSET :k LIMIT 1"),
                {"p": payer_id, "k": count * 9 // 10},
            )
            label = f"{name} ({count:,} payments)"
            targets.append((f"{label}: first page", token, "/api/v1/payments?limit=100"))
            targets.append((f"{label}: page at 90 %", token, f"/api/v1/payments?limit=100&after={deep}"))
            if name == "largest payer":  # a search: its references that begin as one halfway down the list does
                middle = session.scalar(
                    text(f"SELECT reference FROM {every} x WHERE payer_id = :p ORDER BY id OFFSET :k LIMIT 1"),
                    {"p": payer_id, "k": count // 2},
                )
                search = f"/api/v1/payments?limit=100&reference={quote(middle[:-2])}"
                targets.append((f"{label}: references beginning alike, first page", token, search))
                # Filters no index narrows read a window of the payer's payments a page (decision 0037);
                # a name that matches nothing reads the whole window. The payer's page lists newest
                # first, and its last page starts at the cursor.
                oldest = session.scalar(text(f"SELECT min(id) FROM {every} x WHERE payer_id = :p"), {"p": payer_id})
                last_batch = session.scalar(
                    text("SELECT max(id) FROM payment_batches WHERE payer_id = :p"), {"p": payer_id}
                )
                targets += [
                    (
                        f"{label}: a name that matches nothing, first page",
                        token,
                        "/api/v1/payments?limit=100&person=Zzyzx",
                    ),
                    (f"{label}: held, first page", token, "/api/v1/payments?limit=100&status=held"),
                    (
                        f"{label}: its last batch, first page",
                        token,
                        f"/api/v1/payments?limit=100&batch_id={last_batch}",
                    ),
                    (
                        f"{label}: newest first, last page",
                        token,
                        f"/api/v1/payments?limit=100&order=newest&after={oldest + 1}",
                    ),
                ]
        session.commit()
    engine.dispose()
    return targets


def vop_checks(settings: Settings, count: int) -> tuple[str, list[dict[str, str]]]:
    """A bank's token and checks of the country's own accounts: most with the holder's name as the
    bank has it, some with another holder's name."""
    engine = create_db_engine(settings)
    with Session(engine) as session:
        rows = session.execute(
            text(
                "SELECT a.account_number, h.holder_name FROM bank_accounts a TABLESAMPLE SYSTEM (10) "
                "JOIN account_holders h ON h.account_id = a.id WHERE a.account_scheme = 'iban' LIMIT :n"
            ),
            {"n": count},
        ).all()
        bank = session.scalar(text("SELECT bic FROM banks ORDER BY id LIMIT 1"))
        token = issue_bank_token(session, bank_id=find_bank(session, bank).id, label="benchmark").token
        session.commit()
    engine.dispose()
    rng = random.Random(1)
    names = [name for _account, name in rows]
    checks = [{"account": account, "name": name if rng.random() < 0.9 else rng.choice(names)} for account, name in rows]
    return token, checks


def reads(settings: Settings, args: argparse.Namespace, wrk: str) -> dict[str, Any]:
    """The citizen's overview, payers' listings and verification of payee, over HTTP on one server."""
    assert settings.database_url is not None
    secrets, _sizes = open_sessions(settings.database_url, 2_000)
    targets = listing_targets(settings)
    bank_token, checks = vop_checks(settings, 20_000)
    with ExitStack() as stack:
        env = {"SALDO_FAST_PATH": "false"} if args.no_fast_path else {}
        if args.replica:
            env["SALDO_READ_REPLICA_URL"] = stack.enter_context(streaming_replica(database(args.persons)))
        return _reads(settings, args, wrk, secrets, targets, (bank_token, checks), env)


def _reads(
    settings: Settings,
    args: argparse.Namespace,
    wrk: str,
    secrets: list[str],
    targets: list[tuple[str, str, str]],
    vop: tuple[str, list[dict[str, str]]],
    env: dict[str, str],
) -> dict[str, Any]:
    bank_token, checks = vop
    server, base = start_server(settings, 1, extra_env=env)
    figures: dict[str, Any] = {"fast_path": not args.no_fast_path, "replica": args.replica}
    try:
        figures["read from"] = where_read(base, secrets[0], targets[0][1:])
        with tempfile.TemporaryDirectory() as tmp:
            cookies = Path(tmp) / "cookies.txt"
            cookies.write_text("\n".join(secrets) + "\n", encoding="utf-8")
            for name, path in (("citizen overview page", "/me"), ("citizen overview JSON", "/api/v1/me/overview")):
                script = Path(tmp) / "citizen.lua"
                script.write_text(f'path = "{path}"\n' + CITIZEN_LUA, encoding="utf-8")
                figures[name] = wrk_runs(wrk, base, script, args, (str(cookies),))
            for name, token, path in targets:
                script = Path(tmp) / "listing.lua"
                script.write_text(
                    f'path = "{path}"\nheaders = {{["Authorization"] = "Bearer {token}"}}\n' + GET_LUA,
                    encoding="utf-8",
                )
                figures[name] = wrk_runs(wrk, base, script, args)
            lines = Path(tmp) / "checks.ndjson"
            lines.write_text("\n".join(json.dumps(c) for c in checks) + "\n", encoding="utf-8")
            script = Path(tmp) / "vop.lua"
            script.write_text(
                VOP_LUA.replace(
                    "local checks = {}",
                    f"local checks = {{}}\npacing = {pacing_ms(8, 1_000, 1.5)}\n"
                    f'headers = {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer {bank_token}"}}',
                ),
                encoding="utf-8",
            )
            figures["verification of payee, paced at about 1,000/s"] = wrk_runs(wrk, base, script, args, (str(lines),))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return figures


def where_read(base: str, cookie: str, listing: tuple[str, str]) -> dict[str, str | None]:
    """What the server says it read each kind of page from (`Saldo-Read-From`), asked once before the
    runs: with --replica, the replica, which the figures would not show otherwise."""
    token, path = listing
    answers = {
        "citizen overview page": httpx.get(f"{base}/me", cookies={"saldo_session": cookie}),
        "citizen overview JSON": httpx.get(f"{base}/api/v1/me/overview", cookies={"saldo_session": cookie}),
        "payer's listing": httpx.get(f"{base}{path}", headers={"Authorization": f"Bearer {token}"}),
    }
    return {name: f"{answer.status_code} {answer.headers.get('saldo-read-from')}" for name, answer in answers.items()}


def writes(settings: Settings, args: argparse.Namespace, wrk: str) -> dict[str, Any]:
    """Single registration (paced) and a payer's file, on a copy of the database dropped after."""
    copy = copy_database(database(args.persons), database(args.persons) + "_w")
    copy = copy.model_copy(update={"data_dir": WORK / "national"})
    engine = create_db_engine(copy)
    with Session(engine) as session:
        payer_id = session.scalar(text("SELECT id FROM payers WHERE organisation_number = :o"), {"o": LARGEST})
        token = issue_token(session, payer_id=payer_id, label="benchmark").token
        session.commit()
    figures: dict[str, Any] = {}
    server, base = start_server(copy, 1)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            template = json.dumps(registration_body(folder(args.persons)))
            script = Path(tmp) / "register.lua"
            script.write_text(
                REGISTER_LUA.replace("__TEMPLATE__", template)
                .replace("__PACING__", str(pacing_ms(8, 1_000, 1.5)))
                .replace("__TOKEN__", token),
                encoding="utf-8",
            )
            figures["single registration, paced at about 1,000/s"] = wrk_runs(
                wrk, base, script, args, (uuid.uuid4().hex[:8],)
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    seconds = []
    for run in range(args.runs):
        path = file_of_new_payments(folder(args.persons), WORK / "national" / "file.csv", f"N{run}")
        began = time.perf_counter()
        with Session(engine) as session:
            outcome = ingest_file(session, copy, organisation_number=LARGEST, path=path, show_progress=False)
            session.commit()
        seconds.append(time.perf_counter() - began)
        assert isinstance(outcome, BatchAccepted), outcome
        path.unlink()
    figures[f"file ingest, {FILE_ROWS:,} payments"] = {
        "seconds_each": [round(s, 2) for s in seconds],
        "seconds": round(median(seconds), 2),
        "payments_per_second": round(FILE_ROWS / median(seconds)),
    }
    engine.dispose()
    drop_database(database(args.persons) + "_w")
    return figures


def registration_body(country: Path) -> dict[str, object]:
    """One payment of the largest payer's file, as the JSON a single registration sends."""
    with (country / "payments" / f"{LARGEST}.csv").open(encoding="utf-8", newline="") as handle:
        row = next(csv.DictReader(handle))
    body: dict[str, object] = {key: value for key, value in row.items() if value != ""}
    body["amount_minor"] = int(row["amount_minor"])
    body["reference"] = "__REF__"
    day = today()  # due this month, as a payer registering today would send it
    body.update(period_start=day.replace(day=1).isoformat(), period_end=day.isoformat(), due_date=day.isoformat())
    return body


def file_of_new_payments(country: Path, out: Path, tag: str) -> Path:
    """The first FILE_ROWS payments of the largest payer's file under new references: a new file."""
    with (country / "payments" / f"{LARGEST}.csv").open(encoding="utf-8", newline="") as source:
        reader = csv.DictReader(source)
        with out.open("w", encoding="utf-8", newline="") as sink:
            writer = csv.DictWriter(sink, fieldnames=reader.fieldnames or [])
            writer.writeheader()
            for number, row in enumerate(reader):
                if number >= FILE_ROWS:
                    break
                row["reference"] = f"{tag}-{row['reference']}"[:64]
                writer.writerow(row)
    return out


def keeping(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """A consistent backup and its checked restore; the analysis snapshot export."""
    engine = create_db_engine(settings)
    backups, restores, dumped = [], [], 0
    target = database(args.persons) + "_r"
    for run in range(args.runs):
        where = WORK / "national" / f"backup-{run}"
        shutil.rmtree(where, ignore_errors=True)
        taken = backup(engine, where, jobs=2)
        put_back = restore(where, empty_database(target), jobs=2)
        backups.append(taken.seconds)
        restores.append(put_back.seconds)
        dumped = taken.bytes
        shutil.rmtree(where)
        drop_database(target)
    engine.dispose()
    return {
        "backup": {"seconds_each": [round(s, 1) for s in backups], "seconds": round(median(backups), 1)},
        "backup_mib": round(dumped / 1024**2),
        "restore and check": {"seconds_each": [round(s, 1) for s in restores], "seconds": round(median(restores), 1)},
    }


def snapshots(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """The analysis snapshot export, each step timed; with --only snapshot, the process's peak memory
    (it does nothing else then)."""
    engine = create_db_engine(settings)
    exports, steps = [], []
    for _ in range(args.runs):
        stamps: list[tuple[str, float]] = []
        began = time.perf_counter()
        with unit_of_work(create_session_factory(engine)) as session:
            made = export_snapshot(
                session,
                settings,
                created_by="staff:benchmark",
                progress=lambda table, stamps=stamps: stamps.append((table, time.perf_counter())),
            )
        ended = time.perf_counter()
        exports.append(ended - began)
        ends = [at for _, at in stamps[1:]] + [ended]
        steps.append({table: round(end - at, 1) for (table, at), end in zip(stamps, ends, strict=True)})
        shutil.rmtree(made.path)
    engine.dispose()
    figures: dict[str, Any] = {
        "snapshot export": {
            "seconds_each": [round(s, 1) for s in exports],
            "seconds": round(median(exports), 1),
            "steps_of_the_median_run": steps[exports.index(sorted(exports)[len(exports) // 2])],
        }
    }
    if args.only == "snapshot":
        figures["snapshot export"]["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return figures


def upkeep(args: argparse.Namespace) -> None:
    """``saldo reindex`` (every index of payments and payment_events rebuilt concurrently) on a copy
    of the built year, brought to the newest migration: its time, and the storage before and after."""
    times, before, after = [], {}, {}
    target = database(args.persons) + "_reindex"
    for _ in range(args.runs):
        copy = copy_database(database(args.persons), target)
        engine = create_db_engine(copy)
        upgrade_database(engine)
        before = storage(copy)
        began = time.perf_counter()
        rebuild_indexes(engine)
        times.append(time.perf_counter() - began)
        after = storage(copy)
        engine.dispose()
        drop_database(target)
    report(
        f"national reindex, {args.persons:,} persons",
        {
            "reindex": {"seconds_each": [round(t, 1) for t in times], "seconds": round(median(times), 1)},
            "before": before,
            "after": after,
        },
    )


def peak_files(country: Path, out: Path, total: int) -> list[Path]:
    """Files of ``total`` new payments due on PEAK_DAY, one per payer: the payers' own payments of
    the year (every payer's file read in turn, again if need be) under new references, for November."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    sources = sorted((country / "payments").glob("*.csv"))
    writers: dict[str, Any] = {}
    handles = []
    written, rounds = 0, 0
    while written < total:
        rounds += 1
        for source in sources:
            with source.open(encoding="utf-8", newline="") as lines:
                reader = csv.DictReader(lines)
                if source.stem not in writers:
                    handle = (out / source.name).open("w", encoding="utf-8", newline="")
                    handles.append(handle)
                    writers[source.stem] = csv.DictWriter(handle, fieldnames=reader.fieldnames or [])
                    writers[source.stem].writeheader()
                for row in reader:
                    if written >= total:
                        break
                    row.update(
                        reference=f"P{rounds}-{row['reference']}"[:64],
                        due_date=PEAK_DAY.isoformat(),
                        period_start=PEAK_DAY.replace(day=1).isoformat(),
                        period_end=PEAK_DAY.isoformat(),
                    )
                    writers[source.stem].writerow(row)
                    written += 1
    for handle in handles:
        handle.close()
    return sorted(out.glob("*.csv"))


def peak(args: argparse.Namespace) -> None:
    """A peak day on a copy of the built year: PEAK_PAYMENTS new payments due on PEAK_DAY taken in
    from the payers' files, the account check, and the day's payment runs with pain.001 written and
    the bank's pain.002 and camt.054 read back; each stage timed, once (it needs a copy each time)."""
    work = WORK / "national-peak"  # the day's pain.001 files and the bank's answers, removed after
    files = peak_files(folder(args.persons), work / "files", args.peak_payments)
    target = database(args.persons) + "_peak"
    copy = copy_database(database(args.persons), target).model_copy(update={"data_dir": work})
    builder = Builder(copy)
    try:
        for path in files:

            def ingest(path: Path = path) -> None:
                with unit_of_work(builder.sessions) as session:
                    ingest_file(session, copy, organisation_number=path.stem, path=path, show_progress=False)

            builder.stage("payers' files", ingest)
        builder.stage("account check", lambda: run_account_check(builder.sessions))
        day = {"day": PEAK_DAY}
        due = builder.held("SELECT count(*) FROM payments WHERE due_date <= :day AND status = 'verified'", **day)
        builder.stage(
            "payment runs, pain.001 and the bank's answers",
            lambda: pay_out(builder.context, work, execution_date=PEAK_DAY),
        )
        with builder.engine.connect() as connection:
            outcome = dict(
                connection.execute(
                    text("SELECT status, count(*) FROM payments WHERE due_date = :day GROUP BY status"), day
                ).all()
            )
        report(
            f"national peak day, {args.persons:,} persons",
            {
                "new payments due on the day": args.peak_payments,
                "verified and due by the day, before its runs": due,
                "payments due on the day, by status after": outcome,
                "stages_seconds": builder.stages,
                "end_to_end_seconds": round(sum(builder.stages.values()), 1),
            },
        )
    finally:
        builder.engine.dispose()
        drop_database(target)
        shutil.rmtree(work, ignore_errors=True)


def archived(persons: int) -> tuple[Settings, dict[str, Any] | None]:
    """The built year with the archive job run on it as of the country's date (every month settled for
    two months by then: January to August), then vacuumed as autovacuum would, and its indexes rebuilt
    as the monthly index upkeep does that the schedule runs after the job (the job leaves the table's
    indexes thinned out: the largest payer's first 10,000 entries on 7,271 pages at 9.8 M). A copy,
    kept for measuring, and made again only when it holds no archive; the job's and the upkeep's
    times when it was made."""
    name = database(persons) + "_archived"
    settings = migrated_database(name, fresh=False)
    engine = create_db_engine(settings)
    with engine.connect() as connection:
        held = int(connection.scalar(text("SELECT count(*) FROM payments")) or 0)
        done = int(connection.scalar(text("SELECT count(*) FROM archived_payment_keys")) or 0)
    engine.dispose()
    if held and done:
        return settings, None
    settings = copy_database(database(persons), name)
    engine = create_db_engine(settings)
    upgrade_database(engine)
    began = time.perf_counter()
    months = archive_settled(create_session_factory(engine), today=AS_OF)
    job = {
        "seconds": round(time.perf_counter() - began, 1),
        "payments": sum(month.payments for month in months),
        "each_month_seconds": {f"{month.month:%Y-%m}": round(month.seconds, 1) for month in months},
    }
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    began = time.perf_counter()
    rebuild_indexes(engine)
    job["index_upkeep_after_it_seconds"] = round(time.perf_counter() - began, 1)
    engine.dispose()
    return settings, job


def archive(args: argparse.Namespace) -> None:
    """The archive job on copies of the built year (--runs of them): each month's time and the whole
    run's; the bytes a payment before, as the job leaves them (vacuumed), and compact (the table, the
    status history and the archive rewritten, as `VACUUM FULL` would and months of new payments and
    their transitions would fill)."""
    runs, before, left, compact = [], {}, {}, {}
    for _ in range(args.runs):
        copy = copy_database(database(args.persons), database(args.persons) + "_archive_run")
        engine = create_db_engine(copy)
        upgrade_database(engine)
        before = storage(copy)
        began = time.perf_counter()
        months = archive_settled(create_session_factory(engine), today=AS_OF)
        runs.append({"seconds": time.perf_counter() - began, "months": months})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
            left = storage(copy)
            connection.execute(text(f"VACUUM FULL payments, payment_events, {', '.join(ARCHIVE_TABLES)}"))
            compact = storage(copy)
        engine.dispose()
        drop_database(database(args.persons) + "_archive_run")
    whole = sorted(run["seconds"] for run in runs)
    by_month = {
        f"{month:%Y-%m}": {
            "payments": runs[0]["months"][i].payments,
            "seconds_median": round(sorted(run["months"][i].seconds for run in runs)[len(runs) // 2], 2),
        }
        for i, month in enumerate(m.month for m in runs[0]["months"])
    }
    report(
        f"the payment archive, {args.persons:,} persons, as of {AS_OF}",
        {
            "archive_seconds_median": round(whole[len(whole) // 2], 2),
            "archive_seconds_runs": [round(x, 2) for x in whole],
            "by_month": by_month,
            "storage_before": before,
            "storage_as_left": left,
            "storage_compact": compact,
        },
    )


def history(args: argparse.Namespace) -> None:
    """Decision 0040 on the year archived before it (`measure --archived` made that copy): the
    migration that moves the archived payments' histories into their keys, timed on copies (--runs of
    them), the bytes before and after, and a payment's history read one at a time, archived and in
    the table (2,000 of each, one thread)."""
    source = database(args.persons) + "_archived"
    runs, reads = [], []
    before = after = {}
    for _ in range(args.runs):
        copy = copy_database(source, database(args.persons) + "_history_run")
        engine = create_db_engine(copy)
        with engine.connect() as connection:
            if connection.scalar(text("SELECT to_regclass('payment_event_moments')")) is not None:
                raise SystemExit(f"{source} has its histories in its keys already: make it again before this part")
        before = storage(copy)
        began = time.perf_counter()
        upgrade_database(engine)
        runs.append(time.perf_counter() - began)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        after = storage(copy)
        sessions = create_session_factory(engine)
        with sessions() as session:
            repository = PaymentRepository(session)
            archived = list(
                session.scalars(text("SELECT id FROM archived_payment_keys ORDER BY hashint8(id) LIMIT 2000"))
            )
            kept = list(session.scalars(text("SELECT id FROM payments ORDER BY hashint8(id) LIMIT 2000")))
            timed: dict[str, Any] = {}
            for name, ids in (("archived", archived), ("in the table", kept)):
                read = time_each(lambda payment_id, r=repository: len(r.events(payment_id)), ids, digits=3)
                transitions = read.pop("found")
                timed[name] = read | {"transitions_per_payment": round(transitions / len(ids), 2)}
            reads.append(timed)
        engine.dispose()
        drop_database(database(args.persons) + "_history_run")
    middle = sorted(range(len(runs)), key=lambda i: runs[i])[len(runs) // 2]
    report(
        f"archived histories as moments, {args.persons:,} persons",
        {
            "migration_seconds_median": round(runs[middle], 2),
            "migration_seconds_runs": sorted(round(x, 2) for x in runs),
            "history_reads_each_run": reads,
            "storage_before": before,
            "storage_after": after,
        },
    )


def migration(settings: Settings, args: argparse.Namespace) -> None:
    """The newest migration on a populated database (the year as built, or with --archived its copy
    with the settled months archived), in place: down to the revision before it and up again, --runs
    times, each timed, the database vacuumed after each run. Each run ends at the head, as it began."""
    engine = create_db_engine(settings)
    config = alembic_config(engine)
    head = ScriptDirectory.from_config(config).get_revision("head")
    if head is None or not isinstance(head.down_revision, str):
        raise SystemExit("the migrations have no single head with one revision before it")
    runs = []
    for _ in range(args.runs):
        timed = {}
        for step, target in (("downgrade", head.down_revision), ("upgrade", "head")):
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                began = time.perf_counter()
                (command.downgrade if step == "downgrade" else command.upgrade)(config, target)
                timed[f"{step}_seconds"] = round(time.perf_counter() - began, 2)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        runs.append(timed)
    engine.dispose()
    name = f"the newest migration ({head.revision}, {head.doc}), {args.persons:,} persons"
    report(
        name + (", settled months archived" if args.archived else ""),
        {
            "upgrade_seconds_median": median([run["upgrade_seconds"] for run in runs]),
            "downgrade_seconds_median": median([run["downgrade_seconds"] for run in runs]),
            "runs": runs,
        },
    )


def measure(settings: Settings, args: argparse.Namespace, *, archive_job: dict[str, Any] | None = None) -> None:
    """Every figure of the table, or with --only one group of them (after a change that touches only it).
    With the archive job that made the archived copy just now, its time too."""
    wrk = ensure_wrk()
    figures: dict[str, Any] = {"storage": storage(settings)}
    if archive_job is not None:
        figures["the archive job that made this copy"] = archive_job
    if args.only in (None, "reads"):
        figures.update(reads(settings, args, wrk))
    if args.only in (None, "writes"):
        figures.update(writes(settings, args, wrk))
    if args.only in (None, "keeping"):
        figures.update(keeping(settings, args))
    if args.only in (None, "keeping", "snapshot"):
        figures.update(snapshots(settings, args))
    name = f"national, {args.persons:,} persons" + (f", {args.only}" if args.only else "")
    name += ", settled months archived" if args.archived else ""
    report(name + (", no fast path" if args.no_fast_path else "") + (", a replica" if args.replica else ""), figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["build", "measure", "reindex", "peak", "archive", "history", "migration"])
    parser.add_argument("--peak-payments", type=int, default=PEAK_PAYMENTS)
    parser.add_argument("--persons", type=int, default=145_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--only", choices=["reads", "writes", "keeping", "snapshot"], help="measure: one group of figures"
    )
    parser.add_argument(
        "--no-fast-path",
        action="store_true",
        help="measure: serve with SALDO_FAST_PATH=false, every request through the documented routes",
    )
    parser.add_argument(
        "--replica",
        action="store_true",
        help="measure: the reads with a streaming replica of the database beside it (SALDO_READ_REPLICA_URL)",
    )
    parser.add_argument(
        "--archived",
        action="store_true",
        help="measure, migration: on a copy of the year with its settled months archived as of the country's date",
    )
    parser.add_argument(
        "--reindex-monthly",
        action="store_true",
        help="build: `saldo reindex` after each month, in a database of its own",
    )
    parser.add_argument(
        "--archive-monthly",
        action="store_true",
        help="build: the archive job and the index upkeep on each month's 2nd, as the worker schedules them, "
        "in a database of its own",
    )
    args = parser.parse_args()
    if args.reindex_monthly or args.archive_monthly:
        if args.part != "build":
            parser.error("--reindex-monthly and --archive-monthly are for build only")
        build(args.persons, reindex_monthly=args.reindex_monthly, archive_monthly=args.archive_monthly)
        return
    settings = build(args.persons)
    if args.part == "measure":
        if args.archived:
            settings, job = archived(args.persons)
            measure(settings, args, archive_job=job)
        else:
            measure(settings, args)
    elif args.part == "archive":
        archive(args)
    elif args.part == "history":
        history(args)
    elif args.part == "migration":
        migration(archived(args.persons)[0] if args.archived else settings, args)
    elif args.part == "reindex":
        upkeep(args)
    elif args.part == "peak":
        peak(args)


if __name__ == "__main__":
    main()
