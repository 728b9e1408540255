"""The analysis on a real Spark standalone cluster: a master and two workers, each a JVM process of
its own started from PySpark's own launcher (``spark-class``), and the rules run on it through
``SALDO_SPARK_MASTER``-style master URLs. What each rule finds there must be what DuckDB finds
(docs/scale-out.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.analysis.spark_cluster import ClusterDidNotStartError, standalone_cluster

ROOT = Path(__file__).resolve().parents[2]
pyspark = pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark
WORKERS = 2


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(master URL, master's web UI) of a running master with two workers."""
    try:
        with standalone_cluster(tmp_path_factory.mktemp("spark-cluster"), workers=WORKERS) as running:
            yield running
    except ClusterDidNotStartError as failed:
        pytest.fail(str(failed))


def test_the_rules_find_on_a_spark_cluster_exactly_what_duckdb_finds(cluster: tuple[str, str], tmp_path: Path) -> None:
    master, ui = cluster
    driver = subprocess.run(
        [sys.executable, "-m", "tests.analysis.cluster_driver", master, str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"},  # the executors call the driver back here
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert driver.returncode == 0, driver.stderr[-4000:]
    result = json.loads(driver.stdout.strip().splitlines()[-1])
    assert result["master"] == master
    assert result["executors"] == WORKERS  # the work went to the two workers, not to a local mode
    scenarios = result["scenarios"]
    rules = {s["rule"] for s in scenarios.values()}
    assert len(rules) >= 10, rules  # every rule with a finding scenario
    assert {n: s for n, s in scenarios.items() if not s["same"]} == {}
    assert all(s["spark"] >= 1 for s in scenarios.values())  # each found something, on both engines alike
    finished = httpx.get(f"{ui}/json/", timeout=5).json()["completedapps"]
    assert [app["name"] for app in finished] == ["saldo-analysis"]
