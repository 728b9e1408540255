"""The driver of the Spark cluster test (tests/analysis/test_spark_cluster.py), in a process of its
own, as Spark keeps one session per process: each flagging scenario of the rules' tests is run on
the cluster at ``master`` and with DuckDB, and what each found is compared. Prints one JSON line.

    python -m tests.analysis.cluster_driver spark://127.0.0.1:7077 FOLDER"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from saldo.analysis.service.backends.spark import SparkEngine
from saldo.analysis.service.catalogue import load_catalogue
from saldo.analysis.service.run import execute_rules
from tests.analysis.conftest import TinySnapshot, run_duckdb
from tests.analysis.test_rules import SCENARIOS


def main(master: str, folder: Path) -> None:
    catalogue = {rule.id: rule for rule in load_catalogue()}
    compared: dict[str, object] = {}
    engine = None
    for name, case in sorted(SCENARIOS.items()):
        if not case.flagged:
            continue  # the look-alikes run in local mode (test_rules); here, one finding scenario a rule and more
        tiny = TinySnapshot(folder / name)
        tiny.folder.mkdir()
        case.build(tiny)
        expected = run_duckdb(tiny, catalogue[case.rule])
        engine = SparkEngine(tiny.folder, master=master, threads=2)
        found = execute_rules(engine, [catalogue[case.rule]])
        compared[name] = {"rule": case.rule, "duckdb": len(expected), "spark": len(found), "same": found == expected}
    assert engine is not None
    context = engine.session.sparkContext
    status = context._jsc.sc().getExecutorMemoryStatus()  # the driver and each executor the cluster gave it
    sys.stdout.write(
        json.dumps({"scenarios": compared, "executors": status.size() - 1, "master": context.master}) + "\n"
    )
    engine.session.stop()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
