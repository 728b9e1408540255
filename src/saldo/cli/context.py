"""What every command needs: the settings and, on demand, the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from saldo.db.engine import create_db_engine, create_session_factory
from saldo.settings import Settings

console = Console(stderr=False, highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class CliContext:
    settings: Settings = field(default_factory=Settings)

    @cached_property
    def engine(self) -> Engine:
        return create_db_engine(self.settings)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return create_session_factory(self.engine)


def cli_context(ctx: typer.Context) -> CliContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliContext)
    return obj


def fail(message: str) -> typer.Exit:
    """Print an error the way every command does, and give the exit to raise."""
    errors.print(f"[bold red]error:[/] {escape(message)}")  # a message is text, never markup
    return typer.Exit(code=1)
