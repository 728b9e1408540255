"""``saldo payments``: the authority's steps on registered payments."""

from __future__ import annotations

import typer

from saldo.cli.context import cli_context, console, fail

app = typer.Typer(help="Registered payments.", no_args_is_help=True, rich_markup_mode=None)


@app.command("check-accounts")
def check_accounts(
    ctx: typer.Context,
    payer: str | None = typer.Option(None, help="Only this payer's payments (organisation number)."),
    batch: int | None = typer.Option(None, help="Only this batch's payments."),
    workers: int = typer.Option(2, min=1, max=16, help="Parts checked at the same time (database connections)."),
) -> None:
    """Check registered payments' accounts against the account register: verified, or held with the reason.

    Runs in parts of half a million payments, each committed on its own; running it again checks only
    what is still to check."""
    from saldo.db.engine import unit_of_work
    from saldo.payers.errors import PayerError
    from saldo.payers.service import find_payer
    from saldo.payments.jobs import run_account_check

    sessions = cli_context(ctx).sessions
    try:
        with unit_of_work(sessions) as session:
            payer_id = find_payer(session, payer).id if payer else None
    except PayerError as exc:
        raise fail(str(exc)) from exc
    summary = run_account_check(sessions, payer_id=payer_id, batch_id=batch, workers=workers)
    held = ", ".join(f"{code.value} {n}" for code, n in sorted(summary.held.items())) or "none"
    console.print(f"checked {summary.checked} payments: {summary.verified} verified; held: {held}")


@app.command("hold")
def hold(
    ctx: typer.Context,
    payment_id: int = typer.Argument(..., help="The payment's id."),
    reason: str = typer.Option(..., help="Why the payment is stopped; kept in its history and shown to its payer."),
    by: str = typer.Option(..., help="Who at the payment authority decides (name or staff id)."),
) -> None:
    """Hold a payment that has not been sent, as the payment authority's recorded decision."""
    from saldo.db.engine import unit_of_work
    from saldo.payments.errors import PaymentError
    from saldo.payments.service.hold import hold_payment, staff_actor

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            placed = hold_payment(session, payment_id=payment_id, actor=staff_actor(by), reason=reason)
    except PaymentError as exc:
        raise fail(str(exc)) from exc
    console.print(f"payment {payment_id} held (hold {placed.id}) by {placed.held_by}: {placed.reason}")


@app.command("release")
def release(
    ctx: typer.Context,
    payment_id: int = typer.Argument(..., help="The payment's id."),
    reason: str = typer.Option(..., help="Why the hold is lifted."),
    by: str = typer.Option(..., help="Who at the payment authority decides (name or staff id)."),
) -> None:
    """Release a held payment; it is registered again and checked before a run takes it."""
    from saldo.db.engine import unit_of_work
    from saldo.payments.errors import PaymentError
    from saldo.payments.service.hold import release_payment, staff_actor

    try:
        with unit_of_work(cli_context(ctx).sessions) as session:
            lifted = release_payment(session, payment_id=payment_id, actor=staff_actor(by), reason=reason)
    except PaymentError as exc:
        raise fail(str(exc)) from exc
    console.print(f"payment {payment_id} released by {lifted.released_by}: {lifted.release_reason}")


@app.command("archive")
def archive(
    ctx: typer.Context,
    through: str | None = typer.Option(
        None, help="Archive no month after this one (YYYY-MM); by default every month settled for two months."
    ),
    queue: bool = typer.Option(
        False, "--queue", help="Ask the worker to do it now (the job it runs on SALDO_PAYMENT_ARCHIVE_SCHEDULE)."
    ),
) -> None:
    """Move the payments of each month settled for two months out of the payments table into the archive.

    Each month in a transaction of its own, whole or not at all; running it again archives what is left.
    The worker does it monthly (SALDO_PAYMENT_ARCHIVE_SCHEDULE). Every page, listing and answer reads
    archived payments as before (docs/decisions/0035-settled-months-out-of-the-row-store.md)."""
    import datetime as dt

    from saldo.kit.clock import today
    from saldo.payments.service.archive import archive_settled

    context = cli_context(ctx)
    if queue:
        if through is not None:
            raise fail("archive --queue archives every month settled for two months; give no --through with it")
        from saldo.db.engine import unit_of_work
        from saldo.payments.jobs import queue_archive

        with unit_of_work(context.sessions) as session:
            job_id = queue_archive(session)
        schedule = context.settings.payment_archive_schedule or "none (SALDO_PAYMENT_ARCHIVE_SCHEDULE is empty)"
        console.print(f"payment archive queued as job {job_id}; `saldo worker` runs it. Schedule: {schedule}")
        return
    last = None
    if through is not None:
        try:
            last = dt.date.fromisoformat(f"{through}-01")
        except ValueError as exc:
            raise fail(f"--through: {through!r} is not a month as YYYY-MM") from exc
    done = archive_settled(context.sessions, today=today(), through=last)
    for month in done:
        console.print(f"{month.month:%Y-%m}\t{month.payments} payments archived in {month.seconds:.1f} s")
    console.print(f"{sum(m.payments for m in done)} payments archived from {len(done)} months")
