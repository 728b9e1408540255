"""The access log: what writing an entry adds to a request, and verifying a long chain.

Targets (issue: audit): writing an entry adds < 2 ms to a request; verifying a chain of 10 million
entries takes under a minute.

    uv run python benchmarks/access_log.py [--entries 10000000] [--requests 2000] [--runs 3]

1. Write: a request-sized transaction (read a case's row, commit) timed without and with one
   access-log entry, alternating, one client and then 4 concurrent clients (they queue on the
   chain's head). The added time is the difference of the medians (and of the 99th percentiles).
2. Verify: a chain of ``--entries`` entries (built once by the database itself, entry after entry,
   through the same digest, and kept in .saldo/bench), verified end to end ``--runs`` times."""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from benchmarks.common import median, migrated_database, report
from saldo.accesslog.service import Access, log_access, verify_chain
from saldo.db.engine import create_db_engine

# Appends in the database, a million per transaction, exactly as access_log_append chains them.
BUILD = """
DO $$ DECLARE n bigint; BEGIN
  FOR n IN 1..:count LOOP
    PERFORM access_log_append('bench.auditor', 'auditor', 'api', 'read_case', 'se_personnummer',
                              lpad(mod(n, 9999999)::text, 12, '19'), mod(n, 50000), 'case work',
                              jsonb_build_object('n', n));
  END LOOP;
END $$
"""


def _request(engine: Engine, with_entry: bool, n: int) -> float:
    started = time.perf_counter()
    with Session(engine) as session:
        session.execute(text("SELECT id, status FROM cases WHERE id = :id"), {"id": n})
        if with_entry:
            log_access(
                session,
                Access(
                    actor="bench.auditor",
                    role="auditor",
                    action="read_case",
                    purpose="case work",
                    person_scheme="se_personnummer",
                    person_id="198001011234",
                    case_id=n,
                ),
            )
        session.commit()
    return time.perf_counter() - started


def _timings(engine: Engine, requests: int, clients: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"without": [], "with": []}
    lock = threading.Lock()

    def client(k: int) -> None:
        for i in range(requests // clients):
            for kind in ("without", "with") if i % 2 else ("with", "without"):
                seconds = _request(engine, kind == "with", k * requests + i)
                with lock:
                    results[kind].append(seconds)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    figures = write_figures(args.requests)
    figures.update(verify_figures(args.entries, args.runs))
    report("access log", figures)


def write_figures(requests: int) -> dict[str, object]:
    writes = migrated_database("saldo_bench_access_write", fresh=True)
    engine = create_db_engine(writes)
    figures: dict[str, object] = {}
    for clients in (1, 4):
        _timings(engine, 200, clients)  # warm the pool and the caches
        timed = _timings(engine, requests, clients)
        added = median(timed["with"]) - median(timed["without"])
        figures[f"{clients} client(s): request without entry, median (ms)"] = round(1000 * median(timed["without"]), 3)
        figures[f"{clients} client(s): request with entry, median (ms)"] = round(1000 * median(timed["with"]), 3)
        figures[f"{clients} client(s): added by the entry, median (ms)"] = round(1000 * added, 3)
        figures[f"{clients} client(s): added by the entry, p99 (ms)"] = round(
            1000 * (_p99(timed["with"]) - _p99(timed["without"])), 3
        )
    written = verify_chain(engine)
    if not written.intact:
        raise SystemExit(f"the written chain does not verify: {written.faults}")
    figures["entries written and verified"] = written.entries
    engine.dispose()
    return figures


def verify_figures(entries: int, runs: int) -> dict[str, object]:
    figures: dict[str, object] = {}
    chain = migrated_database(f"saldo_bench_access_chain_{entries}", fresh=False)
    engine = create_db_engine(chain)
    with engine.connect() as connection:
        have = int(connection.execute(text("SELECT count(*) FROM access_log")).scalar_one())
    if have != entries:
        engine.dispose()
        chain = migrated_database(f"saldo_bench_access_chain_{entries}", fresh=True)
        engine = create_db_engine(chain)
        started = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            left = entries
            while left:
                batch = min(left, 1_000_000)
                connection.exec_driver_sql(BUILD.replace(":count", str(batch)))
                left -= batch
                print(f"built {entries - left:,} entries in {time.perf_counter() - started:.0f} s", flush=True)
            connection.exec_driver_sql("VACUUM ANALYZE access_log")
        figures["chain built in (s)"] = round(time.perf_counter() - started, 1)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        result = verify_chain(engine, workers=2)
        seconds.append(time.perf_counter() - started)
        if not result.intact or result.entries != entries:
            raise SystemExit(f"the chain does not verify: {result.faults}")
    figures["chain entries"] = entries
    figures["verify, median (s)"] = round(median(seconds), 1)
    figures["verify runs (s)"] = [round(s, 1) for s in seconds]
    figures["verified entries/s"] = round(entries / median(seconds))
    with engine.connect() as connection:
        figures["access_log size"] = connection.execute(
            text("SELECT pg_size_pretty(pg_total_relation_size('access_log'))")
        ).scalar_one()
    engine.dispose()
    return figures


if __name__ == "__main__":
    main()
