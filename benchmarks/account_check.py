"""The pre-payment account check on a large batch, and loading banks' register files.

Target (issue: account register): the pre-payment check of a 3-million-payment batch in under
2 minutes. Also measured: bank register files through the real file path (accounts per second).

    uv run python benchmarks/account_check.py [--persons 950000] [--runs 3]

Generates (or reuses) the synthetic country, ingests Försäkringskassan's file (about 3.1 million
payments for 950,000 persons) into a fresh database, loads every bank's register file with
`load_bank_file` (timed), then runs the check on the batch --runs times the way `saldo payments
check-accounts` does (parts of 500,000 payments, two at a time, each committed), resetting the
batch to `registered` and vacuuming between runs so every run checks the same 3 million payments.
Each run must hold exactly the payments the generator gave a wrong account."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.common import WORK, drop_database, fresh_database, median, report
from saldo.cli.accounts import connect_country_banks, import_bank_register
from saldo.cli.ingest import ingest_file
from saldo.cli.payers import import_payers_file
from saldo.db.engine import create_db_engine, create_session_factory
from saldo.kit.clock import today
from saldo.payments.jobs import run_account_check
from saldo.payments.models import AccountCheck
from saldo.payments.schemas import BatchAccepted
from saldo.synthetic.country import FORMAT_VERSION, generate_country

PAYER = "2021005521"  # Försäkringskassan: the largest file
DATABASE = "saldo_bench_check"


def country_for(persons: int) -> Path:
    country = WORK / f"country-{persons}"
    manifest = country / "manifest.json"
    current = manifest.exists() and json.loads(manifest.read_text(encoding="utf-8"))["format_version"] == FORMAT_VERSION
    if not current:
        generate_country(country, persons=persons, seed=1, as_of=today())
    return country


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=950_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    country = country_for(args.persons)
    manifest = json.loads((country / "manifest.json").read_text(encoding="utf-8"))
    planted = manifest["wrong_accounts"][f"payments/{PAYER}.csv"]
    settings = fresh_database(DATABASE)
    engine = create_db_engine(settings)
    with Session(engine) as session:
        connect_country_banks(session, country)  # the payers' banks, named in payers.csv
        import_payers_file(session, country / "payers.csv")
        outcome = ingest_file(
            session,
            settings,
            organisation_number=PAYER,
            path=country / "payments" / f"{PAYER}.csv",
            show_progress=False,
        )
        assert isinstance(outcome, BatchAccepted), outcome
        session.commit()
    started = time.perf_counter()
    with Session(engine) as session:
        loaded = import_bank_register(session, country, settings)
        session.commit()
    load_seconds = time.perf_counter() - started
    accounts = sum(r.accounts for r in loaded.values())
    rows = sum(r.rows for r in loaded.values())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    runs = []
    sessions = create_session_factory(engine)
    for _ in range(args.runs):
        started = time.perf_counter()
        summary = run_account_check(sessions, batch_id=outcome.batch_id, workers=args.workers)
        seconds = time.perf_counter() - started
        assert summary.checked == outcome.registered, summary
        assert summary.held == {
            AccountCheck.NOT_HOLDER: planted["someone_elses"],
            AccountCheck.ACCOUNT_CLOSED: planted["closed"],
            AccountCheck.ACCOUNT_UNKNOWN: planted["unknown"],
        }, (summary.held, planted)
        runs.append({"seconds": round(seconds, 1), "verified": summary.verified, "held": sum(summary.held.values())})
        with engine.begin() as connection:  # back to registered for the next run (benchmark only)
            connection.execute(
                text("UPDATE payments SET status = 'registered', account_check = NULL WHERE batch_id = :b"),
                {"b": outcome.batch_id},
            )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE payments"))
            connection.execute(text("VACUUM ANALYZE payment_events"))
    engine.dispose()
    drop_database(DATABASE)
    seconds = median([r["seconds"] for r in runs])
    report(
        "account_check",
        {
            "persons": args.persons,
            "payments_in_batch": outcome.registered,
            "bank_files": {
                "files": len(loaded),
                "rows": rows,
                "accounts": accounts,
                "seconds": round(load_seconds, 1),
                "accounts_per_second": round(accounts / load_seconds),
            },
            "check_runs": runs,
            "check_median_seconds": seconds,
            "check_payments_per_second": round(outcome.registered / seconds),
            "held_as_planted": planted,
        },
    )


if __name__ == "__main__":
    main()
