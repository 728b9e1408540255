"""Generating the synthetic country: one million persons with a year of payments.

Target (issue: payment registry): minutes, not hours.

    uv run python benchmarks/generate.py [--persons 1000000] [--runs 3]"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.common import median, report
from saldo.kit.clock import today
from saldo.synthetic.country import generate_country


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    seconds, payments = [], 0
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            summary = generate_country(Path(folder), persons=args.persons, seed=1, as_of=today())
            seconds.append(time.perf_counter() - started)
            payments = summary.payments
    report(
        "generate",
        {
            "persons": args.persons,
            "payments": payments,
            "seconds_each": [round(s, 1) for s in seconds],
            "median_seconds": round(median(seconds), 1),
        },
    )


if __name__ == "__main__":
    main()
