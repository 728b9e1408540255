"""Payment runs and bank answers at peak-day size.

Targets (issue: payment mediation): writing pain.001 at >= 100,000 transactions/s and validating it
against the XSD at >= 300,000 transactions/s; a 2.3-million-payment pension run written and
validated in under 60 s with flat memory; reading a pain.002 / camt.054 with 1 million entries and
updating the payments in under 2 minutes.

    uv run python benchmarks/payment_run.py [--payments 2300000] [--answers 1000000] [--runs 3]

1. The writer and the validator alone, on in-memory transactions (no database): throughput.
2. The pension run end to end (`execute_run`, as the worker runs it): 2.3 million verified payments
   of one payer (Pensionsmyndigheten), inserted once into a template database; each measured run
   starts from a fresh copy of it. Taking the payments, then writing, validating and recording
   every file (50,000 transactions each, two writer processes), with peak memory of the parent
   and of the writer processes.
3. The bank's answers: a run of --answers payments in one file, answered by the synthetic bank with
   a pain.002 listing every transaction (0.2 % rejected) and a camt.054 booking them (0.1 %
   returned); each read with `read_bank_message`, timed, on a fresh copy each run."""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from lxml import etree
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.common import WORK, copy_database, drop_database, fresh_database, median, report
from saldo.banks.service import create_bank
from saldo.db.engine import create_db_engine, create_session_factory, unit_of_work
from saldo.iso20022.camt import NotifiedEntry, NotifiedTransaction, read_account_report, write_debit_credit_notification
from saldo.iso20022.messages import MessageType, schema_for
from saldo.iso20022.pain001 import GroupHeader, Party, PaymentInformation, Transaction, write_pain001
from saldo.iso20022.pain002 import ReportedTransaction, read_status_report, write_status_report
from saldo.iso20022.validate import iter_elements, validate_document
from saldo.kit.account_number import AccountScheme
from saldo.mediation.jobs import JobResources, execute_run
from saldo.mediation.repository import RunRepository
from saldo.mediation.service.answers import read_bank_message
from saldo.mediation.service.runs import plan_payment_runs
from saldo.settings import Settings
from saldo.synthetic.bank import answer_payment_file

EXECUTION_DATE = dt.date(2026, 12, 18)  # a pension day
PENSIONSMYNDIGHETEN = "2021005990"
TEMPLATE = "saldo_bench_run_template"
DATABASE = "saldo_bench_run"

_INSERT = """
INSERT INTO payments (payer_id, reference, payee_id, payee_name, benefit_id, amount_minor, currency,
    decision_reference, period_start, period_end, due_date, account_scheme, account_number, remittance_info,
    status, account_check)
SELECT :payer_id, 'PM-' || i, i, 'Pensionär Nummer ' || i,
    CASE WHEN i % 3 = 0 THEN :gp ELSE :ip END, 500000 + (i % 2000000), 'SEK', 'BESLUT-' || (i % 100000),
    DATE '2026-12-01', DATE '2026-12-31', :due, 'iban',
    'SE' || lpad(((i::bigint * 7919) % 97 + 2)::text, 2, '0') || '5000' || lpad(i::text, 16, '0'),
    'Pension december 2026', 'verified', 'passed'
FROM generate_series(1, :n) AS i
"""


def in_memory(n: int, runs: int) -> dict[str, object]:
    """Writer and validator throughput without the database."""

    def rows() -> Iterator[Transaction]:
        for i in range(n):
            yield Transaction(
                str(10_000_000 + i),
                500000 + i % 2000000,
                "SEK",
                f"Pensionär Nummer {i}",
                AccountScheme.IBAN,
                "SE4550000000058398257466",
                "Pension december 2026",
            )

    write_rates, validate_rates, parse_rates, schema_rates, stream_rates = [], [], [], [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pain001.xml"
        for _ in range(runs):
            block = PaymentInformation(
                "B",
                EXECUTION_DATE,
                Party("Pensionsmyndigheten", PENSIONSMYNDIGHETEN),
                AccountScheme.SE_BANKGIRO,
                "50501055",
                None,
                "PENS",
                True,
                n,
                "0",
                rows(),
            )
            header = GroupHeader("BENCH", dt.datetime.now(dt.UTC), n, "0", Party("Utbetalningsmyndigheten"))
            started = time.perf_counter()
            with path.open("wb") as out:
                write_pain001(out, header, [block])
            write_rates.append(n / (time.perf_counter() - started))
            started = time.perf_counter()
            assert validate_document(path, MessageType.PAIN_001, count="CdtTrfTxInf") == n
            validate_rates.append(n / (time.perf_counter() - started))
            # the two halves of validate_document: libxml2 parsing the file, and the XSD check proper
            started = time.perf_counter()
            tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
            parse_rates.append(n / (time.perf_counter() - started))
            started = time.perf_counter()
            assert schema_for(MessageType.PAIN_001).validate(tree)
            schema_rates.append(n / (time.perf_counter() - started))
            del tree
            # how bank files are read: a validated stream, one element at a time
            started = time.perf_counter()
            assert sum(1 for _ in iter_elements(path, MessageType.PAIN_001, ("CdtTrfTxInf",))) == n
            stream_rates.append(n / (time.perf_counter() - started))
    return {
        "transactions_per_file": n,
        "write_tx_per_s_median": round(median(write_rates)),
        "validate_tx_per_s_median": round(median(validate_rates)),
        "parse_tx_per_s_median": round(median(parse_rates)),
        "xsd_check_tx_per_s_median": round(median(schema_rates)),
        "stream_validate_tx_per_s_median": round(median(stream_rates)),
        "write_tx_per_s_runs": [round(r) for r in write_rates],
        "validate_tx_per_s_runs": [round(r) for r in validate_rates],
    }


def _read_in_child(path: str, kind: str) -> tuple[float, float, int]:
    """Read a bank file the way Saldo does (validated stream, no database): seconds, this process's
    peak RSS in MiB, entries."""
    started = time.perf_counter()
    if kind == "camt054":
        _, rows = read_account_report(Path(path), MessageType.CAMT_054)
    else:
        _, rows = read_status_report(Path(path))
    n = sum(1 for _ in rows)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent, the high-water mark
    # of this process's own memory starts afresh
    status = Path("/proc/self/status").read_text().splitlines()
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return time.perf_counter() - started, peak_kib / 1024, n


def reader_memory(n: int) -> dict[str, object]:
    """A pain.002 of n statuses and a camt.054 whose one batch entry holds n transactions, each read
    in a fresh process: the reader's peak memory must not grow with n."""
    figures: dict[str, object] = {"entries": n}
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(dir=WORK) as folder:
        camt, pain = Path(folder) / "camt054.xml", Path(folder) / "pain002.xml"
        with camt.open("wb") as out:
            paid = [NotifiedTransaction(str(i), 500000, "SEK") for i in range(n)]
            write_debit_credit_notification(
                out,
                message_id="B",
                created_at=dt.datetime.now(dt.UTC),
                account_scheme=AccountScheme.SE_BANKGIRO,
                account_number="50501055",
                entries=[NotifiedEntry(EXECUTION_DATE, paid)],
            )
            del paid
        with pain.open("wb") as out:
            write_status_report(
                out,
                message_id="S",
                created_at=dt.datetime.now(dt.UTC),
                original_message_id="B",
                group_status="ACCP",
                blocks=[("B", (ReportedTransaction(str(i), "ACCP") for i in range(n)))],
            )
        for kind, path in (("camt054", camt), ("pain002", pain)):
            with context.Pool(1) as pool:
                seconds, peak, read = pool.apply(_read_in_child, (str(path), kind))
            assert read == n
            figures[kind] = {
                "read_s": round(seconds, 1),
                "peak_rss_mib": round(peak),
                "mib": round(path.stat().st_size / 1024**2),
            }
    return figures


def build_template(n: int) -> None:
    """A database with n verified pension payments due on the execution date."""
    settings = fresh_database(TEMPLATE)
    engine = create_db_engine(settings)
    with Session(engine) as session:  # the bank holding the payer's Bankgiro account: the files go there
        create_bank(session, bic="ESSESESS", name="SEB")
        session.commit()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO payers (organisation_number, name, kind, connection_model, debtor_account_scheme, "
                "debtor_account, bank_id) VALUES (:o, 'Pensionsmyndigheten', 'state_agency', 'full', 'se_bankgiro', "
                "'50501055', (SELECT id FROM banks WHERE bic = 'ESSESESS'))"
            ),
            {"o": PENSIONSMYNDIGHETEN},
        )
        payer_id = connection.scalar(
            text("SELECT id FROM payers WHERE organisation_number = :o"), {"o": PENSIONSMYNDIGHETEN}
        )
        benefit = {
            c: connection.scalar(text("SELECT id FROM benefits WHERE code = :c"), {"c": c}) for c in ("IP", "GP")
        }
        connection.execute(
            text(_INSERT),
            {"payer_id": payer_id, "ip": benefit["IP"], "gp": benefit["GP"], "due": EXECUTION_DATE, "n": n},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def one_run(settings: Settings, *, max_file: int, workers: int, outbox: Path) -> dict[str, float]:
    settings = settings.model_copy(
        update={"outbox_dir": outbox, "run_workers": workers, "max_file_transactions": max_file}
    )
    engine = create_db_engine(settings)
    sessions = create_session_factory(engine)
    with unit_of_work(sessions) as session:
        [run] = plan_payment_runs(
            session, execution_date=EXECUTION_DATE, requested_by="staff:bench", max_file_transactions=max_file
        )
    stages: dict[str, float] = {}
    last = [time.perf_counter()]
    started = last[0]

    def progress(done: int, total: int) -> None:
        if done == 0:  # payments taken, no file yet
            stages["schedule_s"] = time.perf_counter() - last[0]

    done = execute_run(
        JobResources(settings, sessions, engine.url.render_as_string(hide_password=False)), run.id, progress=progress
    )
    stages["total_s"] = time.perf_counter() - started
    stages["files_s"] = stages["total_s"] - stages.get("schedule_s", 0.0)
    stages["payments"] = float(done.payments or 0)
    with sessions() as session:
        files = RunRepository(session).files_of(run.id)
        stages["files"] = float(len(files))
        stages["bytes"] = float(sum(f.size_bytes for f in files))
    stages["run_id"] = float(run.id)
    engine.dispose()
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--payments", type=int, default=2_300_000)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-file", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--in-memory-only", action="store_true", help="Only the writer and validator, no database.")
    args = parser.parse_args()

    memory = in_memory(args.max_file, args.runs)
    print("in memory:", memory)
    if args.in_memory_only:
        readers = {size: reader_memory(size) for size in (100_000, args.answers)}
        report("payment_file_in_memory", {**memory, "readers": readers})
        return

    build_template(args.payments)
    runs = []
    for _ in range(args.runs):
        settings = copy_database(TEMPLATE, DATABASE)
        with tempfile.TemporaryDirectory(dir=WORK) as folder:
            runs.append(one_run(settings, max_file=args.max_file, workers=args.workers, outbox=Path(folder)))
        print("run:", runs[-1])
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    build_template(args.answers)
    answers: dict[str, list[float]] = {"pain002_s": [], "camt054_s": []}
    outcome: dict[str, object] = {}
    for _ in range(args.runs):
        settings = copy_database(TEMPLATE, DATABASE)
        with tempfile.TemporaryDirectory(dir=WORK) as folder:
            outbox = Path(folder) / "outbox"
            stages = one_run(settings, max_file=args.answers, workers=1, outbox=outbox)
            engine = create_db_engine(settings)
            sessions = create_session_factory(engine)
            with sessions() as session:
                [f] = RunRepository(session).files_of(int(stages["run_id"]))
            bank = answer_payment_file(outbox / f.path, Path(folder) / "bank", seed=7, report_accepted=True)
            for key, path in (("pain002_s", bank.status_report), ("camt054_s", bank.notification)):
                started = time.perf_counter()
                with unit_of_work(sessions) as session:
                    result = read_bank_message(session, path, filename=path.name, received_by="staff:bench")
                answers[key].append(time.perf_counter() - started)
                outcome[key.replace("_s", "")] = {
                    "entries": result.entries,
                    "applied": result.applied,
                    "unchanged": result.unchanged,
                    "unmatched": result.unmatched,
                    "bytes": path.stat().st_size,
                }
            engine.dispose()
        print("answers:", {k: v[-1] for k, v in answers.items()})
    drop_database(DATABASE)
    drop_database(TEMPLATE)
    # last: building a million-entry file in this process would raise the peak memory measured above
    readers = {size: reader_memory(size) for size in (100_000, args.answers)}
    print("readers:", readers)

    report(
        "payment_run",
        {
            "writer_and_validator_in_memory": memory,
            "readers_without_database": readers,
            "run": {
                "payments": args.payments,
                "max_file_transactions": args.max_file,
                "writer_processes": args.workers,
                "files": runs[0]["files"],
                "mib_written": round(runs[0]["bytes"] / 1024**2),
                "schedule_s_median": round(median([r["schedule_s"] for r in runs]), 1),
                "files_s_median": round(median([r["files_s"] for r in runs]), 1),
                "total_s_median": round(median([r["total_s"] for r in runs]), 1),
                "total_s_runs": [round(r["total_s"], 1) for r in runs],
                "payments_per_s_median": round(args.payments / median([r["total_s"] for r in runs])),
                "peak_rss_mib_parent": round(parent),
                "peak_rss_mib_writer_process": round(children),
            },
            "bank_answers": {
                "entries": args.answers,
                "pain002_s_median": round(median(answers["pain002_s"]), 1),
                "camt054_s_median": round(median(answers["camt054_s"]), 1),
                "pain002_s_runs": [round(s, 1) for s in answers["pain002_s"]],
                "camt054_s_runs": [round(s, 1) for s in answers["camt054_s"]],
                "outcome": outcome,
            },
        },
    )


if __name__ == "__main__":
    main()
