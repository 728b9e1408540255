"""How long the command line takes to start: `saldo --help`, each group's help (`saldo runs
--help`), and each command's own help (`saldo runs list --help` — its module imported, its
arguments parsed: everything a command does before its work). Median of several runs of the
installed `saldo` script, each in a fresh process.

    .venv/bin/python -m benchmarks.cli_start [--runs 5]

The target is under 1 s for each."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import median, report
from saldo.cli.main import COMMANDS, subcommands

SALDO = Path(sys.executable).with_name("saldo")


def seconds(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(SALDO), *args, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return round(median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    groups = subcommands()
    root = seconds([], runs)
    group_help = {name: seconds([name], runs) for name in groups}
    command_help = {
        " ".join(path): seconds(path, runs)
        for path in [[name] for name in COMMANDS if name not in groups]
        + [[group, sub] for group, table in groups.items() for sub in table]
    }
    slowest = sorted(command_help.items(), key=lambda item: -item[1])
    report(
        "cli_start",
        {
            "runs": runs,
            "root_help_s": root,
            "group_help_max_s": max(group_help.values()),
            "group_help_s": group_help,
            "command_start_median_s": round(median(list(command_help.values())), 3),
            "command_start_max_s": slowest[0][1],
            "commands_over_1_s": [name for name, value in slowest if value >= 1.0],
            "command_start_s": dict(slowest),
        },
    )


if __name__ == "__main__":
    main()
