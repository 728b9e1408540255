"""What every command needs: the settings and, on demand, the database."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from saldo.settings import Settings

console = Console(stderr=False, highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


class CliContext:
    """Built before every command, and cheap: the settings are read, and the crash points armed,
    when a command first asks for them, so a command's help starts without them."""

    @cached_property
    def settings(self) -> Settings:
        from saldo.kit.crash_points import arm
        from saldo.settings import Settings

        settings = Settings()
        arm(settings.halt_at, settings.halted_dir)  # crash tests only; unset, nothing halts
        return settings

    @cached_property
    def engine(self) -> Engine:
        from saldo.db.engine import create_db_engine

        return create_db_engine(self.settings)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from saldo.db.engine import create_session_factory

        return create_session_factory(self.engine)


def cli_context(ctx: typer.Context) -> CliContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliContext)
    return obj


def fail(message: str) -> typer.Exit:
    """Print an error the way every command does, and give the exit to raise."""
    errors.print(f"[bold red]error:[/] {escape(message)}")  # a message is text, never markup
    return typer.Exit(code=1)
