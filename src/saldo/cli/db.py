"""``saldo migrate`` and ``saldo catalogue``."""

from __future__ import annotations

import typer

from saldo.cli.context import cli_context, console

catalogue_app = typer.Typer(help="The benefit catalogue.", no_args_is_help=True, rich_markup_mode=None)


def migrate(
    ctx: typer.Context,
    check: bool = typer.Option(False, "--check", help="Only check that models and migrations agree."),
) -> None:
    """Bring the database schema to the newest migration."""
    from saldo.db.migrate import check_database, upgrade_database

    context = cli_context(ctx)
    if check:
        check_database(context.engine)
        console.print("models and migrations agree")
        return
    upgrade_database(context.engine)
    console.print("database is at the newest migration")


@catalogue_app.command("seed")
def seed(ctx: typer.Context) -> None:
    """Insert or update the benefit catalogue shipped with Saldo."""
    from saldo.benefits.service import seed_catalogue
    from saldo.db.engine import unit_of_work

    context = cli_context(ctx)
    with unit_of_work(context.sessions) as session:
        count = seed_catalogue(session)
    console.print(f"benefit catalogue: {count} benefits")
