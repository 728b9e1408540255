"""Runs the same compiled rules with Apache Spark (PySpark), for when one machine is not enough.

Local mode by default (``SALDO_SPARK_MASTER``); a cluster URL runs the same SQL on many machines.
Spark needs a Java runtime (17 or newer)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa

from saldo.analysis.service.tables import SNAPSHOT_TABLES


class SparkUnavailableError(RuntimeError):
    """Spark cannot start here: no Java runtime, or the optional part saldo[spark] is not installed."""


def spark_session(*, master: str = "local[2]", threads: int = 2) -> Any:
    """The process's Spark session, with Splink's similarity functions (Jaro-Winkler) on its classpath.

    Spark keeps one session per process: the first caller's settings hold for later ones."""
    if shutil.which("java") is None:
        raise SparkUnavailableError("Spark needs a Java runtime (17 or newer) on PATH")
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 — a JVM starts only when Spark is chosen
    except ImportError as exc:
        raise SparkUnavailableError(
            "Spark is an optional part of Saldo: install saldo[spark] (pip install 'saldo[spark]')"
        ) from exc
    from splink.backends.spark import similarity_jar_location  # noqa: PLC0415

    session: Any = (
        SparkSession.builder.master(master)
        .appName("saldo-analysis")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(max(threads * 2, 2)))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.jars", similarity_jar_location())
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine:
    name = "spark"

    def __init__(self, folder: Path, *, master: str = "local[2]", threads: int = 2) -> None:
        self.session: Any = spark_session(master=master, threads=threads)
        for name in SNAPSHOT_TABLES:
            self.session.read.parquet(str(folder / f"{name}.parquet")).createOrReplaceTempView(name)

    def run(self, sql: str) -> pa.Table:
        """The result of one compiled rule."""
        table: pa.Table = self.session.sql(sql).toArrow()
        return table

    def close(self) -> None:
        """Spark's session is shared within the process; views are replaced by the next engine."""
