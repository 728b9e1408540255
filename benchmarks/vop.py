"""Verification of payee against a register of 10 million accounts.

Targets (issue: account register): single checks over HTTP >= 2,000/s sustained on 2 cores with
p50 < 10 ms and p99 < 100 ms; bulk verification of 1 million account/name pairs in under 5 minutes.

    uv run python benchmarks/vop.py [--accounts 10000000] [--workers 2] [--connections 32]
                                    [--seconds 20] [--runs 3] [--bulk 1000000]

The register is built once with set-based SQL (10 million accounts, 5 % of them joint, names from
the synthetic country's name lists) in its own database, kept between runs (drop it with --rebuild).
Loading through the bank-file path is measured by benchmarks/account_check.py. The single checks run
through `saldo serve` driven by wrk (Debian package `wrk`) on the same machine, first paced at the
target rate (--rate; latency at a sustained load), then flat out (the most it can do); requests cycle
through 100,000 prepared checks: exact names, name variants (order, initials, diacritics, typos),
someone else's name, and unknown accounts. Bulk sends 100 requests of 10,000 checks, two at a time."""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.common import ensure_wrk, median, migrated_database, pacing_ms, report, run_wrk, start_server
from saldo.banks.service import create_bank, find_bank, issue_bank_token
from saldo.db.engine import create_db_engine
from saldo.settings import Settings
from saldo.synthetic.names import FEMALE_NAMES, MALE_NAMES, SURNAMES

DATABASE = "saldo_bench_vop"
GIVEN = MALE_NAMES + FEMALE_NAMES

# IBAN of account i: bank code 500 and i as the 17-digit account number, ISO 7064 check digits.
_IBAN = (
    "'SE' || lpad((98 - mod(('500' || lpad(i::text, 17, '0') || '281400')::numeric, 97))::text, 2, '0')"
    " || '500' || lpad(i::text, 17, '0')"
)
BUILD = [
    f"INSERT INTO bank_accounts (account_scheme, account_number, bank_id, opened_on) "
    f"SELECT 'iban', {_IBAN}, :bank_id, date '2000-01-01' + (i % 9000) FROM generate_series(1, :n) AS i",
    "INSERT INTO account_holders (account_id, holder_scheme, holder_identifier, holder_kind, holder_name, held_from) "
    "SELECT a.id, 'se_personnummer', lpad(a.id::text, 12, '0'), 'person', "
    "(CAST(:given AS text[]))[1 + a.id % cardinality(CAST(:given AS text[]))] || ' ' || "
    "(CAST(:surnames AS text[]))[1 + (a.id / 131) % cardinality(CAST(:surnames AS text[]))], a.opened_on "
    "FROM bank_accounts a",
    # 5 % joint accounts: a second holder with the same surname
    "INSERT INTO account_holders (account_id, holder_scheme, holder_identifier, holder_kind, holder_name, held_from) "
    "SELECT a.id, 'se_personnummer', lpad((a.id + 100000000)::text, 12, '0'), 'person', "
    "(CAST(:given AS text[]))[1 + (a.id * 7) % cardinality(CAST(:given AS text[]))] || ' ' || "
    "(CAST(:surnames AS text[]))[1 + (a.id / 131) % cardinality(CAST(:surnames AS text[]))], a.opened_on "
    "FROM bank_accounts a WHERE a.id % 20 = 0",
]


def iban(i: int) -> str:
    bban = f"500{i:017d}"
    return f"SE{98 - int(bban + '281400') % 97:02d}{bban}"


def holder_name(i: int) -> str:
    return f"{GIVEN[i % len(GIVEN)]} {SURNAMES[(i // 131) % len(SURNAMES)]}"


def register_settings(accounts: int, rebuild: bool) -> tuple[Settings, str]:
    """The benchmark register (built now if missing) and a bank token for it."""
    settings = migrated_database(DATABASE, fresh=rebuild)
    engine = create_db_engine(settings)
    with Session(engine) as session:
        count = session.scalar(text("SELECT count(*) FROM bank_accounts")) or 0
        if count != accounts:
            if count:
                raise SystemExit(f"{DATABASE} holds {count} accounts, not {accounts}; pass --rebuild")
            started = time.perf_counter()
            bank = create_bank(session, bic="ESSESESS", name="SEB")
            params = {"bank_id": bank.id, "n": accounts, "given": GIVEN, "surnames": SURNAMES}
            for statement in BUILD:
                session.execute(text(statement), params)
            session.commit()
            print(f"built a register of {accounts:,} accounts in {time.perf_counter() - started:.0f} s")
        token = issue_bank_token(session, bank_id=find_bank(session, "ESSESESS").id, label="benchmark").token
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE bank_accounts"))
        connection.execute(text("VACUUM ANALYZE account_holders"))
    engine.dispose()
    return settings, token


def prepared_checks(accounts: int, count: int, seed: int = 1) -> list[dict[str, object]]:
    """Checks as payers send them: mostly right, some variants, some wrong."""
    rng = random.Random(seed)
    checks: list[dict[str, object]] = []
    for _ in range(count):
        i = rng.randint(1, accounts)
        name = holder_name(i)
        given, surname = name.split(" ", 1)
        kind = rng.random()
        if kind < 0.60:
            wanted = name
        elif kind < 0.70:
            wanted = f"{surname} {given}"
        elif kind < 0.75:
            wanted = f"{given[0]}. {surname}"
        elif kind < 0.80:
            wanted = name.upper().replace("Ö", "O").replace("Ä", "A").replace("Å", "A")
        elif kind < 0.85:
            wanted = name[:-1] if len(surname) > 4 else name + "s"
        elif kind < 0.95:
            wanted = holder_name(i + 1_000)  # someone else's name
        else:
            i = accounts + rng.randint(1, accounts)  # no bank has this account
            wanted = name
        checks.append({"account": iban(i), "name": wanted})
    return checks


LUA = """
local checks = {}
local n = 0
function init(args)
  for line in io.lines(args[1]) do n = n + 1; checks[n] = line end
  math.randomseed(os.time() + math.random(1, 100000))
end
function delay()
  return pacing
end
function request()
  return wrk.format("POST", "/api/v1/vop/checks", headers, checks[math.random(1, n)])
end
"""


def single(
    wrk: str, base: str, token: str, checks: list[dict[str, object]], args: argparse.Namespace, rate: int | None
) -> list[dict[str, float]]:
    """--runs wrk runs: flat out (rate None), or paced at about ``rate`` checks a second."""
    with tempfile.TemporaryDirectory() as folder:
        lines = Path(folder) / "checks.ndjson"
        lines.write_text("\n".join(json.dumps(c) for c in checks) + "\n", encoding="utf-8")
        script = Path(folder) / "vop.lua"
        script.write_text(
            LUA.replace(
                "local checks = {}",
                f"local checks = {{}}\npacing = {pacing_ms(args.connections, rate, args.overshoot)}\n"
                'headers = {["Content-Type"] = "application/json", '
                f'["Authorization"] = "Bearer {token}"}}',
            ),
            encoding="utf-8",
        )
        run_wrk(wrk, base, script, connections=8, seconds=3, args=(str(lines),))  # warm up
        return [
            run_wrk(wrk, base, script, connections=args.connections, seconds=args.seconds, args=(str(lines),))
            for _ in range(args.runs)
        ]


def bulk(base: str, token: str, accounts: int, total: int) -> dict[str, object]:
    checks = prepared_checks(accounts, total, seed=2)
    chunks = [checks[i : i + 10_000] for i in range(0, total, 10_000)]
    outcomes: Counter[str] = Counter()

    def send(chunk: list[dict[str, object]]) -> Counter[str]:
        with httpx.Client(timeout=300) as client:
            response = client.post(
                f"{base}/api/v1/vop/bulk", json={"checks": chunk}, headers={"Authorization": f"Bearer {token}"}
            )
        response.raise_for_status()
        return Counter(response.json()["counts"])

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for counts in pool.map(send, chunks):
            outcomes.update(counts)
    seconds = time.perf_counter() - started
    return {
        "pairs": total,
        "seconds": round(seconds, 1),
        "pairs_per_second": round(total / seconds),
        "outcomes": dict(outcomes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=int, default=2_000, help="Checks per second for the paced runs.")
    parser.add_argument("--overshoot", type=float, default=1.5, help="Paced runs aim this much above --rate.")
    parser.add_argument("--bulk", type=int, default=1_000_000)
    parser.add_argument("--bulk-runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="Drop and rebuild the benchmark register.")
    args = parser.parse_args()
    wrk = ensure_wrk()
    settings, token = register_settings(args.accounts, args.rebuild)
    server, base = start_server(settings, args.workers)
    try:
        checks = prepared_checks(args.accounts, 100_000)
        paced = single(wrk, base, token, checks, args, args.rate)
        runs = single(wrk, base, token, checks, args, None)
        bulks = [bulk(base, token, args.accounts, args.bulk) for _ in range(args.bulk_runs)]
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(
        "vop",
        {
            "register_accounts": args.accounts,
            "setup": f"saldo serve --workers {args.workers}; wrk -t2 -c{args.connections} -d{args.seconds}s "
            "on the same machine; bulk: 100 requests of 10,000 checks, 2 at a time",
            f"single_paced_at_{args.rate}_per_second": paced,
            "paced_median_requests_per_second": round(median([r["requests_per_second"] for r in paced])),
            "paced_median_p50_ms": median([r["p50_ms"] for r in paced]),
            "paced_median_p99_ms": median([r["p99_ms"] for r in paced]),
            "single_flat_out_runs": runs,
            "flat_out_median_requests_per_second": round(median([r["requests_per_second"] for r in runs])),
            "flat_out_median_p50_ms": median([r["p50_ms"] for r in runs]),
            "flat_out_median_p99_ms": median([r["p99_ms"] for r in runs]),
            "bulk_runs": bulks,
            "bulk_median_seconds": median([float(b["seconds"]) for b in bulks]) if bulks else None,  # type: ignore[arg-type]
        },
    )


if __name__ == "__main__":
    main()
