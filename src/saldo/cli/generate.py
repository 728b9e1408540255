"""``saldo generate``: write the synthetic country to a folder."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import typer

from saldo.cli.context import cli_context, console


def generate(
    ctx: typer.Context,
    persons: int = typer.Option(10_000, min=100, max=20_000_000, help="Number of persons."),
    seed: int = typer.Option(1, help="Random seed; the same seed and date give the same country."),
    as_of: str | None = typer.Option(None, help="The country's 'today' (YYYY-MM-DD); default today."),
    out: Path | None = typer.Option(None, help="Folder to write to (default: <data_dir>/country)."),
    anomaly_rate: float | None = typer.Option(
        None,
        min=0.0,
        max=0.05,
        help="Planted cases of each analysis rule per person (ground_truth.csv); default 0.001.",
    ),
    block_persons: int | None = typer.Option(
        None,
        min=1_000,
        help="Write the country in blocks of this many persons, holding one block's payments in memory at a "
        "time (about 9 GB a million persons whole); default: the whole country at once.",
    ),
) -> None:
    """Generate a synthetic country: population, payers, accounts, a year of payments, the registers and
    decisions the analysis reads, and planted anomalies with their ground truth."""
    from saldo.synthetic.anomalies import DEFAULT_RATE
    from saldo.synthetic.country import generate_country

    folder = out or cli_context(ctx).settings.data_dir / "country"
    day = dt.date.fromisoformat(as_of) if as_of else None
    started = time.perf_counter()
    with console.status("generating") as status:
        summary = generate_country(
            folder,
            persons=persons,
            seed=seed,
            as_of=day,
            anomaly_rate=DEFAULT_RATE if anomaly_rate is None else anomaly_rate,
            progress=lambda step: status.update(f"generating {step}"),
            block_persons=block_persons,
        )
    console.print(
        f"{summary.persons:,} persons, {summary.organisations:,} organisations, {summary.payers} payers and "
        f"{summary.payments:,} payments in {folder} ({time.perf_counter() - started:.1f} s)"
    )
