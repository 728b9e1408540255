"""A Spark standalone cluster on this machine: a master and workers, each a JVM process of its own,
started with PySpark's own launcher (``spark-class``). The cluster test (test_spark_cluster.py)
and the analysis benchmark's cluster runs (benchmarks/analysis.py) start it the same way."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


class ClusterDidNotStartError(RuntimeError):
    """The master or a worker ended, or the workers did not all register in time; with their logs."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _spark_class(*args: str, log: Path) -> subprocess.Popen[bytes]:
    import pyspark  # noqa: PLC0415 — an optional part of Saldo (saldo[spark])

    home = Path(pyspark.__file__).parent
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1"}
    with log.open("wb") as out:
        return subprocess.Popen([str(home / "bin" / "spark-class"), *args], env=env, stdout=out, stderr=out)


def alive_workers(ui: str) -> int:
    try:
        return int(httpx.get(f"{ui}/json/", timeout=2).json().get("aliveworkers", 0))
    except (httpx.HTTPError, ValueError):
        return 0


@contextmanager
def standalone_cluster(folder: Path, *, workers: int = 2, memory: str = "1g") -> Iterator[tuple[str, str]]:
    """(master URL, master's web UI) of a master with ``workers`` workers of one core and ``memory``
    each, their logs and work folders in ``folder``; all stopped afterwards."""
    port, ui_port = free_port(), free_port()
    master = f"spark://127.0.0.1:{port}"
    ui = f"http://127.0.0.1:{ui_port}"
    started = [
        _spark_class(
            "org.apache.spark.deploy.master.Master",
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port)),
            log=folder / "master.log",
        )
    ]
    for n in range(workers):
        started.append(
            _spark_class(
                "org.apache.spark.deploy.worker.Worker",
                *("--host", "127.0.0.1", "--cores", "1", "--memory", memory, "--webui-port", str(free_port())),
                *("--work-dir", str(folder / f"work-{n}"), master),
                log=folder / f"worker-{n}.log",
            )
        )
    try:
        deadline = time.monotonic() + 90
        while alive_workers(ui) < workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in started):
                logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(folder.glob("*.log")))
                raise ClusterDidNotStartError(f"the cluster did not come up:\n{logs}")
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
