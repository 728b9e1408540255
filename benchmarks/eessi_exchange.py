"""The cross-border exchange between two nodes: SEDs signed, sent as AS4, received, verified, stored
and acknowledged, and what death notifications from abroad cost to take in.

    .venv/bin/python -m benchmarks.eessi_exchange [--seds 2000] [--senders 1] [--server-workers 1]
        [--deaths 10000] [--runs 3]

Exchange: the FI node is `saldo serve` (HTTPS, its own database); the SE node's outbox holds
``--seds`` H070 notifications (each in a case of its own, queued as staff queue them), and the
measurement is the outbox's delivery as the worker does it (``saldo.eessi.jobs.deliver``; with
``--senders`` above 1, that many delivery loops side by side): SEDs per second until every receipt is
recorded, and each POST's round trip (build aside). Deaths: ``--deaths`` H070s signed by the partner,
taken in (signature, strict read, state machine, the fact recorded) in one transaction: per second.
Floor (``--floor`` SEDs, one thread, no database and no HTTP): the message work alone that every
SED needs, step by step: written and signed, the AS4 message built (signed, encrypted), received
(decrypted, verified), the SED verified and read, the receipt built and verified. Two cores can do
no more SEDs a second than two threads of this, whatever the rest costs.
Targets (issue 19): 300 SEDs/s with p99 < 200 ms; 100,000 deaths in under 10 minutes."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from benchmarks.common import ROOT, WORK, drop_database, free_port, fresh_database, median, report
from saldo.db.engine import create_db_engine, create_session_factory, unit_of_work
from saldo.eessi import service
from saldo.eessi.jobs import deliver
from saldo.eessi.service import seds, signatures, transport
from saldo.eessi.service.directory import entry, write
from saldo.eessi.service.keys import issue_authority, issue_node, load_keys
from saldo.mediation.jobs import JobResources
from saldo.synthetic.abroad import foreign_seds

SE, FI = "SE:FKA01", "FI:KELA01"
BUCS = ["H_BUC_07"]
LATENCY_SEDS = 200


def _node_env(folder: Path, database_url: str, institution: str, directory: Path, ca: Path) -> dict[str, str]:
    key, certificate = folder / f"{institution[:2]}.key", folder / f"{institution[:2]}.pem"
    return {
        "SALDO_DATABASE_URL": database_url, "SALDO_DATA_DIR": str(folder / institution[:2]),
        "SALDO_TLS_CERTIFICATE": str(certificate), "SALDO_TLS_KEY": str(key), "SALDO_EESSI_INSTITUTION": institution,
        "SALDO_EESSI_KEY": str(key), "SALDO_EESSI_CERTIFICATE": str(certificate),
        "SALDO_EESSI_DIRECTORY": str(directory), "SALDO_EESSI_CA_BUNDLE": str(ca), "SALDO_DB_POOL_SIZE": "20",
    }  # fmt: skip


def _pki(folder: Path, port: int) -> tuple[Path, Path]:
    """Keys for both nodes, their CA and a directory naming FI's endpoint on ``port``."""
    folder.mkdir(parents=True, exist_ok=True)
    authority = issue_authority()
    keys = {SE: issue_node(authority, SE), FI: issue_node(authority, FI)}
    for institution, node_keys in keys.items():
        node_keys.write(folder / f"{institution[:2]}.key", folder / f"{institution[:2]}.pem")
    ca = folder / "ca.pem"
    ca.write_text(authority.certificate_pem, encoding="ascii")
    directory = folder / "directory.json"
    write(directory, [
        entry(SE, "FK", "https://127.0.0.1:9/eessi/as4", BUCS, [keys[SE].certificate_pem]),
        entry(FI, "Kela", f"https://127.0.0.1:{port}/eessi/as4", BUCS, [keys[FI].certificate_pem]),
    ])  # fmt: skip
    return ca, directory


def exchange(seds: int, senders: int, server_workers: int) -> dict[str, float]:
    folder = WORK / "eessi" / f"run-{time.time_ns()}"  # fresh keys each run (a node reads its key once)
    port = free_port()
    ca, directory = _pki(folder, port)
    se_settings, fi_settings = fresh_database("bench_eessi_se"), fresh_database("bench_eessi_fi")
    env = {**os.environ, **_node_env(folder, fi_settings.database_url or "", FI, directory, ca)}
    server = subprocess.Popen(
        [sys.executable, "-m", "saldo.cli.main", "serve", "--port", str(port), "--workers", str(server_workers)],
        env=env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"https://127.0.0.1:{port}/health", verify=str(ca), timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        se_env = _node_env(folder, se_settings.database_url or "", SE, directory, ca)
        settings = se_settings.model_copy(
            update={
                "eessi_institution": SE, "eessi_key": Path(se_env["SALDO_EESSI_KEY"]),
                "eessi_certificate": Path(se_env["SALDO_EESSI_CERTIFICATE"]), "eessi_directory": directory,
                "eessi_ca_bundle": ca,
            }
        )  # fmt: skip
        engine = create_db_engine(settings)
        sessions = create_session_factory(engine)
        node = service.node_from_settings(settings)
        with unit_of_work(sessions) as session:
            for number in range(seds):
                service.open_case(
                    session, node, buc_type="H_BUC_07", partner=FI,
                    content={"dateDeath": "2026-10-02", "countryDeath": "SE"}, person=None,
                    purpose=f"benchmark {number}", by="benchmark",
                )  # fmt: skip
        resources = JobResources(settings=settings, sessions=sessions, database_url=str(engine.url))
        started = time.perf_counter()
        loops = [threading.Thread(target=deliver, args=(resources,)) for _ in range(senders)]
        for loop in loops:
            loop.start()
        for loop in loops:
            loop.join()
        elapsed = time.perf_counter() - started
        with Session(engine) as session:
            delivered = session.query(service.CrossBorderDocument).filter_by(status="delivered").count()
            assert delivered == seds, f"{delivered} of {seds} delivered"
        # One SED at a time, nothing queued before it: opened (signed, queued, committed), built,
        # sent, received, verified, stored and acknowledged, the receipt verified and recorded.
        latencies = []
        for number in range(LATENCY_SEDS):
            one = time.perf_counter()
            with unit_of_work(sessions) as session:
                service.open_case(
                    session, node, buc_type="H_BUC_07", partner=FI,
                    content={"dateDeath": "2026-10-02", "countryDeath": "SE"}, person=None,
                    purpose=f"latency {number}", by="benchmark",
                )  # fmt: skip
            assert deliver(resources) == {"built": 1, "delivered": 1}
            latencies.append(time.perf_counter() - one)
        latencies.sort()
        engine.dispose()
        return {
            "seds": seds, "senders": senders, "server_workers": server_workers, "seconds": round(elapsed, 2),
            "per_second": round(seds / elapsed, 1),
            "one_at_a_time_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
            "one_at_a_time_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        }  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
        drop_database("bench_eessi_se")
        drop_database("bench_eessi_fi")


def deaths(count: int) -> dict[str, float]:
    folder = WORK / "eessi-deaths"
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["person_scheme,person_id,forename,family_name,birth_date,kind,start_date,end_date,benefit_type,institution"]
    for number in range(count):
        rows.append(f"se_personnummer,19500101{number % 10_000:04d},Aino,Virtanen,1950-01-01,death,2026-10-02,,,{FI}")
    (folder / "cross_border.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    authority = issue_authority()
    partner, own = issue_node(authority, FI), issue_node(authority, SE)
    signed = list(foreign_seds(folder, receiver=SE, partner=partner))
    settings = fresh_database("bench_eessi_deaths")
    engine = create_db_engine(settings)
    node = service.Node(SE, own, folder / "directory.json")
    try:
        started = time.perf_counter()
        with unit_of_work(create_session_factory(engine)) as session:
            outcomes = service.take_in_many(session, node, signed, [partner.certificate])
        assert outcomes == {"accepted": count}, outcomes
        elapsed = time.perf_counter() - started
    finally:
        engine.dispose()
        drop_database("bench_eessi_deaths")
    return {"deaths": count, "seconds": round(elapsed, 1), "per_second": round(count / elapsed, 1)}


FLOOR_STEPS = (
    "SED written and signed",
    "AS4 message built: signed, encrypted",
    "AS4 message received: decrypted, verified",
    "SED verified and read",
    "receipt built and signed",
    "receipt verified by the sender",
)


def floor(count: int) -> dict[str, Any]:
    """The message work of ``count`` SEDs in one thread, with no database and no HTTP: ms a SED, in
    all and for each step (FLOOR_STEPS)."""
    folder = WORK / "eessi-floor"
    _ca, directory = _pki(folder, 9)
    se = service.Node(SE, load_keys(folder / "SE.key", folder / "SE.pem"), directory)
    fi = service.Node(FI, load_keys(folder / "FI.key", folder / "FI.pem"), directory)
    partner = se.directory().get(FI)
    content = seds.content_of("H070", {"dateDeath": "2026-10-02", "countryDeath": "SE"})

    def listed(institution: str) -> Any:
        return fi.directory().get(institution).certificates

    def one(spent: list[float]) -> None:
        marks = [time.perf_counter()]
        case_id = f"{SE}-{uuid.uuid4().hex[:16]}"
        sed = seds.Sed(
            sed="H070", sed_g_ver="4", sed_ver="2", document_id=uuid.uuid4().hex, case_id=case_id,
            buc_type="H_BUC_07", sender=SE, receiver=FI, content=content,
        )  # fmt: skip
        xml = signatures.sign(seds.to_element(sed), se.keys)
        marks.append(time.perf_counter())
        exchange, headers, body = transport.build(
            se.party(), transport.remote_party(partner.id, partner.certificate), xml,
            case_id=case_id, sed_type="H070", message_id=f"{uuid.uuid4()}@se.saldo",
        )  # fmt: skip
        marks.append(time.perf_counter())
        received = transport.receive(fi.party(), headers, body, listed)
        message = received.message
        assert message is not None
        assert message.parse_error is None
        marks.append(time.perf_counter())
        assert service.verified_sed(message.sed, listed(SE)).document_id == sed.document_id
        marks.append(time.perf_counter())
        receipt = received.build_signal()[1]
        marks.append(time.perf_counter())
        exchange.receive_signal(receipt)
        marks.append(time.perf_counter())
        for step, (began, ended) in enumerate(itertools.pairwise(marks)):
            spent[step] += ended - began

    for _ in range(20):  # warm: keys, directory, caches
        one([0.0] * len(FLOOR_STEPS))
    spent = [0.0] * len(FLOOR_STEPS)
    for _ in range(count):
        one(spent)
    steps = {name: round(s / count * 1000, 2) for name, s in zip(FLOOR_STEPS, spent, strict=True)}
    total = sum(spent) / count * 1000
    return {
        "seds": count,
        "ms_a_sed": round(total, 2),
        "steps_ms": steps,
        "two_cores_at_most_per_second": round(2000 / total),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seds", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=1)
    parser.add_argument("--server-workers", type=int, default=1)
    parser.add_argument("--deaths", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--floor", type=int, default=0, help="only the message work of this many SEDs, no DB or HTTP")
    args = parser.parse_args()
    if args.floor:
        floors = [floor(args.floor) for _ in range(args.runs)]
        report(
            "eessi_floor",
            {
                "runs": floors,
                "ms_a_sed_median": median([f["ms_a_sed"] for f in floors]),
                "date": dt.datetime.now(dt.UTC).date().isoformat(),
            },
        )
        return
    runs = [exchange(args.seds, args.senders, args.server_workers) for _ in range(args.runs)]
    dead = [deaths(args.deaths) for _ in range(args.runs)]
    report(
        f"eessi_exchange_{args.senders}x{args.server_workers}",
        {
            "exchange_runs": runs,
            "exchange_per_second_median": median([r["per_second"] for r in runs]),
            "deaths_runs": dead,
            "deaths_per_second_median": median([d["per_second"] for d in dead]),
            "date": dt.datetime.now(dt.UTC).date().isoformat(),
        },
    )


if __name__ == "__main__":
    main()
