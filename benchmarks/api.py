"""Single-payment API: registrations per second and latency under load on one machine.

Target (issue: payment registry): >= 2,000 registrations/s on 2 cores with the load generator on
the same machine, p99 < 50 ms.

    uv run python benchmarks/api.py [--workers 2] [--connections 32] [--seconds 20] [--runs 3]

Starts `saldo serve` on loopback against a fresh database and drives it with wrk (Debian package
`wrk`; installed with apt-get when missing), every request a new payment with a unique reference.
Afterwards it checks that the database holds exactly as many payments as wrk saw 201 responses for."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benchmarks.common import drop_database, fresh_database, median, report, start_server
from saldo.db.engine import create_db_engine
from saldo.kit.account_number import AccountScheme
from saldo.payers.models import ConnectionModel, PayerKind
from saldo.payers.service import create_payer, issue_token
from saldo.payments.models import Payment
from tests.factories import payment_body

LUA = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  local body = string.gsub(template, "__REF__", "W" .. id .. "-" .. counter)
  return wrk.format("POST", "/api/v1/payments", headers, body)
end
function response(status, headers, body)
  if status ~= 201 then failures = (failures or 0) + 1 end
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


def run_once(wrk: str, workers: int, connections: int, seconds: int, run: int) -> dict[str, float]:
    settings = fresh_database(f"saldo_bench_api_{run}")
    engine = create_db_engine(settings)
    with Session(engine) as session:
        payer = create_payer(
            session,
            organisation_number="212000-0142",
            name="Stockholms kommun",
            kind=PayerKind.MUNICIPALITY,
            connection_model=ConnectionModel.FULL,
            debtor_account_scheme=AccountScheme.SE_BANKGIRO,
            debtor_account="5050-1055",
            benefit_codes=["EKB"],
        )
        token = issue_token(session, payer_id=payer.id, label="benchmark").token
        session.commit()
    server, base = start_server(settings, workers)
    try:
        template = httpx.Request("POST", base, json=payment_body(reference="__REF__")).content.decode()
        script = LUA.replace(
            "local counter = 0",
            "local counter = 0\n"
            f"template = [[{template}]]\n"
            f'headers = {{["Content-Type"] = "application/json", '
            f'["Authorization"] = "Bearer {token}"}}',
        )
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(script)
        # warm up the workers' connection pools and caches
        subprocess.run([wrk, "-t2", "-c8", "-d2s", "-s", handle.name, base], check=True, capture_output=True)
        result = subprocess.run(
            [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", handle.name, base],
            check=True,
            capture_output=True,
            text=True,
        )
        Path(handle.name).unlink()
    finally:
        server.terminate()
        server.wait(timeout=30)
    output = result.stdout
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    with Session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(Payment)) or 0
    engine.dispose()
    drop_database(f"saldo_bench_api_{run}")
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),  # type: ignore[union-attr]
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "requests_measured": requests,
        "payments_stored_incl_warmup": int(stored),
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return round(float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    wrk = ensure_wrk()
    runs = [run_once(wrk, args.workers, args.connections, args.seconds, i) for i in range(args.runs)]
    report(
        "api",
        {
            "setup": f"saldo serve --workers {args.workers}; "
            f"wrk -t2 -c{args.connections} -d{args.seconds}s on the same machine",
            "runs": runs,
            "median_requests_per_second": round(median([r["requests_per_second"] for r in runs])),
            "median_p99_ms": median([r["p99_ms"] for r in runs]),
            "median_p50_ms": median([r["p50_ms"] for r in runs]),
        },
    )


if __name__ == "__main__":
    main()
