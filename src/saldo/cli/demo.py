"""``saldo demo``: a working Saldo with a synthetic country in one command."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import typer

from saldo.cli.context import CliContext, cli_context, console, fail

SKATTEVERKET = "2021005448"  # keeps the population register and the income register
UNTRIAGED = 25  # selected findings the simulated audit leaves for a person to triage


def demo(
    ctx: typer.Context,
    persons: int | None = typer.Option(None, help="Persons in the synthetic country (default: SALDO_DEMO_PERSONS)."),
    port: int | None = typer.Option(None, help="Port to serve on (default: SALDO_PORT)."),
    fresh: bool = typer.Option(False, help="Throw away an earlier demo database and build it anew."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Build the demo and exit without serving."),
) -> None:
    """Start the embedded database, build a synthetic country, ingest it as payers and banks would,
    check every payment's account, pay out today's runs (pain.001 files, the bank's answers read
    back), run the analysis rules on a pseudonymised snapshot,
    carry a simulated round of audit through to the payers' outcomes, and serve."""
    import uvicorn

    from saldo.app import create_app
    from saldo.cli.partner import PARTNER, play, start_partner
    from saldo.db.migrate import upgrade_database

    context = cli_context(ctx)
    settings = context.settings
    demo_dir = settings.data_dir / "demo"
    if fresh and not settings.database_url:
        shutil.rmtree(settings.data_dir / "pg", ignore_errors=True)
        shutil.rmtree(demo_dir, ignore_errors=True)
    started = time.perf_counter()
    console.print("[bold]Saldo demo[/]: starting the database…")
    upgrade_database(context.engine)
    tokens_path = demo_dir / "tokens.json"
    if tokens_path.exists():
        console.print(f"using the demo built earlier in {demo_dir} (pass --fresh to rebuild)")
    else:
        _build(context, demo_dir, persons or settings.demo_persons)
    tokens = json.loads(tokens_path.read_text(encoding="utf-8"))
    url = f"http://{settings.host}:{port or settings.port}"
    console.print(f"ready in {time.perf_counter() - started:.0f} s. Open [bold]{url}/[/] — API reference at {url}/docs")
    first = next(iter(tokens.get("payers", tokens).values()))
    console.print(f"try: curl -H 'Authorization: Bearer {first['token']}' {url}/api/v1/payments?limit=3")
    console.print(f"every payer's, bank's and staff member's token is in {tokens_path}")
    console.print(
        f"in the browser: {url}/login for a demo citizen, {url}/login?audience=staff for staff, "
        f"{url}/login?audience=payer for a payer "
        "(the development eID, labelled as such, lets anyone in as anyone: demo only)"
    )
    if no_serve:
        return
    # the demo's pages log in through the development eID provider; production never turns it on
    served = settings.model_copy(update={"dev_login": True, "port": port or settings.port})
    partner = start_partner(served, context.engine, demo_dir / "eessi", own_url=url)
    citizen = json.loads((demo_dir / "journeys.json").read_text(encoding="utf-8")).get("citizen", {})
    play(partner, context.engine, citizen, url)
    console.print(
        f"cross-border: a second node, Kela ({PARTNER}), serves at {partner.url}; this node asks it about "
        f"{citizen.get('name', 'the demo citizen')} and it notifies a death "
        f"({url}/staff/cross-border, saldo eessi cases)"
    )
    try:
        uvicorn.run(
            create_app(partner.settings, engine=context.engine),
            host=served.host,
            port=served.port,
            log_level="warning",
            proxy_headers=False,
        )
    finally:
        partner.close()


DEMO_PAYER_USERS = (
    ("197004128711", "Petra Handläggare"),
    ("197608238825", "Olof Ekonom"),
    ("198206058938", "Sanna Utbetalare"),
)


def _build(context: CliContext, demo_dir: Path, persons: int) -> None:
    from saldo.banks.service import issue_bank_token, list_banks
    from saldo.benefits.service import seed_catalogue
    from saldo.cli.accounts import connect_country_banks, import_bank_register
    from saldo.cli.ingest import ingest_file
    from saldo.cli.payers import import_payers_file
    from saldo.db.engine import unit_of_work
    from saldo.payers.service import add_payer_user, issue_token, list_payers
    from saldo.payments.jobs import run_account_check
    from saldo.payments.schemas import BatchRejected
    from saldo.synthetic.country import generate_country

    country = demo_dir / "country"
    with console.status(f"generating a synthetic country of {persons:,} persons"):
        summary = generate_country(country, persons=persons)
    console.print(
        f"generated {summary.persons:,} persons and {summary.payments:,} payments from {summary.payers} payers"
    )
    with unit_of_work(context.sessions) as session:
        seed_catalogue(session)
        connect_country_banks(session, country)  # the payers' banks, before the payers that name them
        import_payers_file(session, country / "payers.csv")
        payers = list_payers(session)
        tokens = {
            p.organisation_number: {"name": p.name, "token": issue_token(session, payer_id=p.id, label="demo").token}
            for p in payers
        }
        # people who log in to the first payers' pages through the development eID
        for payer, (personnummer, name) in zip(payers, DEMO_PAYER_USERS, strict=False):
            add_payer_user(session, organisation_number=payer.organisation_number, personnummer=personnummer, name=name)
    for payer in payers:
        path = country / "payments" / f"{payer.organisation_number}.csv"
        if not path.exists():
            continue
        with unit_of_work(context.sessions) as session:
            outcome = ingest_file(
                session, context.settings, organisation_number=payer.organisation_number, path=path, show_progress=False
            )
        if isinstance(outcome, BatchRejected):
            raise fail(f"demo data for {payer.name} was rejected: {outcome.errors[:3]}")
        console.print(f"  {payer.name}: {outcome.registered:,} payments registered")
    with unit_of_work(context.sessions) as session:
        loaded = import_bank_register(session, country, context.settings)
        bank_tokens = {
            b.bic: {"name": b.name, "token": issue_bank_token(session, bank_id=b.id, label="demo").token}
            for b in list_banks(session)
        }
    accounts = sum(r.accounts for r in loaded.values())
    console.print(f"  account register: {accounts:,} accounts from {len(loaded)} banks")
    checked = run_account_check(context.sessions)
    held = ", ".join(f"{n:,} {code.value}" for code, n in sorted(checked.held.items())) or "none"
    console.print(f"  account check: {checked.verified:,} payments verified; held: {held}")
    pay_out(context, demo_dir)
    _analyse(context, country)
    staff_tokens = _audit(context, country)
    users = {p.organisation_number: name for p, (_, name) in zip(payers, DEMO_PAYER_USERS, strict=False)}
    _leave_journeys(context, demo_dir, tokens, bank_tokens, payer_users=users)
    everyone = {
        "payers": tokens,
        "banks": bank_tokens,
        "staff": staff_tokens,
        "register_keepers": _register_keepers(context),
    }
    tokens_path = demo_dir / "tokens.json"
    tokens_path.write_text(json.dumps(everyone, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tokens_path.chmod(0o600)


def _register_keepers(context: CliContext) -> dict[str, dict[str, str]]:
    """The keeper of the population and income registers, so its API can be tried (PUT /api/v1/registers/…)."""
    from saldo.db.engine import unit_of_work
    from saldo.registers.models import RegisterKind
    from saldo.registers.service import create_keeper, issue_keeper_token

    with unit_of_work(context.sessions) as session:
        keeper = create_keeper(
            session,
            organisation_number=SKATTEVERKET,
            name="Skatteverket",
            registers=[RegisterKind.POPULATION, RegisterKind.INCOME],
        )
        keeper_token = issue_keeper_token(session, organisation_number=keeper.organisation_number, label="demo").token
    return {keeper.organisation_number: {"name": keeper.name, "token": keeper_token}}


def _analyse(context: CliContext, country: Path) -> None:
    """The registers and decisions in, a pseudonymised snapshot, the rules, and how they did."""
    from saldo.analysis.service.evaluate import evaluate_run
    from saldo.analysis.service.run import run_analysis
    from saldo.analysis.service.snapshot import export_snapshot
    from saldo.cli.country import load_analysis_inputs, take_in_from_abroad
    from saldo.db.engine import unit_of_work
    from saldo.payments.service.hold import staff_actor

    with console.status("analysis: registers, decisions, snapshot and rules"):
        with unit_of_work(context.sessions) as session:
            load_analysis_inputs(session, country, loaded_by=staff_actor("demo"))
            take_in_from_abroad(session, context.settings, country)  # Kela's SEDs on deaths, benefits, residence
            export_snapshot(session, context.settings, created_by=staff_actor("demo"))
            run = run_analysis(session, context.settings, started_by=staff_actor("demo"))
            run_id, findings, selected, error = run.id, run.findings, run.selected, run.error
        if error is not None:
            raise fail(f"the analysis run failed: {error}")
        with context.sessions() as session:
            evaluation = evaluate_run(session, run_id, country / "ground_truth.csv")
    worst_precision = min(s.precision for s in evaluation.rules)
    worst_recall = min(s.recall for s in evaluation.rules)
    console.print(
        f"  analysis: {len(evaluation.rules)} rules, {findings:,} findings, {selected:,} selected for review; "
        f"on the planted cases every rule has precision ≥ {worst_precision:.2f} and recall ≥ {worst_recall:.2f} "
        "(saldo analysis findings)"
    )


def _audit(context: CliContext, country: Path) -> dict[str, str]:
    """A simulated round of audit on the findings: cases, requests, notifications and payers'
    outcomes, so precision, statistics and the fairness report have figures; staff tokens."""
    from saldo.analysis.service.pseudonyms import Pseudonymiser, load_or_create_key
    from saldo.db.engine import unit_of_work
    from saldo.oversight.service.precision import rule_precision
    from saldo.staff.service import issue_staff_token
    from saldo.synthetic.audit_round import DEMO_STAFF, simulate_audit

    pseudonyms = Pseudonymiser(load_or_create_key(context.settings.pseudonym_key_path))
    with console.status("audit: triage, cases, notifications and outcomes"), unit_of_work(context.sessions) as session:
        done = simulate_audit(session, pseudonyms, country / "ground_truth.csv", leave_untriaged=UNTRIAGED)
        tokens = {name: issue_staff_token(session, username=name, label="demo") for name in DEMO_STAFF}
        measured = rule_precision(session, prior_weight=context.settings.precision_prior_weight)
    decided = sum(r.decided for r in measured)
    confirmed = sum(r.confirmed for r in measured)
    console.print(
        f"  audit: {done.cases} cases ({done.dismissed} findings dismissed), {done.requests} information requests, "
        f"{done.notifications} notifications; payers decided {decided}, confirming {confirmed} "
        "(saldo audit precision | fairness | statistics)"
    )
    return tokens


def _leave_journeys(
    context: CliContext,
    demo_dir: Path,
    tokens: dict[str, dict[str, str]],
    bank_tokens: dict[str, dict[str, str]],
    *,
    payer_users: dict[str, str],
) -> None:
    """A citizen with accounts to choose between, a held and a cancelled payment, findings to triage and
    an open information request: what the docs' journeys need, written to journeys.json."""
    from saldo.analysis.service.pseudonyms import Pseudonymiser, load_or_create_key
    from saldo.cli.journeys import leave_journeys
    from saldo.db.engine import unit_of_work

    pseudonyms = Pseudonymiser(load_or_create_key(context.settings.pseudonym_key_path))
    with unit_of_work(context.sessions) as session:
        left = leave_journeys(
            session,
            pseudonyms,
            payer_tokens={orgnr: t["token"] for orgnr, t in tokens.items()},
            bank_tokens={bic: t["token"] for bic, t in bank_tokens.items()},
            payer_users=payer_users,
        )
    (demo_dir / "journeys.json").write_text(json.dumps(asdict(left), indent=2, ensure_ascii=False) + "\n")
    console.print(
        f"  to try: {left.untriaged_findings} findings to triage; {left.citizen.get('name', 'nobody')} has "
        f"{len(left.citizen_accounts)} accounts to choose between, one payment held and one cancelled; case "
        f"{left.open_request_case} waits for {left.open_request_user}'s answer (journeys.json)"
    )


def pay_out(context: CliContext, demo_dir: Path, *, execution_date: dt.date | None = None) -> None:
    """The day's payment runs (today's unless ``execution_date`` is given) through the job queue, and
    the synthetic bank's answers read back."""
    from saldo.db.engine import unit_of_work
    from saldo.kit.clock import today
    from saldo.mediation.service.answers import read_bank_message
    from saldo.mediation.service.reconcile import get_run
    from saldo.mediation.service.runs import plan_payment_runs
    from saldo.payments.service.hold import staff_actor
    from saldo.synthetic.bank import answer_payment_file
    from saldo.worker import run_worker

    settings = context.settings
    with unit_of_work(context.sessions) as session:
        runs = plan_payment_runs(
            session,
            execution_date=execution_date or today(),
            requested_by=staff_actor("demo"),
            max_file_transactions=settings.max_file_transactions,
        )
        run_ids = [r.id for r in runs]
    with console.status(f"payment runs: writing the pain.001 files of {len(run_ids)} debtor accounts"):
        run_worker(settings, context.engine, wait=False)
    answered = 0
    with console.status("the bank answers: pain.002 status reports and camt.054 notifications"):
        with context.sessions() as session:
            files = [f for run_id in run_ids for f in get_run(session, run_id).files]
        for number, file in enumerate(files):
            answers = answer_payment_file(settings.outbox / file.path, demo_dir / "bank", seed=number)
            for path in (answers.status_report, answers.notification):
                with unit_of_work(context.sessions) as session:
                    read_bank_message(session, path, filename=path.name, received_by=staff_actor("demo"))
            answered += 1
    with context.sessions() as session:
        described = [get_run(session, run_id) for run_id in run_ids]
    settled = sum(r.reconciliation.settled.payments for r in described)
    rejected = sum(r.reconciliation.rejected.payments for r in described)
    returned = sum(r.reconciliation.returned.payments for r in described)
    console.print(
        f"  payment runs: {len(described)} runs, {answered} pain.001 files in {settings.outbox}; the bank settled "
        f"{settled:,}, rejected {rejected:,}, returned {returned:,}"
    )
