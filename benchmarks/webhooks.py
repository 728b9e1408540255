"""Webhook delivery of payer messages to a local receiver, with the delivery worker stopped and
started again in the middle of the run.

Target (issue: audit): >= 500 webhooks/s to a local receiver, none lost or duplicated across a
restart of the delivery worker in the middle of a run.

    uv run python benchmarks/webhooks.py [--payers 50] [--messages 30000] [--runs 3]

Each run: a fresh database with ``--payers`` payers, each with a webhook to one receiver (uvicorn
in this process, checking every signature, deduplicating by message id and counting anything out of
order), and ``--messages`` messages spread over them. ``saldo audit deliver`` runs as a separate
process; when half the messages have arrived it is stopped (SIGTERM) and started again, then stopped
when the feed is empty. Delivery rate = messages / the time deliveries were arriving (the restart's
gap left out; the wall time with it is reported too). A last run kills the worker (SIGKILL) instead,
to show what a crash costs: at most the messages in flight are sent again, and the receiver takes
them once."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import uvicorn
from sqlalchemy import text
from sqlalchemy.orm import Session
from stdnum import luhn

from benchmarks.common import ROOT, free_port, median, migrated_database, report
from saldo.db.engine import create_db_engine
from saldo.kit.account_number import AccountScheme
from saldo.messages.models import MessageKind
from saldo.messages.service import WebhookPolicy, post_message, set_webhook
from saldo.payers.models import ConnectionModel, PayerKind
from saldo.payers.service import create_payer
from saldo.settings import Settings
from saldo.synthetic.webhooks import WebhookReceiver

LOCAL = WebhookPolicy(local_receivers=True)  # the receiver listens on this machine
RESTART_GAP_S = 0.5  # a pause between two arrivals longer than this is the restart, not delivery


class TimedReceiver(WebhookReceiver):
    def __init__(self) -> None:
        super().__init__(secrets={})
        self.arrivals: list[float] = []

    def take(self, headers: dict[str, str], body: bytes) -> int:
        status = super().take(headers, body)
        self.arrivals.append(time.perf_counter())
        return status


def serve(receiver: TimedReceiver) -> tuple[str, uvicorn.Server]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(receiver, host="127.0.0.1", port=port, log_level="error", access_log=False, http="httptools")  # type: ignore[arg-type]
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/saldo-webhook", server


def prepare(settings: Settings, receiver: TimedReceiver, url: str, payers: int, messages: int) -> None:
    engine = create_db_engine(settings)
    with Session(engine) as session:
        ids = []
        for n in range(payers):
            body = f"212{n:06d}"
            payer = create_payer(
                session,
                organisation_number=body + luhn.calc_check_digit(body),
                name=f"Kommun {n}",
                kind=PayerKind.MUNICIPALITY,
                connection_model=ConnectionModel.FULL,
                debtor_account_scheme=AccountScheme.SE_BANKGIRO,
                debtor_account="50501055",
                benefit_codes=["EKB"],
            )
            receiver.secrets[payer.id] = set_webhook(session, payer_id=payer.id, url=url, policy=LOCAL).secret
            ids.append(payer.id)
        for n in range(messages):
            payer = ids[n % payers]
            body = {"notification_id": n, "reason_en": "Paid after the date of death.", "amount_at_risk_minor": 125000}
            post_message(session, payer_id=payer, kind=MessageKind.NOTIFICATION, ref_id=n, body=body)
        session.commit()
    engine.dispose()


def start_worker(settings: Settings, lanes: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SALDO_DATABASE_URL": settings.database_url or "",
        "SALDO_WEBHOOK_LANES": str(lanes),
        "SALDO_WEBHOOK_LOCAL_RECEIVERS": "true",  # the receiver listens on this machine
    }
    command = [sys.executable, "-m", "saldo.cli.main", "audit", "deliver"]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def one_run(payers: int, messages: int, lanes: int, stop_signal: signal.Signals) -> dict[str, Any]:
    settings = migrated_database("saldo_bench_webhooks", fresh=True)
    receiver = TimedReceiver()
    url, server = serve(receiver)
    prepare(settings, receiver, url, payers, messages)
    worker = start_worker(settings, lanes)
    while receiver.unique < messages // 2:
        time.sleep(0.01)
    worker.send_signal(stop_signal)
    worker.wait(timeout=60)
    at_stop = receiver.unique
    worker = start_worker(settings, lanes)
    deadline = time.monotonic() + 600
    while receiver.unique < messages and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)  # anything sent twice arrives now
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=60)
    server.should_exit = True
    engine = create_db_engine(settings)
    with engine.connect() as connection:
        pending = int(
            connection.execute(text("SELECT count(*) FROM payer_messages WHERE delivered_at IS NULL")).scalar_one()
        )
    engine.dispose()
    gaps = [b - a for a, b in zip(receiver.arrivals, receiver.arrivals[1:], strict=False)]
    busy = sum(g for g in gaps if g <= RESTART_GAP_S)
    return {
        "delivered": receiver.unique,
        "arrived at the stop": at_stop,
        "lost (pending in the database or never arrived)": messages - receiver.unique + pending,
        "sent twice (taken once by the receiver)": receiver.duplicates,
        "out of order": receiver.out_of_order,
        "bad signatures": receiver.bad_signatures,
        "rate (webhooks/s)": round(messages / busy) if busy else None,
        "wall time with the restart (s)": round(receiver.arrivals[-1] - receiver.arrivals[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payers", type=int, default=50)
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--lanes", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    graceful = [one_run(args.payers, args.messages, args.lanes, signal.SIGTERM) for _ in range(args.runs)]
    crash = one_run(args.payers, args.messages, args.lanes, signal.SIGKILL)
    report(
        "webhook delivery",
        {
            "payers": args.payers,
            "messages": args.messages,
            "lanes": args.lanes,
            "rate, median of runs (webhooks/s)": median([r["rate (webhooks/s)"] for r in graceful]),
            "runs with a SIGTERM restart": graceful,
            "run with a SIGKILL restart": crash,
        },
    )


if __name__ == "__main__":
    main()
