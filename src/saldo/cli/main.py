"""Entry point of the ``saldo`` command."""

from __future__ import annotations

import logging
import warnings

import typer

from saldo.cli import (
    accounts,
    analysis,
    audit,
    banks,
    db,
    demo,
    generate,
    ingest,
    payers,
    payments,
    reference,
    registers,
    runs,
    serve,
    staff,
    worker,
)
from saldo.cli.context import CliContext
from saldo.kit.crash_points import arm

app = typer.Typer(
    name="saldo",
    help="Saldo: public payments on one transaction account per person.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help text: the same on every terminal and in docs/reference/cli.md
)


@app.callback()
def root(ctx: typer.Context, verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what happens.")) -> None:
    """Settings come from SALDO_* environment variables (see docs/reference/settings.md)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the embedded server copes.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    ctx.obj = CliContext()
    arm(ctx.obj.settings.halt_at, ctx.obj.settings.halted_dir)  # crash tests only; unset, nothing halts


app.command("serve")(serve.serve)
app.command("migrate")(db.migrate)
app.command("generate")(generate.generate)
app.command("ingest")(ingest.ingest)
app.command("demo")(demo.demo)
app.command("reference")(reference.reference)
app.add_typer(payers.app, name="payers")
app.add_typer(payments.app, name="payments")
app.add_typer(runs.app, name="runs")
app.command("worker")(worker.worker)
app.add_typer(banks.app, name="banks")
app.add_typer(accounts.app, name="accounts")
app.add_typer(db.catalogue_app, name="catalogue")
app.add_typer(registers.app, name="registers")
app.add_typer(registers.decisions_app, name="decisions")
app.add_typer(analysis.app, name="analysis")
app.add_typer(staff.app, name="staff")
app.add_typer(audit.app, name="audit")


if __name__ == "__main__":
    app()
