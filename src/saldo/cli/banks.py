"""``saldo banks``: connect banks to the account register and issue their API tokens."""

from __future__ import annotations

import typer

from saldo.cli.context import cli_context, console, fail

app = typer.Typer(help="Banks connected to the account register.", no_args_is_help=True, rich_markup_mode=None)


@app.command("create")
def create(
    ctx: typer.Context,
    bic: str = typer.Argument(..., help="The bank's BIC, e.g. SWEDSESS."),
    name: str = typer.Option(..., help="The bank's name."),
    ranges: list[str] | None = typer.Option(
        None,
        "--range",
        help="An account range the bank holds, e.g. se_clearing:5000-5999 or iban:SE500; repeat for more. "
        "Without any, the ranges the published bank registers give its BIC.",
    ),
) -> None:
    """Connect a bank, with the account ranges it holds (it reports accounts only inside them)."""
    from saldo.banks.errors import BankError
    from saldo.banks.service import create_bank
    from saldo.db.engine import unit_of_work

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            bank = create_bank(session, bic=bic, name=name, ranges=ranges or None)
    except BankError as exc:
        raise fail(str(exc)) from exc
    console.print(
        f"connected bank {bank.id}: {bank.name} ({bank.bic}), holding {', '.join(bank.ranges) or 'no ranges'}"
    )


@app.command("list")
def list_all(ctx: typer.Context) -> None:
    """List the connected banks."""
    from rich.table import Table

    from saldo.banks.service import list_banks
    from saldo.db.engine import unit_of_work

    with unit_of_work(cli_context(ctx).sessions) as session:
        banks = list_banks(session)
    table = Table("id", "BIC", "name", "connected", "account ranges")
    for bank in banks:
        table.add_row(str(bank.id), bank.bic, bank.name, bank.created_at.date().isoformat(), " ".join(bank.ranges))
    console.print(table)


@app.command("token")
def token(
    ctx: typer.Context,
    bic: str = typer.Argument(..., help="BIC of the bank."),
    label: str = typer.Option("api", help="What the token is for, e.g. 'core banking'."),
) -> None:
    """Issue an API token for a bank. The token is printed once and stored only as a hash."""
    from saldo.banks.errors import BankError
    from saldo.banks.service import find_bank, issue_bank_token
    from saldo.db.engine import unit_of_work

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            issued = issue_bank_token(session, bank_id=find_bank(session, bic).id, label=label)
    except BankError as exc:
        raise fail(str(exc)) from exc
    console.print(issued.token)
