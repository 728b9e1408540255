"""Entry point of the ``saldo`` command.

Each command lives in its own module and is imported only when it runs or its help is asked for:
importing every command would import the whole app, pandas, Splink and the PDF library before any
command ran (about ten seconds on the reference machine). ``COMMANDS`` names them with their short
help, so ``saldo --help`` imports nothing of them; tests/cli/test_cli.py checks each short help
against the command's own, so the table cannot go stale. A group's commands are listed the same
way, from ``commands.json`` (written by ``saldo reference``, checked by the reference test), so
``saldo runs --help`` imports nothing of the group either; a command's module is imported when
that command runs or its own help is asked for."""

from __future__ import annotations

import importlib
import json
import logging
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import typer
from typer._click.core import Command, Context  # typer carries its own click
from typer._click.formatting import HelpFormatter
from typer._click.utils import make_default_short_help
from typer.core import TyperGroup

# name: (module, attribute: a Typer app or a command function, its help's first sentence)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": ("saldo.cli.serve", "serve", "Serve the payer API and the web pages."),
    "migrate": ("saldo.cli.db", "migrate", "Bring the database schema to the newest migration."),
    "backup": ("saldo.cli.db", "backup", "Back up the database as it stands at one moment, while Saldo serves."),
    "restore": ("saldo.cli.db", "restore", "Restore a backup into an empty database, checked against its manifest."),
    "reindex": (
        "saldo.cli.db",
        "reindex",
        "Rebuild the indexes of the tables that grow with payments, compactly, while Saldo serves.",
    ),
    "generate": (
        "saldo.cli.generate",
        "generate",
        "Generate a synthetic country: population, payers, accounts, a year of payments, the registers and "
        "decisions the analysis reads, and planted anomalies with their ground truth.",
    ),
    "ingest": (
        "saldo.cli.ingest",
        "ingest",
        "Register a payment file for a payer: every payment, or none with a report of every bad record.",
    ),
    "demo": (
        "saldo.cli.demo",
        "demo",
        "Start the embedded database, build a synthetic country, ingest it as payers and banks would, "
        "check every payment's account, pay out today's runs (pain.001 files, the bank's answers read back), "
        "run the analysis rules on a pseudonymised snapshot, carry a simulated round of audit through to the "
        "payers' outcomes, and serve.",
    ),
    "reference": (
        "saldo.cli.reference",
        "reference",
        "Write the generated references (settings, CLI, OpenAPI, analysis rules) into docs/reference/.",
    ),
    "worker": (
        "saldo.cli.worker",
        "worker",
        "Work the job queues in the database: payment runs queued by `saldo runs start`.",
    ),
    "payers": ("saldo.cli.payers", "app", "Connected payers and their API tokens."),
    "payments": ("saldo.cli.payments", "app", "Registered payments."),
    "runs": ("saldo.cli.runs", "app", "Payment runs: pain.001 files out, the bank's answers in."),
    "banks": ("saldo.cli.banks", "app", "Banks connected to the account register."),
    "accounts": ("saldo.cli.accounts", "app", "The bank account register."),
    "catalogue": ("saldo.cli.db", "catalogue_app", "The benefit catalogue."),
    "registers": (
        "saldo.cli.registers",
        "app",
        "Registers the analysis reads: population, income and who represents whom.",
    ),
    "decisions": ("saldo.cli.registers", "decisions_app", "Decisions behind payments, from payers."),
    "analysis": ("saldo.cli.analysis", "app", "Data analysis: pseudonymised snapshots, transparent rules, findings."),
    "staff": ("saldo.cli.staff", "app", "Staff of the payment authority: roles and tokens."),
    "eessi": (
        "saldo.cli.eessi",
        "app",
        "The cross-border exchange (EESSI): keys, cases with institutions abroad, SEDs, the outbox.",
    ),
    "audit": (
        "saldo.cli.audit",
        "app",
        "Audit: triage, cases, notifications, precision, fairness, the access log.",
    ),
}


SUBCOMMANDS_FILE = Path(__file__).with_name("commands.json")  # group: {command: its help}, generated


@cache
def subcommands() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = json.loads(SUBCOMMANDS_FILE.read_text(encoding="utf-8"))
    return table


@cache
def load_command(name: str) -> Command:
    """The click command ``name`` stands for, its module imported now: built as the root would
    build it with ``add_typer`` or ``command``, then taken out of a holder."""
    module, attribute, _ = COMMANDS[name]
    target: Any = getattr(importlib.import_module(module), attribute)
    holder = typer.Typer(rich_markup_mode=None, add_completion=False)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
        holder.command("-")(lambda: None)  # a second command keeps the holder a group
    built = typer.main.get_command(holder)
    found = built.get_command(Context(built), name)  # type: ignore[attr-defined]
    assert isinstance(found, Command)
    return found


def _format_table(formatter: HelpFormatter, table: dict[str, str]) -> None:
    """Commands as click lists them, from a table: each help shortened to the width left."""
    limit = formatter.width - 6 - max(len(name) for name in table)
    with formatter.section("Commands"):
        formatter.write_dl([(name, make_default_short_help(text, limit)) for name, text in table.items()])


class LazyGroup(TyperGroup):
    """The root command: subcommands listed from ``COMMANDS``, each imported only when used."""

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name in subcommands():
            return LazySubgroup(name=cmd_name, help=COMMANDS[cmd_name][2], no_args_is_help=True, rich_markup_mode=None)
        return load_command(cmd_name)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        _format_table(formatter, {name: text for name, (_, _, text) in COMMANDS.items()})


class LazySubgroup(TyperGroup):
    """A group (``saldo runs``): its commands listed from ``commands.json``; the group's module is
    imported only when one of them runs or shows its help."""

    def list_commands(self, ctx: Context) -> list[str]:
        return list(subcommands()[self.name or ""])

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in subcommands()[self.name or ""]:
            return None
        group = load_command(self.name or "")
        found = group.get_command(ctx, cmd_name)  # type: ignore[attr-defined]
        return found if isinstance(found, Command) else None

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        _format_table(formatter, subcommands()[self.name or ""])


app = typer.Typer(
    name="saldo",
    cls=LazyGroup,
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
    from saldo.cli.context import CliContext

    ctx.obj = CliContext()


if __name__ == "__main__":
    app()
