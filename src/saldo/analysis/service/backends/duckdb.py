"""Runs compiled rules with DuckDB over a snapshot's Parquet files, in process."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from saldo.analysis.service.tables import SNAPSHOT_TABLES


class DuckDbEngine:
    name = "duckdb"

    def __init__(
        self, folder: Path, *, threads: int = 2, temp_directory: Path | None = None, memory_limit: str | None = None
    ) -> None:
        config: dict[str, str | bool | int | float | list[str]] = {
            "threads": threads,
            # Rules sort their own results; not keeping scan order lets large joins stream.
            "preserve_insertion_order": False,
            # Where a join larger than memory spills: beside the data, never the working directory.
            "temp_directory": str(temp_directory or folder.parent / ".duckdb-tmp"),
        }
        self.connection = duckdb.connect(config=config)
        if memory_limit:
            self.connection.execute("SET memory_limit = $limit", {"limit": memory_limit})
        for name in SNAPSHOT_TABLES:
            self.connection.read_parquet(str(folder / f"{name}.parquet")).to_view(name)

    def run(self, sql: str) -> pa.Table:
        """The result of one compiled rule."""
        return self.connection.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.connection.close()
