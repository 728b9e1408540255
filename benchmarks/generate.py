"""Generating the synthetic country: one million persons with a year of payments.

Target (issue: payment registry): minutes, not hours. With --block-persons the country is written in
blocks of that many persons (issue: national scale: the generator's peak memory, reported here as
the process's largest resident size, follows the block, not the country).

    uv run python benchmarks/generate.py [--persons 1000000] [--runs 3] [--block-persons 500000]"""

from __future__ import annotations

import argparse
import resource
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
    parser.add_argument("--block-persons", type=int, default=None)
    args = parser.parse_args()
    seconds, payments = [], 0
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            summary = generate_country(
                Path(folder), persons=args.persons, seed=1, as_of=today(), block_persons=args.block_persons
            )
            seconds.append(time.perf_counter() - started)
            payments = summary.payments
    report(
        "generate",
        {
            "persons": args.persons,
            "block_persons": args.block_persons,
            "payments": payments,
            "seconds_each": [round(s, 1) for s in seconds],
            "median_seconds": round(median(seconds), 1),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        },
    )


if __name__ == "__main__":
    main()
