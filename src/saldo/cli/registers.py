"""``saldo registers`` and ``saldo decisions``: the data the analysis reads beside the payments."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from saldo.cli.context import cli_context, console, errors, fail
from saldo.registers.models import RegisterKind

if TYPE_CHECKING:
    from saldo.kit.tabular import FileRejectedError

app = typer.Typer(
    help="Registers the analysis reads: population, income and who represents whom.",
    no_args_is_help=True,
    rich_markup_mode=None,
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
    """Load a population, income or representation register file (docs/formats/analysis-inputs.md); all or nothing."""
    from saldo.db.engine import unit_of_work
    from saldo.kit.tabular import FileRejectedError
    from saldo.payments.service.hold import staff_actor
    from saldo.registers.service import load_register

    context = cli_context(ctx)
    try:
        with console.status(f"checking and loading {path.name}"), unit_of_work(context.sessions) as session:
            loaded = load_register(session, kind, path, loaded_by=staff_actor(by))
    except FileRejectedError as exc:
        raise report_rejection(exc) from None
    state = "already loaded; nothing changed" if loaded.already_loaded else "loaded"
    console.print(f"{kind.value} register: {loaded.rows:,} rows {state} (load {loaded.load_id})")


@app.command("keeper-create")
def keeper_create(
    ctx: typer.Context,
    organisation_number: str = typer.Argument(..., help="The keeper's organisation number, e.g. 2021005448."),
    name: str = typer.Option(..., help="The keeper's name, e.g. Skatteverket."),
    register: list[RegisterKind] = typer.Option(..., "--register", help="A register it keeps (repeatable)."),
) -> None:
    """Connect an authority that keeps a register, so it can send its extracts by API."""
    from saldo.db.engine import unit_of_work
    from saldo.registers.errors import RegisterError
    from saldo.registers.service import create_keeper

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            keeper = create_keeper(session, organisation_number=organisation_number, name=name, registers=register)
    except RegisterError as exc:
        raise fail(str(exc)) from None
    kept = ", ".join(r.value for r in keeper.registers)
    console.print(f"connected register keeper {keeper.id}: {keeper.name} ({keeper.organisation_number}) for {kept}")


@app.command("keeper-token")
def keeper_token(
    ctx: typer.Context,
    organisation_number: str = typer.Argument(..., help="The keeper's organisation number."),
    label: str = typer.Option("api", help="What the token is for (shown in listings)."),
) -> None:
    """Issue an API token for a register keeper; the secret is printed once."""
    from saldo.db.engine import unit_of_work
    from saldo.registers.errors import RegisterError
    from saldo.registers.service import issue_keeper_token

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            issued = issue_keeper_token(session, organisation_number=organisation_number, label=label)
    except RegisterError as exc:
        raise fail(str(exc)) from None
    console.print(f"token {issued.id} for keeper {issued.keeper_id} (shown once):")
    console.print(issued.token, soft_wrap=True)


@app.command("keeper-revoke")
def keeper_revoke(ctx: typer.Context, token_id: int = typer.Argument(..., min=1, help="The token's id.")) -> None:
    """Revoke a register keeper's token."""
    from saldo.db.engine import unit_of_work
    from saldo.registers.errors import RegisterError
    from saldo.registers.service import revoke_keeper_token

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            revoke_keeper_token(session, token_id)
    except RegisterError as exc:
        raise fail(str(exc)) from None
    console.print(f"token {token_id} revoked")


@app.command("keepers")
def keepers(ctx: typer.Context) -> None:
    """The register keepers connected."""
    from saldo.registers.service import list_keepers

    with cli_context(ctx).sessions() as session:
        rows = list_keepers(session)
    for k in rows:
        console.print(f"{k.id}  {k.organisation_number}  {k.name}  ({', '.join(r.value for r in k.registers)})")
    if not rows:
        console.print("no register keepers connected")


@decisions_app.command("ingest")
def ingest(
    ctx: typer.Context,
    organisation_number: str = typer.Argument(..., help="Organisation number of the payer the file is from."),
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="The decision file (CSV)."),
) -> None:
    """Ingest a payer's decision file (docs/formats/analysis-inputs.md); all or nothing."""
    from saldo.db.engine import unit_of_work
    from saldo.decisions.service import ingest_decisions
    from saldo.kit.national_id import InvalidIdentifierError
    from saldo.kit.tabular import FileRejectedError
    from saldo.payers.errors import UnknownPayerError

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
