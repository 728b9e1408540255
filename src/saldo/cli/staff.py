"""``saldo staff``: the authority's staff, their roles and their API tokens."""

from __future__ import annotations

import typer

from saldo.cli.context import cli_context, console, fail
from saldo.staff.models import Role

app = typer.Typer(help="Staff of the payment authority: roles and tokens.", no_args_is_help=True, rich_markup_mode=None)


@app.command("create")
def create(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Lower-case login name, e.g. anna.analytiker."),
    name: str = typer.Option(..., help="Full name."),
    role: list[Role] = typer.Option(..., "--role", help="A role to grant (repeatable)."),
    personnummer: str | None = typer.Option(
        None, help="Their Swedish personal identity number: who they are when they log in with eID."
    ),
) -> None:
    """Add a staff member with one or more roles: analyst, auditor, supervisor, log_auditor, caseworker."""
    from saldo.db.engine import unit_of_work
    from saldo.kit.national_id import IdScheme
    from saldo.staff.errors import StaffError
    from saldo.staff.service import create_staff

    person = (IdScheme.SE_PERSONNUMMER, personnummer) if personnummer else None
    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            create_staff(session, username=username, name=name, roles=role, person=person)
    except (StaffError, ValueError) as exc:
        raise fail(str(exc)) from None
    console.print(f"added {username} ({', '.join(r.value for r in role)})")


@app.command("token")
def token(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    label: str = typer.Option("cli", help="What the token is for (shown in listings)."),
) -> None:
    """Issue an API token for a staff member; the secret is shown once."""
    from saldo.db.engine import unit_of_work
    from saldo.staff.errors import StaffError
    from saldo.staff.service import issue_staff_token

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            secret = issue_staff_token(session, username=username, label=label)
    except StaffError as exc:
        raise fail(str(exc)) from None
    console.print(secret)


@app.command("disable")
def disable(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
    """Disable a staff member; every token of theirs stops working at once."""
    from saldo.db.engine import unit_of_work
    from saldo.staff.errors import StaffError
    from saldo.staff.service import disable_staff

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            disable_staff(session, username)
    except StaffError as exc:
        raise fail(str(exc)) from None
    console.print(f"disabled {username}")


@app.command("list")
def list_members(ctx: typer.Context) -> None:
    """Every staff member with their roles."""
    from saldo.staff.service import list_staff

    with cli_context(ctx).sessions() as session:
        for member in list_staff(session):
            state = " (disabled)" if member.disabled_at else ""
            console.print(f"{member.username}  {member.name}  {', '.join(member.roles)}{state}")
