"""Single-payment API: registrations per second and latency under load on one machine.

Target (issue: payment registry): >= 2,000 registrations/s on 2 cores with the load generator on
the same machine, p99 < 50 ms.

    uv run python benchmarks/api.py [--workers 1] [--connections 8] [--seconds 20] [--runs 3]
                                    [--rate 2000] [--overshoot 1.5]

Starts `saldo serve` on loopback (one worker by default: on two cores that also run PostgreSQL and
wrk, a second worker only competes for them) against a fresh database per run and drives it with wrk (Debian
package `wrk`; installed with apt-get when missing), every request a new payment with a reference
unique to the run. Each run is first paced at about --rate registrations/s (latency at a sustained
load), then flat out (the most it can do). Afterwards it reports how many payments the database
holds against the requests wrk counted (all answered 201): the few more are requests still in
flight when wrk stopped counting."""

from __future__ import annotations

import argparse
import tempfile
import uuid
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benchmarks.common import (
    drop_database,
    ensure_wrk,
    fresh_database,
    median,
    pacing_ms,
    report,
    run_wrk,
    start_server,
)
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
function init(args)
  prefix = args[1]
end
function delay()
  return pacing
end
function request()
  counter = counter + 1
  local body = string.gsub(template, "__REF__", prefix .. "-" .. id .. "-" .. counter)
  return wrk.format("POST", "/api/v1/payments", headers, body)
end
"""


def run_once(wrk: str, args: argparse.Namespace, run: int) -> dict[str, dict[str, float]]:
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
    server, base = start_server(settings, args.workers)
    results: dict[str, dict[str, float]] = {}
    try:
        template = httpx.Request("POST", base, json=payment_body(reference="__REF__")).content.decode()
        with tempfile.TemporaryDirectory() as folder:
            scripts = {}
            for name, rate in (("paced", args.rate), ("flat_out", None)):
                script = Path(folder) / f"{name}.lua"
                script.write_text(
                    LUA.replace(
                        "local counter = 0",
                        f"local counter = 0\ntemplate = [[{template}]]\n"
                        f"pacing = {pacing_ms(args.connections, rate, args.overshoot)}\n"
                        f'headers = {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer {token}"}}',
                    ),
                    encoding="utf-8",
                )
                scripts[name] = script
            sent = run_wrk(
                wrk, base, scripts["flat_out"], connections=8, seconds=2, args=(f"warm{uuid.uuid4().hex[:8]}",)
            )
            total = sent["requests"]
            for name, script in scripts.items():
                tag = f"{name}{uuid.uuid4().hex[:8]}"  # references unique to this run: every request is new
                results[name] = run_wrk(
                    wrk, base, script, connections=args.connections, seconds=args.seconds, args=(tag,)
                )
                total += results[name]["requests"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    with Session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(Payment)) or 0
    engine.dispose()
    drop_database(f"saldo_bench_api_{run}")
    # wrk counts requests sent; a request still in flight when a run ends may not be counted
    results["check"] = {"requests_sent": total, "payments_stored": int(stored)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=int, default=2_000, help="Registrations per second for the paced runs.")
    parser.add_argument("--overshoot", type=float, default=1.5, help="Paced runs aim this much above --rate.")
    args = parser.parse_args()
    wrk = ensure_wrk()
    runs = [run_once(wrk, args, i) for i in range(args.runs)]
    figures: dict[str, object] = {
        "setup": f"saldo serve --workers {args.workers}; wrk -t2 -c{args.connections} -d{args.seconds}s "
        f"on the same machine, paced at about {args.rate}/s, then flat out",
        "runs": runs,
    }
    for kind in ("paced", "flat_out"):
        figures[f"{kind}_median_requests_per_second"] = round(median([r[kind]["requests_per_second"] for r in runs]))
        figures[f"{kind}_median_p50_ms"] = median([r[kind]["p50_ms"] for r in runs])
        figures[f"{kind}_median_p99_ms"] = median([r[kind]["p99_ms"] for r in runs])
    report("api", figures)


if __name__ == "__main__":
    main()
