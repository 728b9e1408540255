"""Backup and restore: a consistent backup of a database holding a peak day's payments (`saldo
backup`: every table counted in one snapshot, PostgreSQL's dump of the same snapshot), and its
restore into an empty database with every table checked against the backup's manifest (`saldo
restore`).

    .venv/bin/python -m benchmarks.backup_restore [--persons 950000] [--runs 3] [--jobs 2]

The data: Försäkringskassan's file of a synthetic country of 950,000 persons (2.6 to 3.1 million
payments, by the day the country is generated for), ingested once into `saldo_bench_backup` and
kept for later runs. Each run backs it up into a new folder and restores that into a new
database. No target (issue: national scale asks for the time of each, measured)."""

from __future__ import annotations

import argparse
import shutil
import time

from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.common import WORK, drop_database, empty_database, median, migrated_database, report
from saldo.cli.accounts import connect_country_banks
from saldo.cli.ingest import ingest_file
from saldo.cli.payers import import_payers_file
from saldo.db.backup import backup, restore
from saldo.db.engine import create_db_engine
from saldo.kit.clock import today
from saldo.synthetic.country import generate_country

PAYER = "2021005521"  # Försäkringskassan: the largest file
SOURCE = "saldo_bench_backup"
TARGET = "saldo_bench_restored"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=950_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    country = WORK / f"country-{args.persons}"
    if not (country / "manifest.json").exists():
        generate_country(country, persons=args.persons, seed=1, as_of=today())
    settings = migrated_database(SOURCE, fresh=False)
    engine = create_db_engine(settings)
    with engine.connect() as connection:
        held = int(connection.execute(text("SELECT count(*) FROM payments")).scalar_one())
    if held == 0:
        began = time.perf_counter()
        with Session(engine) as session:
            connect_country_banks(session, country)
            import_payers_file(session, country / "payers.csv")
            ingest_file(session, settings, organisation_number=PAYER, path=country / "payments" / f"{PAYER}.csv")
            session.commit()
        print(f"ingested in {time.perf_counter() - began:.1f} s")
    with engine.connect() as connection:
        payments = int(connection.execute(text("SELECT count(*) FROM payments")).scalar_one())
        size = int(connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
        per_payment = int(connection.execute(text("SELECT pg_total_relation_size('payments')")).scalar_one()) / payments
    backups, restores, dumped = [], [], 0
    for run in range(args.runs):
        folder = WORK / f"backup-{run}"
        shutil.rmtree(folder, ignore_errors=True)
        taken = backup(engine, folder, jobs=args.jobs)
        put_back = restore(folder, empty_database(TARGET), jobs=args.jobs)  # a new database, no schema
        backups.append(taken.seconds)
        restores.append(put_back.seconds)
        dumped = taken.bytes
        shutil.rmtree(folder)
    drop_database(TARGET)
    engine.dispose()
    report(
        "backup_restore",
        {
            "payments": payments,
            "database_bytes": size,
            "payments_table_bytes_per_payment_with_indexes": round(per_payment),
            "backup_bytes": dumped,
            "jobs": args.jobs,
            "backup_seconds": [round(s, 1) for s in backups],
            "backup_seconds_median": round(median(backups), 1),
            "restore_and_check_seconds": [round(s, 1) for s in restores],
            "restore_and_check_seconds_median": round(median(restores), 1),
        },
    )


if __name__ == "__main__":
    main()
