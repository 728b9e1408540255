"""``saldo worker``: run the durable background jobs (payment runs)."""

from __future__ import annotations

import typer

from saldo.cli.context import cli_context, console


def worker(
    ctx: typer.Context,
    burst: bool = typer.Option(
        False,
        "--burst",
        help="Work the queued jobs, then stop; scheduled jobs are left to a waiting worker.",
    ),
    concurrency: int = typer.Option(1, min=1, max=32, help="Jobs worked at the same time."),
) -> None:
    """Work the job queues in the database: payment runs queued by `saldo runs start`. Jobs survive
    restarts; a run a dead worker left half-done is resumed when its job is retried."""
    from saldo.worker import run_worker

    context = cli_context(ctx)
    console.print("worker started" + (" (burst: stops when the queue is empty)" if burst else ""))
    run_worker(context.settings, context.engine, wait=not burst, concurrency=concurrency)
