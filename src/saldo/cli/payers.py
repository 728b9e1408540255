"""``saldo payers``: connect payers and manage their API tokens."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from saldo.cli.context import cli_context, console, fail
from saldo.kit.account_number import AccountScheme
from saldo.payers.models import ConnectionModel, PayerKind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(help="Connected payers and their API tokens.", no_args_is_help=True, rich_markup_mode=None)
PAYER_FILE_COLUMNS = (
    "organisation_number",
    "name",
    "kind",
    "connection_model",
    "debtor_account_scheme",
    "debtor_account",
    "benefits",
)


@app.command("create")
def create(
    ctx: typer.Context,
    organisation_number: str = typer.Argument(..., help="Organisationsnummer, e.g. 212000-0142."),
    name: str = typer.Option(..., help="The payer's name."),
    kind: PayerKind = typer.Option(..., help="Kind of organisation."),
    connection: ConnectionModel = typer.Option(ConnectionModel.FULL, help="Connection model (SOU 2025:20)."),
    account_scheme: AccountScheme = typer.Option(AccountScheme.SE_BANKGIRO, help="Debtor account scheme."),
    account: str = typer.Option(..., help="Debtor account the payer's payments are drawn from."),
    benefits: str = typer.Option(..., help="Benefit codes the payer may pay, comma-separated (e.g. EKB,FOB)."),
    bank: str | None = typer.Option(
        None, help="BIC of the bank holding the debtor account (needed for a Bankgiro number; an IBAN names its bank)."
    ),
) -> None:
    """Connect a new payer."""
    from saldo.banks.errors import BankError
    from saldo.banks.service import find_bank
    from saldo.benefits.errors import UnknownBenefitError
    from saldo.db.engine import unit_of_work
    from saldo.kit.account_number import InvalidAccountError
    from saldo.kit.national_id import InvalidIdentifierError
    from saldo.payers.errors import PayerError
    from saldo.payers.service import create_payer

    codes = [c.strip() for c in benefits.split(",") if c.strip()]
    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            bank_id = find_bank(session, bank).id if bank else None
            payer = create_payer(
                session,
                organisation_number=organisation_number,
                name=name,
                kind=kind,
                connection_model=connection,
                debtor_account_scheme=account_scheme,
                debtor_account=account,
                benefit_codes=codes,
                bank_id=bank_id,
            )
            payer_id = payer.id
    except (PayerError, BankError, UnknownBenefitError, InvalidIdentifierError, InvalidAccountError) as exc:
        raise fail(str(exc)) from exc
    console.print(f"connected payer {payer_id}: {name}")


@app.command("set-bank")
def set_bank(
    ctx: typer.Context,
    organisation_number: str = typer.Argument(..., help="The payer's organisation number."),
    bic: str = typer.Argument(..., help="BIC of the bank holding the payer's debtor account."),
) -> None:
    """Name the bank holding a payer's debtor account: its payment files go to that bank, and only
    that bank's answers move its payments. Every payer paying from the same account follows."""
    from saldo.banks.errors import BankError
    from saldo.banks.service import find_bank
    from saldo.db.engine import unit_of_work
    from saldo.kit.national_id import InvalidIdentifierError
    from saldo.payers.errors import PayerError
    from saldo.payers.service import set_payer_bank

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            bank = find_bank(session, bic)
            payer = set_payer_bank(session, organisation_number=organisation_number, bank_id=bank.id)
            shown = f"{payer.name}: {payer.debtor_account} is held by {bank.name} ({bank.bic})"
    except (PayerError, BankError, InvalidIdentifierError) as exc:
        raise fail(str(exc)) from exc
    console.print(shown)


@app.command("import")
def import_file(ctx: typer.Context, path: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """Connect every payer listed in a payers.csv file (the synthetic country's format)."""
    from saldo.benefits.errors import UnknownBenefitError
    from saldo.db.engine import unit_of_work
    from saldo.kit.account_number import InvalidAccountError
    from saldo.kit.national_id import InvalidIdentifierError
    from saldo.payers.errors import PayerError

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            count = import_payers_file(session, path)
    except (PayerError, UnknownBenefitError, InvalidIdentifierError, InvalidAccountError, ValueError) as exc:
        raise fail(str(exc)) from exc
    console.print(f"connected {count} payers from {path}")


def import_payers_file(session: Session, path: Path) -> int:
    """Connect the payers of a payers.csv file; all of them or, on the first bad line, none. An
    optional ``bank`` column names, by BIC, the connected bank holding each debtor account."""
    from saldo.banks.errors import BankError
    from saldo.banks.service import find_bank
    from saldo.benefits.errors import UnknownBenefitError
    from saldo.kit.account_number import InvalidAccountError
    from saldo.kit.national_id import InvalidIdentifierError
    from saldo.payers.errors import PayerError
    from saldo.payers.service import create_payer

    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in PAYER_FILE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: line 1: missing column(s) {', '.join(missing)}")
        count = 0
        for row in reader:
            try:
                bank_id = find_bank(session, row["bank"]).id if row.get("bank") else None
                create_payer(
                    session,
                    organisation_number=row["organisation_number"],
                    name=row["name"],
                    kind=PayerKind(row["kind"]),
                    connection_model=ConnectionModel(row["connection_model"]),
                    debtor_account_scheme=AccountScheme(row["debtor_account_scheme"]),
                    debtor_account=row["debtor_account"],
                    benefit_codes=row["benefits"].split(),
                    bank_id=bank_id,
                )
            except (
                PayerError,
                BankError,
                UnknownBenefitError,
                InvalidIdentifierError,
                InvalidAccountError,
                ValueError,
            ) as exc:
                raise ValueError(f"{path}: line {reader.line_num}: {exc}") from exc
            count += 1
    return count


@app.command("list")
def list_command(ctx: typer.Context) -> None:
    """List connected payers."""
    from rich.table import Table

    from saldo.db.engine import unit_of_work
    from saldo.payers.service import list_payers

    with unit_of_work(cli_context(ctx).sessions) as session:
        payers = list_payers(session)
    table = Table("id", "organisation number", "name", "kind", "connection", "benefits")
    for p in payers:
        table.add_row(
            str(p.id), p.organisation_number, p.name, p.kind.value, p.connection_model.value, " ".join(p.benefits)
        )
    console.print(table)


@app.command("token")
def token(
    ctx: typer.Context,
    organisation_number: str = typer.Argument(..., help="The payer's organisation number."),
    label: str = typer.Option("api", help="What the token is for, e.g. the case system's name."),
) -> None:
    """Issue an API token for a payer. The token is printed once; only its hash is kept."""
    from saldo.db.engine import unit_of_work
    from saldo.kit.national_id import InvalidIdentifierError
    from saldo.payers.errors import PayerError
    from saldo.payers.service import find_payer, issue_token

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            issued = issue_token(session, payer_id=find_payer(session, organisation_number).id, label=label)
    except (PayerError, InvalidIdentifierError) as exc:
        raise fail(str(exc)) from exc
    console.print(f"token {issued.id} for payer {issued.payer_id} ({label}):")
    console.print(issued.token, soft_wrap=True)


@app.command("revoke")
def revoke(ctx: typer.Context, token_id: int = typer.Argument(..., help="Id of the token to revoke.")) -> None:
    """Revoke an API token; it stops working at once."""
    from saldo.db.engine import unit_of_work
    from saldo.payers.errors import PayerError
    from saldo.payers.service import revoke_token

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            revoke_token(session, token_id=token_id)
    except PayerError as exc:
        raise fail(str(exc)) from exc
    console.print(f"token {token_id} revoked")


@app.command("user-add")
def user_add(
    ctx: typer.Context,
    organisation_number: str = typer.Argument(..., help="The payer's organisation number."),
    personnummer: str = typer.Option(..., help="The person's Swedish personal identity number (their eID login)."),
    name: str = typer.Option(..., help="The person's name."),
) -> None:
    """Let a person work in the payer's pages (send files, see payments, record outcomes) after eID login."""
    from saldo.db.engine import unit_of_work
    from saldo.payers.errors import PayerError
    from saldo.payers.service import add_payer_user

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            user = add_payer_user(
                session, organisation_number=organisation_number, personnummer=personnummer, name=name
            )
            identifier = user.person_id
    except (PayerError, ValueError) as exc:
        raise fail(str(exc)) from None
    console.print(f"{name} ({identifier}) can now log in for {organisation_number}")
