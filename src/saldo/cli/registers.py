"""``saldo registers`` and ``saldo decisions``: the data the analysis reads beside the payments."""

from __future__ import annotations

from pathlib import Path

import typer

from saldo.cli.context import cli_context, console, errors, fail
from saldo.db.engine import unit_of_work
from saldo.decisions.service import ingest_decisions
from saldo.kit.national_id import InvalidIdentifierError
from saldo.kit.tabular import FileRejectedError
from saldo.payers.errors import UnknownPayerError
from saldo.payments.service.hold import staff_actor
from saldo.registers.models import RegisterKind
from saldo.registers.service import load_register

app = typer.Typer(
    help="Registers the analysis reads: population and income.", no_args_is_help=True, rich_markup_mode=None
)
decisions_app = typer.Typer(help="Decisions behind payments, from payers.", no_args_is_help=True, rich_markup_mode=None)


def report_rejection(error: FileRejectedError) -> typer.Exit:
    """Print every reported fault of a rejected file, line by line, and give the exit to raise."""
    for fault in error.errors:
        errors.print(f"  line {fault.line}, {fault.field}: {fault.reason}")
    if error.error_count > len(error.errors):
        errors.print(f"  … and {error.error_count - len(error.errors):,} more")
    return fail(f"{error.filename}: {error.error_count:,} error(s); nothing was stored")


@app.command("load")
def load(
    ctx: typer.Context,
    kind: RegisterKind = typer.Argument(..., help="Which register the file is an extract of."),
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="The register file (CSV)."),
    by: str = typer.Option("operator", help="Who loads it (recorded)."),
) -> None:
    """Load a population or income register file (docs/formats/analysis-inputs.md); all or nothing."""
    context = cli_context(ctx)
    try:
        with console.status(f"checking and loading {path.name}"), unit_of_work(context.sessions) as session:
            loaded = load_register(session, kind, path, loaded_by=staff_actor(by))
    except FileRejectedError as exc:
        raise report_rejection(exc) from None
    state = "already loaded; nothing changed" if loaded.already_loaded else "loaded"
    console.print(f"{kind.value} register: {loaded.rows:,} rows {state} (load {loaded.load_id})")


@decisions_app.command("ingest")
def ingest(
    ctx: typer.Context,
    organisation_number: str = typer.Argument(..., help="Organisation number of the payer the file is from."),
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="The decision file (CSV)."),
) -> None:
    """Ingest a payer's decision file (docs/formats/analysis-inputs.md); all or nothing."""
    context = cli_context(ctx)
    try:
        with console.status(f"checking and storing {path.name}"), unit_of_work(context.sessions) as session:
            stored = ingest_decisions(session, organisation_number=organisation_number, path=path)
    except FileRejectedError as exc:
        raise report_rejection(exc) from None
    except (UnknownPayerError, InvalidIdentifierError) as exc:
        raise fail(str(exc)) from None
    console.print(
        f"{stored.records:,} decisions: {stored.new:,} new, {stored.amended:,} amended, {stored.unchanged:,} unchanged"
    )
