"""Runs compiled rules with DuckDB over a snapshot's Parquet files, in process."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from saldo.analysis.tables import SNAPSHOT_TABLES


class DuckDbEngine:
    name = "duckdb"

    def __init__(self, folder: Path, *, threads: int = 2, memory_limit: str | None = None) -> None:
        self.connection = duckdb.connect(config={"threads": threads})
        if memory_limit:
            self.connection.execute("SET memory_limit = $limit", {"limit": memory_limit})
        for name in SNAPSHOT_TABLES:
            self.connection.read_parquet(str(folder / f"{name}.parquet")).to_view(name)

    def run(self, sql: str) -> pa.Table:
        """The result of one compiled rule."""
        return self.connection.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.connection.close()
