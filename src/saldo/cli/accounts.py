"""``saldo accounts``: load bank files into the account register, look accounts up, designate them,
and verify payees."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from saldo.accounts.errors import AccountError
from saldo.banks.errors import BankError
from saldo.cli.context import cli_context, console, errors, fail
from saldo.kit.account_number import AccountScheme, InvalidAccountError
from saldo.kit.national_id import IdScheme, InvalidIdentifierError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from saldo.accounts.schemas import BankFileAccepted
    from saldo.banks.schemas import BankOut
    from saldo.settings import Settings

app = typer.Typer(help="The bank account register.", no_args_is_help=True, rich_markup_mode=None)
INPUT_ERRORS = (AccountError, BankError, InvalidAccountError, InvalidIdentifierError)


@app.command("load")
def load(
    ctx: typer.Context,
    bic: str = typer.Argument(..., help="BIC of the bank the file is from."),
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="Bank register file (CSV)."),
    as_of: dt.datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help="Date the file describes; default today."
    ),
) -> None:
    """Load a bank's register file: every account, or none with a report of every bad row."""
    from saldo.accounts.errors import RecordsRejectedError
    from saldo.accounts.service.files import BankFileSource, load_bank_file
    from saldo.banks.schemas import BankPrincipal
    from saldo.banks.service import find_bank
    from saldo.db.engine import unit_of_work
    from saldo.kit.clock import today

    context = cli_context(ctx)
    size = path.stat().st_size
    if size > context.settings.max_upload_bytes:
        raise fail(f"{path} is {size} bytes; the limit is {context.settings.max_upload_bytes}")
    source = BankFileSource.from_path(path, as_of.date() if as_of else today())
    try:
        with unit_of_work(context.sessions) as session:
            bank = find_bank(session, bic)
            principal = BankPrincipal(bank_id=bank.id, bic=bank.bic, name=bank.name, token_id=0)
            result = load_bank_file(
                session, bank=principal, source=source, max_errors=context.settings.max_reported_errors
            )
    except RecordsRejectedError as exc:
        for e in exc.errors:
            errors.print(f"{path}: line {e.line}: {e.field or 'row'}: {e.reason}")
        raise fail(f"rejected: {exc.total} error(s); nothing was loaded") from exc
    except INPUT_ERRORS as exc:
        raise fail(str(exc)) from exc
    again = " (this file was loaded before; nothing changed)" if result.already_loaded else ""
    console.print(
        f"loaded file {result.file_id}: {result.accounts} accounts, {result.opened} new, {result.changed} changed, "
        f"{result.closed} closed, {result.holders_added} holders added, {result.holders_removed} removed{again}"
    )


@app.command("show")
def show(
    ctx: typer.Context,
    account: str = typer.Argument(..., help="The account number."),
    scheme: AccountScheme = typer.Option(AccountScheme.IBAN, help="Account scheme."),
    on: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Who held it on this date; default today."),
) -> None:
    """Who held an account on a date, and its whole history."""
    from rich.table import Table

    from saldo.accounts.service.query import describe_account
    from saldo.db.engine import unit_of_work
    from saldo.kit.clock import today

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            found = describe_account(session, scheme=scheme, account=account, on=on.date() if on else today())
    except INPUT_ERRORS as exc:
        raise fail(str(exc)) from exc
    closed = f", closed {found.closed_on}" if found.closed_on else ""
    console.print(f"{found.account} at {found.bank_bic}: opened {found.opened_on}{closed}")
    console.print(
        f"holders on {found.on}: " + ("; ".join(f"{h.name} ({h.identifier})" for h in found.holders) or "none")
    )
    table = Table("effective", "change", "holder", "detail", "by", "source")
    for e in found.history:
        table.add_row(str(e.effective_on), e.change.value, e.holder_identifier or "", str(e.detail), e.actor, e.source)
    console.print(table)


@app.command("designate")
def designate(
    ctx: typer.Context,
    payee: str = typer.Argument(..., help="The payee's identifier, e.g. a personnummer."),
    account: str = typer.Argument(..., help="The account to designate."),
    payee_scheme: IdScheme = typer.Option(IdScheme.SE_PERSONNUMMER, help="Scheme of the payee's identifier."),
    scheme: AccountScheme = typer.Option(AccountScheme.IBAN, help="Account scheme."),
    operator: str = typer.Option(..., help="Who makes the change (recorded with it)."),
) -> None:
    """Designate a payee's account for public payments on the payee's behalf (the payee is told by letter)."""
    from saldo.accounts.models import Channel
    from saldo.accounts.schemas import DesignationIn, PartyIn
    from saldo.accounts.service.designate import designate_account
    from saldo.db.engine import unit_of_work

    request = DesignationIn(
        payee=PartyIn(id_scheme=payee_scheme, identifier=payee), account_scheme=scheme, account=account
    )
    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            result = designate_account(session, request, channel=Channel.AUTHORITY, actor=f"operator:{operator}")
    except INPUT_ERRORS as exc:
        raise fail(str(exc)) from exc
    if not result.changed:
        console.print("already the designated account; nothing changed")
    else:
        console.print(f"designated {result.account}; letter {result.letter_id} queued to the payee")


@app.command("verify")
def verify(
    ctx: typer.Context,
    account: str = typer.Argument(..., help="The account number."),
    name: str | None = typer.Option(None, help="The payee's name as the payer has it."),
    identifier: str | None = typer.Option(None, help="The payee's identifier (the stronger check)."),
    id_scheme: IdScheme = typer.Option(IdScheme.SE_PERSONNUMMER, help="Scheme of --identifier."),
    scheme: AccountScheme = typer.Option(AccountScheme.IBAN, help="Account scheme."),
) -> None:
    """Verification of payee for one account: match, close match, no match or not possible."""
    from saldo.accounts.schemas import PartyIn, VopCheckIn
    from saldo.accounts.service.verify import check_payee, thresholds_from
    from saldo.db.engine import unit_of_work

    context = cli_context(ctx)
    party = PartyIn(id_scheme=id_scheme, identifier=identifier) if identifier else None
    check = VopCheckIn(account_scheme=scheme, account=account, name=name, party=party)
    thresholds = thresholds_from(context.settings)
    try:
        with unit_of_work(context.sessions) as session:
            result = check_payee(session, check, thresholds=thresholds)
    except INPUT_ERRORS as exc:
        raise fail(str(exc)) from exc
    shown = f" (registered name: {result.registered_name})" if result.registered_name else ""
    console.print(f"{result.outcome.value} [{result.epc_code}]: {result.reason}{shown}")


def connect_country_banks(session: Session, folder: Path) -> list[BankOut]:
    """Connect the banks of a synthetic country's banks.csv not connected yet (with the account
    ranges the published registers give their BICs); every bank of the file, in its order."""
    from saldo.banks.errors import UnknownBankError
    from saldo.banks.service import create_bank, find_bank

    with (folder / "banks.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    banks = []
    for row in rows:
        try:
            banks.append(find_bank(session, row["bic"]))
        except UnknownBankError:
            banks.append(create_bank(session, bic=row["bic"], name=row["name"]))
    return banks


def import_bank_register(session: Session, folder: Path, settings: Settings) -> dict[str, BankFileAccepted]:
    """Connect the banks of a synthetic country's banks.csv and load each bank's register file."""
    from saldo.accounts.service.files import BankFileSource, load_bank_file
    from saldo.banks.schemas import BankPrincipal

    as_of = date_of_country(folder)
    loaded: dict[str, BankFileAccepted] = {}
    for bank in connect_country_banks(session, folder):
        path = folder / "banks" / f"{bank.bic}.csv"
        principal = BankPrincipal(bank_id=bank.id, bic=bank.bic, name=bank.name, token_id=0)
        source = BankFileSource.from_path(path, as_of)
        loaded[bank.bic] = load_bank_file(
            session, bank=principal, source=source, max_errors=settings.max_reported_errors
        )
    return loaded


def date_of_country(folder: Path) -> dt.date:
    """The date a synthetic country describes (its manifest's ``as_of``)."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return dt.date.fromisoformat(manifest["as_of"])
