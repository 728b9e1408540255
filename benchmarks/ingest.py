"""File ingestion: validate + store a payer's nightly CSV file, all or nothing.

Targets (issue: payment registry): >= 100,000 payments/s on 2 cores; a 3-million-payment file in
under 30 s; memory that does not grow with file size.

    uv run python benchmarks/ingest.py [--persons 950000] [--runs 3]

Generates a synthetic country, then ingests Försäkringskassan's file (the largest) into a fresh
database per run, in a child process so its peak memory can be read. Also ingests a file a third
the size, to compare peak memory."""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from benchmarks.common import WORK, drop_database, fresh_database, median, report
from saldo.cli.accounts import connect_country_banks
from saldo.cli.ingest import ingest_file
from saldo.cli.payers import import_payers_file
from saldo.db.engine import create_db_engine
from saldo.kit.clock import today
from saldo.payees.service import resolve_payees
from saldo.payments.schemas import BatchAccepted
from saldo.synthetic.country import generate_country

PAYER = "2021005521"  # Försäkringskassan: the largest file


def ingest_once(country: Path, path: Path, database: str, payees_known: bool, queue: Any) -> None:
    settings = fresh_database(database)
    engine = create_db_engine(settings)
    with Session(engine) as session:
        connect_country_banks(session, country)  # the payers' banks, named in payers.csv
        import_payers_file(session, country / "payers.csv")
        session.commit()
    if payees_known:  # as after the population register is loaded: every person already has an account
        with (country / "persons.csv").open(encoding="utf-8", newline="") as handle:
            keys = [(row["id_scheme"], row["identifier"]) for row in csv.DictReader(handle)]
        with Session(engine) as session:
            for start in range(0, len(keys), 200_000):
                resolve_payees(session, keys[start : start + 200_000])
            session.commit()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS mark to what is in use now
    base_rss = _status_kib("VmRSS")
    started = time.perf_counter()
    with Session(engine) as session:
        outcome = ingest_file(session, settings, organisation_number=PAYER, path=path, show_progress=False)
        session.commit()
    elapsed = time.perf_counter() - started
    assert isinstance(outcome, BatchAccepted), outcome
    peak = _status_kib("VmHWM")
    queue.put(
        {
            "seconds": elapsed,
            "payments": outcome.registered,
            "peak_rss_mib": peak / 1024,
            "rss_before_mib": base_rss / 1024,
        }
    )


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def measure(country: Path, path: Path, runs: int, *, payees_known: bool) -> dict[str, Any]:
    results = []
    for run in range(runs):
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        child = context.Process(
            target=ingest_once, args=(country, path, f"saldo_bench_ingest_{run}", payees_known, queue)
        )
        child.start()
        results.append(queue.get())
        child.join()
        drop_database(f"saldo_bench_ingest_{run}")
    seconds = median([r["seconds"] for r in results])
    payments = results[0]["payments"]
    return {
        "payments": payments,
        "runs": runs,
        "seconds_each": [round(r["seconds"], 2) for r in results],
        "median_seconds": round(seconds, 2),
        "payments_per_second": round(payments / seconds),
        "peak_rss_mib": round(max(r["peak_rss_mib"] for r in results)),
        "rss_before_ingest_mib": round(max(r["rss_before_mib"] for r in results)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=950_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    country = WORK / f"country-{args.persons}"
    if not (country / "manifest.json").exists():
        generate_country(country, persons=args.persons, seed=1, as_of=today())
    full = country / "payments" / f"{PAYER}.csv"
    third = WORK / "third.csv"
    rows = sum(1 for _ in full.open(encoding="utf-8")) - 1
    with full.open(encoding="utf-8") as source, third.open("w", encoding="utf-8") as sink:
        for number, line in enumerate(source):
            if number > rows // 3:
                break
            sink.write(line)
    first_load = measure(country, full, args.runs, payees_known=False)
    steady = measure(country, full, args.runs, payees_known=True)
    small = measure(country, third, args.runs, payees_known=True)
    report(
        "ingest",
        {
            "file": f"{full.stat().st_size / 1024**2:.0f} MiB CSV, {steady['payments']:,} payments",
            "first_load_every_payee_new": first_load,
            "payees_already_registered": steady,
            "third_of_file_payees_registered": small,
            "memory_ratio_full_to_third": round(steady["peak_rss_mib"] / small["peak_rss_mib"], 2),
        },
    )


if __name__ == "__main__":
    main()
