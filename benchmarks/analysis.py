"""The analysis at Swedish scale.

Targets (issue: data analysis): every rule over a year of a country at Swedish scale, 100 million
payments and 10 million persons, in under 10 minutes on 2 cores with DuckDB; per-person-per-month
rules at >= 15 million rows/s; the scaling at 1, 10 and 100 million payments; a snapshot export of
10 million payments from PostgreSQL in under 2 minutes.

    uv run python benchmarks/analysis.py rules [--base-persons 145000] [--copies 1,10,100] [--runs 3]
    uv run python benchmarks/analysis.py cluster [--base-persons 145000] [--copies 1,10] [--runs 1]
        [--worker-memory 8]
    uv run python benchmarks/analysis.py export [--persons 1450000] [--runs 3]

rules:  a country of --base-persons (about a million payments, with the planted anomalies) is
        generated, loaded into PostgreSQL through the same paths as payers' and registers' files,
        and snapshotted. The snapshot is then copied k times in DuckDB, every pseudonym re-keyed per
        copy (md5 of key and copy number, the same 32 hex digits a real pseudonym has), giving k
        independent countries of the same shape. All the rules run with DuckDB on 2 threads, each
        size --runs times; the findings must be exactly k times the base's.
cluster: the same base country and copies, every rule on a Spark standalone cluster started here (a
        master and two workers of one core and --worker-memory GiB each, each a JVM process of its
        own) and with DuckDB on 2 threads: both timed, and their findings must be the same.
export: a country of --persons (about 10 million payments) is loaded once into its own database,
        then `export_snapshot` runs --runs times against it."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import text

from benchmarks.common import WORK, median, migrated_database, report
from saldo.analysis.service.backends.duckdb import DuckDbEngine
from saldo.analysis.service.backends.spark import SparkEngine
from saldo.analysis.service.catalogue import load_catalogue
from saldo.analysis.service.compile import compile_rule
from saldo.analysis.service.run import execute_rules
from saldo.analysis.service.snapshot import export_snapshot
from saldo.cli.country import load_country as load_country_files
from saldo.db.engine import create_db_engine, create_session_factory, unit_of_work
from saldo.settings import Settings
from saldo.synthetic.country import generate_country
from tests.analysis.spark_cluster import standalone_cluster

AS_OF = dt.date(2026, 11, 22)
PER_PERSON_MONTH = "earnings_beside_full_time_benefit"  # joins each person's month of payments and earnings

# How a copy re-keys each table: every pseudonym gets md5(key || copy); ids are offset per copy.
COPIES: dict[str, str] = {
    "payments": """payment_id + r * {stride} AS payment_id, payer_id, md5(payee_key || r) AS payee_key, payee_kind,
        benefit, amount_minor, currency, md5(decision_key || r) AS decision_key, period_start, period_end,
        period_month, due_date, md5(account_key || r) AS account_key, status""",
    "persons": """md5(person_key || r) AS person_key, md5(previous_key || r) AS previous_key, sex, birth_month,
        death_date, emigration_date, immigration_date, md5(household_key || r) AS household_key, municipality_code,
        region_code, residence_permit_until""",
    "income": "md5(person_key || r) AS person_key, md5(employer_key || r) AS employer_key, month, amount_minor",
    "person_links": "md5(person_key || r) AS person_key, md5(linked_key || r) AS linked_key, match_probability",
    "organisation_links": """md5(organisation_key || r) AS organisation_key, md5(linked_key || r) AS linked_key,
        match_probability""",
    "decisions": """md5(decision_key || r) AS decision_key, payer_id, md5(payee_key || r) AS payee_key, benefit,
        period_start, period_end, amount_minor, currency, household_size, declared_income_minor""",
}


def load_country(settings: Settings, folder: Path) -> None:
    """The country into the registry the way payers, banks and registers deliver it."""
    engine = create_db_engine(settings)
    load_country_files(create_session_factory(engine), settings, folder, loaded_by="staff:benchmark")
    engine.dispose()


def snapshot_of(settings: Settings) -> Path:
    engine = create_db_engine(settings)
    with unit_of_work(create_session_factory(engine)) as session:
        folder = Path(export_snapshot(session, settings, created_by="staff:benchmark").path)
    engine.dispose()
    return folder


def copied(base: Path, copies: int, out: Path) -> Path:
    """``copies`` re-keyed copies of the snapshot in ``base``, as a snapshot folder in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    # Order does not matter to the rules; keeping it would make DuckDB buffer the copy on disk.
    connection = duckdb.connect(
        config={"threads": 2, "preserve_insertion_order": False, "temp_directory": str(out.parent / "duckdb-tmp")}
    )
    stride = connection.execute(f"SELECT max(payment_id) + 1 FROM read_parquet('{base}/payments.parquet')").fetchone()
    for path in base.glob("*.parquet"):
        name = path.stem
        if name in COPIES:
            columns = COPIES[name].format(stride=stride[0] if stride else 0)
            source = f"(SELECT {columns} FROM read_parquet('{path}'), range({copies}) AS t(r))"
        else:
            source = f"(SELECT * FROM read_parquet('{path}'))"
        connection.execute(f"COPY {source} TO '{out / path.name}' (FORMAT parquet, COMPRESSION zstd)")
    connection.close()
    return out


def run_rules(folder: Path) -> tuple[float, dict[str, float], int, int]:
    """Seconds for all rules, seconds per rule, findings, and payments plus income rows."""
    engine = DuckDbEngine(folder, threads=2, temp_directory=folder.parent / "duckdb-tmp")
    seconds: dict[str, float] = {}
    findings = 0
    started = time.perf_counter()
    for rule in load_catalogue():
        begun = time.perf_counter()
        findings += engine.run(compile_rule(rule, "duckdb")).num_rows
        seconds[rule.id] = time.perf_counter() - begun
    total = time.perf_counter() - started
    rows = engine.connection.execute(
        "SELECT (SELECT count(*) FROM payments) + (SELECT count(*) FROM income)"
    ).fetchone()
    engine.close()
    return total, seconds, findings, int(rows[0]) if rows else 0


def base_snapshot(work: Path, base_persons: int) -> Path:
    """The base country (seed 5, with its planted anomalies), loaded and snapshotted in ``work``."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    settings = migrated_database("saldo_bench_analysis", fresh=True)
    settings = settings.model_copy(update={"data_dir": work})
    started = time.perf_counter()
    generate_country(work / "country", persons=base_persons, seed=5, as_of=AS_OF)
    load_country(settings, work / "country")
    base = snapshot_of(settings)
    print(f"base country of {base_persons:,} persons loaded and snapshotted in {time.perf_counter() - started:.0f} s")
    return base


def bench_rules(base_persons: int, copies: list[int], runs: int) -> None:
    work = WORK / "analysis"
    base = base_snapshot(work, base_persons)
    base_findings = None
    for k in copies:
        folder = copied(base, k, work / f"x{k}")
        engine = duckdb.connect()
        payments, persons = engine.execute(
            f"SELECT (SELECT count(*) FROM read_parquet('{folder}/payments.parquet')),"
            f" (SELECT count(*) FROM read_parquet('{folder}/persons.parquet'))"
        ).fetchone() or (0, 0)
        engine.close()
        totals, per_rule, found, rows = [], {}, 0, 0
        for _ in range(runs):
            total, seconds, found, rows = run_rules(folder)
            totals.append(total)
            for rule, s in seconds.items():
                per_rule.setdefault(rule, []).append(s)
        base_findings = base_findings if base_findings is not None else found // k
        assert found == base_findings * k, f"{found} findings on {k} copies of a base with {base_findings}"
        ppm = median(per_rule[PER_PERSON_MONTH])
        report(
            f"analysis rules, {payments:,} payments, {persons:,} persons",
            {
                "all rules (s)": round(median(totals), 1),
                "findings": found,
                f"{PER_PERSON_MONTH} rows/s": round(rows / ppm),
                **{f"{rule} (s)": round(median(s), 2) for rule, s in per_rule.items()},
            },
        )
        if k != copies[-1]:
            shutil.rmtree(folder)


def timed_rules(engine: Any, rules: list[Any]) -> tuple[float, dict[str, float], list[Any]]:
    """Seconds for all rules, seconds per rule, and the findings, on ``engine``."""
    each: dict[str, float] = {}

    def took(rule: Any, _rows: int, seconds: float) -> None:
        each[rule.id] = seconds

    started = time.perf_counter()
    found = execute_rules(engine, rules, on_rule=took)
    return time.perf_counter() - started, each, found


def bench_cluster(base_persons: int, copies: list[int], runs: int, memory_gib: int) -> None:
    """Every rule on a Spark standalone cluster (a master and two workers of one core each, separate
    JVM processes on this machine) beside DuckDB on 2 threads, on the same copies of the snapshot:
    the time of each, and the findings, which must be the same."""
    work = WORK / "analysis-cluster"
    base = base_snapshot(work, base_persons)
    # the executors' and the driver's memory, before the first (and only) Spark session starts
    os.environ["PYSPARK_SUBMIT_ARGS"] = (
        f"--executor-memory {memory_gib - 1}g --driver-memory {max(2, memory_gib // 2)}g pyspark-shell"
    )
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # the executors call the driver back here
    (work / "cluster").mkdir()
    rules = load_catalogue()
    with standalone_cluster(work / "cluster", workers=2, memory=f"{memory_gib}g") as (master, _ui):
        for k in copies:
            folder = copied(base, k, work / f"x{k}")
            payments = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{folder}/payments.parquet')")
            counted = (payments.fetchone() or (0,))[0]
            timed: dict[str, list[float]] = {"duckdb": [], "spark cluster": []}
            per_rule: dict[str, dict[str, list[float]]] = {"duckdb": {}, "spark cluster": {}}
            found: dict[str, list[Any]] = {}
            executors = 0
            for _ in range(runs):
                for name, times in timed.items():
                    if name == "duckdb":
                        engine: Any = DuckDbEngine(folder, threads=2, temp_directory=work / "duckdb-tmp")
                    else:
                        engine = SparkEngine(folder, master=master, threads=2)
                        executors = engine.session.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1
                    seconds, each, found[name] = timed_rules(engine, rules)
                    engine.close()
                    times.append(seconds)
                    for rule, took in each.items():
                        per_rule[name].setdefault(rule, []).append(took)
            assert found["duckdb"] == found["spark cluster"], f"the cluster found otherwise than DuckDB on {k} copies"
            assert executors == 2, f"{executors} executors: the work did not go to the cluster's two workers"
            report(
                f"analysis rules on a spark cluster and duckdb, {counted:,} payments",
                {
                    "master": master,
                    "executors": executors,
                    "findings, the same on both": len(found["duckdb"]),
                    **{f"all rules, {name} (s)": round(median(seconds), 1) for name, seconds in timed.items()},
                    **{
                        f"{rule} (s)": {name: round(median(per_rule[name][rule]), 2) for name in per_rule}
                        for rule in per_rule["duckdb"]
                    },
                },
            )
            shutil.rmtree(folder)


def bench_export(persons: int, runs: int) -> None:
    settings = migrated_database("saldo_bench_analysis_export", fresh=False)
    work = WORK / "analysis-export"
    settings = settings.model_copy(update={"data_dir": work})
    engine = create_db_engine(settings)
    with engine.connect() as connection:
        payments = int(connection.scalar(text("SELECT count(*) FROM payments")) or 0)
    if payments == 0:
        shutil.rmtree(work, ignore_errors=True)
        started = time.perf_counter()
        generate_country(work / "country", persons=persons, seed=9, as_of=AS_OF)
        load_country(settings, work / "country")
        with engine.connect() as connection:
            payments = int(connection.scalar(text("SELECT count(*) FROM payments")) or 0)
            connection.execute(text("COMMIT"))
        print(f"{payments:,} payments loaded in {time.perf_counter() - started:.0f} s")
    engine.dispose()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        folder = snapshot_of(settings)
        seconds.append(time.perf_counter() - started)
        shutil.rmtree(folder)
    report(
        f"snapshot export, {payments:,} payments",
        {"seconds": round(median(seconds), 1), "payments/s": round(payments / median(seconds))},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["rules", "cluster", "export"])
    parser.add_argument("--base-persons", type=int, default=145_000)
    parser.add_argument("--copies", default="1,10,100", help="Copies of the base country, comma-separated.")
    parser.add_argument("--persons", type=int, default=1_450_000, help="Country size for the export part.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--worker-memory", type=int, default=8, help="GiB each cluster worker offers (cluster part).")
    args = parser.parse_args()
    copies = [int(c) for c in args.copies.split(",")]
    if args.part == "rules":
        bench_rules(args.base_persons, copies, args.runs)
    elif args.part == "cluster":
        bench_cluster(args.base_persons, copies, args.runs, args.worker_memory)
    else:
        bench_export(args.persons, args.runs)


if __name__ == "__main__":
    main()
