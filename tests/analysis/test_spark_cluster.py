"""The analysis on a real Spark standalone cluster: a master and two workers, each a JVM process of
its own started from PySpark's own launcher (``spark-class``), and the rules run on it through
``SALDO_SPARK_MASTER``-style master URLs. What each rule finds there must be what DuckDB finds
(docs/scale-out.md)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
pyspark = pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark
WORKERS = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _spark_class(*args: str, log: Path) -> subprocess.Popen[bytes]:
    home = Path(pyspark.__file__).parent
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1"}
    with log.open("wb") as out:
        return subprocess.Popen([str(home / "bin" / "spark-class"), *args], env=env, stdout=out, stderr=out)


def _alive_workers(ui: str) -> int:
    try:
        return int(httpx.get(f"{ui}/json/", timeout=2).json().get("aliveworkers", 0))
    except (httpx.HTTPError, ValueError):
        return 0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(master URL, master's web UI) of a running master with two workers."""
    folder = tmp_path_factory.mktemp("spark-cluster")
    port, ui_port = _free_port(), _free_port()
    master = f"spark://127.0.0.1:{port}"
    ui = f"http://127.0.0.1:{ui_port}"
    started = [
        _spark_class(
            "org.apache.spark.deploy.master.Master",
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port)),
            log=folder / "master.log",
        )
    ]
    for n in range(WORKERS):
        started.append(
            _spark_class(
                "org.apache.spark.deploy.worker.Worker",
                *("--host", "127.0.0.1", "--cores", "1", "--memory", "1g", "--webui-port", str(_free_port())),
                *("--work-dir", str(folder / f"work-{n}"), master),
                log=folder / f"worker-{n}.log",
            )
        )
    try:
        deadline = time.monotonic() + 90
        while _alive_workers(ui) < WORKERS:
            if time.monotonic() > deadline or any(p.poll() is not None for p in started):
                logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(folder.glob("*.log")))
                pytest.fail(f"the cluster did not come up:\n{logs}")
            time.sleep(0.5)
        yield master, ui
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


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
