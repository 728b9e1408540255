"""How long the command line takes to start: `saldo --help`, each group's help (`saldo runs
--help`), and each command's own help (`saldo runs list --help` — its module imported, its
arguments parsed: everything a command does before its work). Then a few whole commands that read
the database, start to finish, on a migrated database with the catalogue and nothing else (so the
time is the start, the imports the command needs and its connection — not its work). Median of
several runs of the installed `saldo` script, each in a fresh process.

    .venv/bin/python -m benchmarks.cli_start [--runs 5]

The target is under 1 s for each."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import drop_database, fresh_database, median, report
from saldo.cli.main import COMMANDS, subcommands

SALDO = Path(sys.executable).with_name("saldo")


# whole commands that read the database: what a person types between two files
WHOLE = (
    ["payers", "list"],
    ["runs", "list"],
    ["staff", "list"],
    ["banks", "list"],
    ["eessi", "cases"],
    ["payments", "check-accounts"],
)
DATABASE = "saldo_bench_cli"


def seconds(args: list[str], runs: int, *, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(SALDO), *args], check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - started)
    return round(median(times), 3)


def whole_commands(runs: int) -> dict[str, float]:
    settings = fresh_database(DATABASE)
    env = {**os.environ, "SALDO_DATABASE_URL": settings.database_url, "SALDO_DATA_DIR": str(settings.data_dir)}
    try:
        return {" ".join(args): seconds(args, runs, env=env) for args in WHOLE}
    finally:
        drop_database(DATABASE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    groups = subcommands()
    root = seconds(["--help"], runs)
    group_help = {name: seconds([name, "--help"], runs) for name in groups}
    command_help = {
        " ".join(path): seconds([*path, "--help"], runs)
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
            "whole_command_s": whole_commands(runs),
        },
    )


if __name__ == "__main__":
    main()
