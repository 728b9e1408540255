"""``saldo runs``: payment runs, their files, and the bank's answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from saldo.cli.context import cli_context, console, fail

if TYPE_CHECKING:
    from saldo.mediation.jobs import JobResources
    from saldo.mediation.schemas import RunOut

app = typer.Typer(
    help="Payment runs: pain.001 files out, the bank's answers in.", no_args_is_help=True, rich_markup_mode=None
)


def _print_run(run: RunOut) -> None:
    r = run.reconciliation
    amounts = ", ".join(f"{v / 100:,.2f} {c}" for c, v in sorted(r.settled.amounts.items())) or "-"
    console.print(
        f"run {run.id}  {run.execution_date}  {run.debtor_account_scheme.value} {run.debtor_account}  "
        f"{run.status.value}  payments {run.payments if run.payments is not None else '-'}  "
        f"files {run.files_written}/{run.files_planned if run.files_planned is not None else '-'}"
    )
    console.print(
        f"    outstanding {r.outstanding.payments}  settled {r.settled.payments} ({amounts})  "
        f"rejected {r.rejected.payments}  returned {r.returned.payments}  unmatched entries {r.unmatched_entries}"
        + ("  reconciled" if r.reconciled else "")
    )
    if run.unattributed_on_account:
        console.print(
            f"    {run.unattributed_on_account} entries on this account match no payment of any run "
            f"(saldo runs unattributed --account {run.debtor_account})"
        )
    if run.error:
        console.print(f"    [red]stopped:[/] {run.error}")


def _resources(ctx: typer.Context) -> JobResources:
    from saldo.mediation.jobs import JobResources

    context = cli_context(ctx)
    return JobResources(
        settings=context.settings,
        sessions=context.sessions,
        database_url=context.engine.url.render_as_string(hide_password=False),
    )


def _execute(ctx: typer.Context, run_ids: list[int]) -> None:
    from rich.progress import Progress, TaskID

    from saldo.mediation.jobs import execute_run

    resources = _resources(ctx)
    for run_id in run_ids:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"run {run_id}: files", total=None)

            def advance(done: int, total: int, task: TaskID = task, bar: Progress = bar) -> None:
                bar.update(task, completed=done, total=total)

            execute_run(resources, run_id, progress=advance)


@app.command("start")
def start(
    ctx: typer.Context,
    on: dt.datetime | None = typer.Option(None, "--date", formats=["%Y-%m-%d"], help="Execution date (default today)."),
    by: str = typer.Option("operations", help="Who at the payment authority starts the run."),
    now: bool = typer.Option(False, "--now", help="Write the files in this process instead of queueing for a worker."),
) -> None:
    """Check the accounts of registered payments, plan the day's payment runs — one per debtor
    account with verified payments due — and queue them for the worker (`saldo worker`), or with
    --now write their files at once."""
    from saldo.db.engine import unit_of_work
    from saldo.kit.clock import today
    from saldo.mediation.errors import MediationError
    from saldo.mediation.service.reconcile import get_run
    from saldo.mediation.service.runs import plan_payment_runs
    from saldo.payments.jobs import run_account_check
    from saldo.payments.service.hold import staff_actor

    context = cli_context(ctx)
    execution_date = on.date() if on else today()
    checked = run_account_check(context.sessions, on=execution_date)
    if checked.checked:
        console.print(f"account check: {checked.verified:,} of {checked.checked:,} payments verified")
    with unit_of_work(context.sessions) as session:
        runs = plan_payment_runs(
            session,
            execution_date=execution_date,
            requested_by=staff_actor(by),
            max_file_transactions=context.settings.max_file_transactions,
        )
        run_ids = [r.id for r in runs]
    if not run_ids:
        console.print(f"no verified payments due on or before {execution_date} that are not in a run")
        return
    console.print(f"{len(run_ids)} payment run(s) for {execution_date}: {', '.join(map(str, run_ids))}")
    if not now:
        console.print("queued: `saldo worker` writes their files; `saldo runs list` shows how far they are")
    if now:
        try:
            _execute(ctx, run_ids)
        except MediationError as exc:
            raise fail(str(exc)) from exc
        with context.sessions() as session:
            for run_id in run_ids:
                _print_run(get_run(session, run_id))


@app.command("resume")
def resume(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., help="The run's id."),
    now: bool = typer.Option(False, "--now", help="Write the files in this process instead of queueing."),
) -> None:
    """Go on with a run that stopped: written files are kept, the rest are written."""
    from saldo.db.engine import unit_of_work
    from saldo.mediation.errors import MediationError
    from saldo.mediation.service.runs import resume_payment_run

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            resume_payment_run(session, run_id)
        if now:
            _execute(ctx, [run_id])
    except MediationError as exc:
        raise fail(str(exc)) from exc
    console.print(f"run {run_id} {'resumed' if now else 'queued again'}")


@app.command("list")
def list_command(
    ctx: typer.Context,
    on: dt.datetime | None = typer.Option(None, "--date", formats=["%Y-%m-%d"], help="Only runs for this date."),
    limit: int = typer.Option(20, min=1, max=1000, help="How many runs, newest first."),
) -> None:
    """Payment runs with their reconciliation, newest first."""
    from saldo.mediation.service.reconcile import list_runs

    with cli_context(ctx).sessions() as session:
        page = list_runs(session, execution_date=on.date() if on else None, limit=limit)
    for run in page.items:
        _print_run(run)
    if not page.items:
        console.print("no payment runs")


@app.command("show")
def show(ctx: typer.Context, run_id: int = typer.Argument(..., help="The run's id.")) -> None:
    """One run: its files (message id, SHA-256) and its reconciliation."""
    from saldo.mediation.errors import MediationError
    from saldo.mediation.service.reconcile import get_run

    try:
        with cli_context(ctx).sessions() as session:
            run = get_run(session, run_id)
    except MediationError as exc:
        raise fail(str(exc)) from exc
    _print_run(run)
    for share in run.by_payer:
        r = share.reconciliation
        console.print(
            f"    payer {share.payer_id}: outstanding {r.outstanding.payments}  settled {r.settled.payments}  "
            f"rejected {r.rejected.payments}  returned {r.returned.payments}  unmatched {r.unmatched_entries}"
        )
    for f in run.files:
        console.print(f"    file {f.sequence}: {f.path}  {f.transactions} tx  sum {f.control_sum}  sha256 {f.sha256}")


@app.command("unattributed")
def unattributed(
    ctx: typer.Context,
    account: str | None = typer.Option(None, help="Only this debtor account, as Saldo writes it."),
    limit: int = typer.Option(50, min=1, max=1000, help="How many entries, newest first."),
) -> None:
    """Bank entries on a debtor account that match no payment Saldo sent from it (in no run)."""
    from saldo.mediation.service.reconcile import unattributed_entries

    with cli_context(ctx).sessions() as session:
        entries = unattributed_entries(session, account=account, limit=limit)
    for e in entries:
        amount = f"{e.amount_minor} {e.currency} (minor units)" if e.amount_minor is not None else "no amount"
        console.print(
            f"{e.debtor_account_scheme} {e.debtor_account}  {e.message_type.value} {e.message_id} line {e.line}  "
            f"{e.end_to_end_id or '-'}  {amount}: {e.reason}"
        )
    if not entries:
        console.print("no unattributed entries")


@app.command("read-bank-file")
def read_bank_file(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="pain.002 / camt.054 / camt.053 files."
    ),
    by: str = typer.Option("operations", help="Who at the payment authority loads the files (recorded with them)."),
) -> None:
    """Read the bank's answers: each file is validated and applied whole or not at all."""
    from saldo.db.engine import unit_of_work
    from saldo.mediation.errors import MediationError
    from saldo.mediation.service.answers import read_bank_message
    from saldo.payments.service.hold import staff_actor

    context = cli_context(ctx)
    failed = 0
    for path in paths:
        try:
            with unit_of_work(context.sessions) as session:
                result = read_bank_message(session, path, filename=path.name, received_by=staff_actor(by))
        except MediationError as exc:
            failed += 1
            console.print(f"[red]{path.name}: refused, nothing applied:[/] {exc}")
            continue
        state = "already read; nothing changed" if result.already_read else f"{result.applied} payments moved"
        console.print(
            f"{path.name}: {result.message_type.value} {result.message_id}: {result.entries} entries, {state}, "
            f"{result.unchanged} unchanged, {result.unmatched} unmatched"
        )
        for entry in result.unmatched_entries[:10]:
            console.print(f"    line {entry.line}: {entry.reason}")
    if failed:
        raise typer.Exit(code=1)
