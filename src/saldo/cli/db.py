"""``saldo migrate``, ``saldo catalogue``, ``saldo backup``, ``saldo restore`` and ``saldo reindex``."""

from __future__ import annotations

from pathlib import Path

import typer

from saldo.cli.context import cli_context, console, fail

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


def backup(
    ctx: typer.Context,
    folder: Path = typer.Argument(..., help="A new (or empty) folder for the backup."),
    jobs: int = typer.Option(2, "--jobs", min=1, max=64, help="Tables dumped at once."),
) -> None:
    """Back up the database as it stands at one moment, while Saldo serves.

    PostgreSQL's dump of one snapshot, and a manifest of every table's rows in it, which a restore
    is checked against (docs/operations.md)."""
    from saldo.db.backup import BackupError
    from saldo.db.backup import backup as take

    try:
        done = take(cli_context(ctx).engine, folder, jobs=jobs)
    except BackupError as exc:
        raise fail(f"backup failed: {exc}") from exc
    rows = sum(done.manifest.tables.values())
    console.print(
        f"backed up {len(done.manifest.tables)} tables, {rows} rows, at migration {done.manifest.revision}, "
        f"into {folder} ({done.bytes / 1e6:.1f} MB) in {done.seconds:.1f} s"
    )


def restore(
    folder: Path = typer.Argument(..., help="A folder written by `saldo backup`."),
    into: str = typer.Option(..., "--into", help="URL of the empty database to restore into."),
    jobs: int = typer.Option(2, "--jobs", min=1, max=64, help="Tables restored at once."),
) -> None:
    """Restore a backup into an empty database, checked against its manifest.

    Every table's rows are counted against the manifest; a restore that fails, or does not match,
    leaves the database empty (docs/operations.md)."""
    from saldo.db.backup import BackupError
    from saldo.db.backup import restore as put_back

    try:
        done = put_back(folder, into, jobs=jobs)
    except BackupError as exc:
        raise fail(f"restore failed: {exc}") from exc
    rows = sum(done.manifest.tables.values())
    console.print(
        f"restored {len(done.manifest.tables)} tables, {rows} rows, each as backed up on {done.manifest.taken_at}, "
        f"in {done.seconds:.1f} s"
    )


def reindex(
    ctx: typer.Context,
    tables: list[str] = typer.Argument(None, help="The tables (default: payments and payment_events)."),
    queue: bool = typer.Option(
        False, "--queue", help="Ask the worker to do it now (the job it runs on SALDO_INDEX_UPKEEP_SCHEDULE)."
    ),
) -> None:
    """Rebuild the indexes of the tables that grow with payments, compactly, while Saldo serves.

    The worker does it monthly (SALDO_INDEX_UPKEEP_SCHEDULE). Each index is built anew beside the
    old one and swapped in, without locking out writers. What an interrupted run left (an invalid
    index) is dropped first, so running it again completes the work (docs/operations.md)."""
    from saldo.db.upkeep import DEFAULT_TABLES, UpkeepError, queue_upkeep, rebuild_indexes

    context = cli_context(ctx)
    if queue:
        if tables:
            raise fail("reindex --queue rebuilds payments and payment_events; name no tables with it")
        from saldo.db.engine import unit_of_work

        with unit_of_work(context.sessions) as session:
            job_id = queue_upkeep(session)
        schedule = context.settings.index_upkeep_schedule or "none (SALDO_INDEX_UPKEEP_SCHEDULE is empty)"
        console.print(f"index upkeep queued as job {job_id}; `saldo worker` runs it. Schedule: {schedule}")
        return
    try:
        done = rebuild_indexes(context.engine, tables or DEFAULT_TABLES)
    except UpkeepError as exc:
        raise fail(f"reindex failed: {exc}") from exc
    for name in done.dropped:
        console.print(f"dropped {name}, left invalid by an interrupted rebuild")
    for each in done.rebuilt:
        console.print(
            f"{each.table}\t{each.index}\t{each.bytes_before / 1e6:.1f} MB -> {each.bytes_after / 1e6:.1f} MB"
        )
    before = sum(r.bytes_before for r in done.rebuilt)
    after = sum(r.bytes_after for r in done.rebuilt)
    console.print(f"{len(done.rebuilt)} indexes rebuilt: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
