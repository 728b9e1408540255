"""``saldo ingest``: register a payer's payment file through the same service the API uses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from saldo.cli.context import cli_context, console, errors, fail
from saldo.payments.models import BatchFormat

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from saldo.payments.schemas import BatchAccepted, BatchRejected
    from saldo.payments.service.batch import BatchSource
    from saldo.settings import Settings

SUFFIX_FORMATS = {
    ".csv": BatchFormat.CSV,
    ".ndjson": BatchFormat.NDJSON,
    ".jsonl": BatchFormat.NDJSON,
    ".json": BatchFormat.JSON,
}


def file_source(path: Path, fmt: BatchFormat | None, limit: int) -> BatchSource:
    """A batch source for a file on disk: its format (from the suffix unless given) and SHA-256."""
    from saldo.kit.digest import sha256_of_file
    from saldo.payments.errors import BatchFormatError, BatchTooLargeError
    from saldo.payments.service.batch import BatchSource

    size = path.stat().st_size
    if size > limit:
        raise BatchTooLargeError(f"{path} is {size} bytes; the limit is {limit} (SALDO_MAX_UPLOAD_BYTES)")
    chosen = fmt or SUFFIX_FORMATS.get(path.suffix.lower())
    if chosen is None:
        raise BatchFormatError(f"cannot tell the format of {path.name}; pass --format csv|ndjson|json")
    return BatchSource(path=path, format=chosen, sha256=sha256_of_file(path), filename=path.name)


def ingest_file(
    session: Session,
    settings: Settings,
    *,
    organisation_number: str,
    path: Path,
    fmt: BatchFormat | None = None,
    show_progress: bool = True,
) -> BatchAccepted | BatchRejected:
    """Ingest one file for one payer inside the caller's transaction."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from saldo.kit.clock import today
    from saldo.payers.schemas import PayerPrincipal
    from saldo.payers.service import find_payer
    from saldo.payments.service.batch import ingest_batch
    from saldo.payments.service.policy import RegistrationPolicy

    payer = find_payer(session, organisation_number)
    principal = PayerPrincipal(payer.id, payer.organisation_number, payer.name, payer.connection_model, token_id=0)
    source = file_source(path, fmt, settings.max_upload_bytes)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not show_progress,
    ) as progress:
        task = progress.add_task(f"{payer.name}: {path.name}", total=None)
        return ingest_batch(
            session,
            payer=principal,
            source=source,
            policy=RegistrationPolicy.from_settings(settings),
            today=today(),
            progress=lambda n: progress.update(task, completed=n),
        )


def ingest(
    ctx: typer.Context,
    organisation_number: str = typer.Argument(..., help="Organisation number of the payer the file is from."),
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="Payment file (CSV, NDJSON or JSON)."),
    fmt: BatchFormat | None = typer.Option(None, "--format", help="File format; by default from the suffix."),
) -> None:
    """Register a payment file for a payer: every payment, or none with a report of every bad record."""
    from saldo.db.engine import unit_of_work
    from saldo.kit.national_id import InvalidIdentifierError
    from saldo.payers.errors import PayerError
    from saldo.payments.errors import PaymentError
    from saldo.payments.schemas import BatchRejected
    from saldo.payments.service.batch import settle_left_behind

    context = cli_context(ctx)
    settle_left_behind(context.engine)  # parts of an earlier large file whose process ended early
    try:
        with unit_of_work(context.sessions) as session:
            outcome = ingest_file(
                session, context.settings, organisation_number=organisation_number, path=path, fmt=fmt
            )
    except (PayerError, PaymentError, InvalidIdentifierError) as exc:
        raise fail(str(exc)) from exc
    if isinstance(outcome, BatchRejected):
        for item in outcome.errors:
            where = f"line {item.line}" if item.line else f"record {item.record}"
            errors.print(f"{path}: {where}: {item.field or 'record'}: {item.reason}")
        more = f" ({outcome.errors_total - len(outcome.errors)} more not listed)" if outcome.truncated else ""
        raise fail(f"rejected: {outcome.errors_total} error(s){more}; nothing was registered")
    replay = " (this file was received before; nothing changed)" if outcome.replayed else ""
    console.print(
        f"accepted batch {outcome.batch_id}: {outcome.records} payments, {outcome.registered} new, "
        f"{outcome.already_registered} already registered{replay}"
    )
