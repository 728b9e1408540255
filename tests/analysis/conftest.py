"""Tiny hand-made snapshots: every table present (empty unless a test fills it), written to Parquet
exactly as a real snapshot is, and read by a real engine: DuckDB, and Spark for the tests marked so."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from saldo.analysis.service.backends.duckdb import DuckDbEngine
from saldo.analysis.service.catalogue import Rule, load_catalogue
from saldo.analysis.service.run import Found, execute_rules
from saldo.analysis.service.tables import SNAPSHOT_TABLES

BENEFITS = [
    # code, kind, level, residence_conditioned, income_replacing, means_tested
    ("BB", "economic_benefit", "state", True, False, False),
    ("SJP", "economic_benefit", "state", False, True, False),
    ("AKA", "economic_benefit", "state", False, True, False),
    ("STM", "economic_benefit", "state", True, False, True),
    ("IP", "economic_benefit", "state", False, True, False),
    ("EKB", "economic_support", "municipal", True, False, True),
    ("FOB", "association_grant", "municipal", False, False, False),
]
EXCLUSIONS = [("SJP", "AKA"), ("AKA", "SJP"), ("STM", "AKA"), ("AKA", "STM")]
_ids = itertools.count(1)


def month(year: int, number: int) -> dt.date:
    return dt.date(year, number, 1)


def payment(
    payee: str,
    *,
    benefit: str = "BB",
    amount: int = 125_000,
    start: dt.date = dt.date(2026, 3, 1),
    payer: int = 1,
    account: str | None = None,
    decision: str | None = None,
    kind: str = "person",
    payment_id: int | None = None,
    end: dt.date | None = None,
) -> dict[str, Any]:
    """One payment of a calendar month (or of ``start`` to ``end``), due on the 20th."""
    end = end or (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return {
        "payment_id": payment_id or next(_ids),
        "payer_id": payer,
        "payee_key": payee,
        "payee_kind": kind,
        "benefit": benefit,
        "amount_minor": amount,
        "currency": "SEK",
        "decision_key": decision or f"d-{payer}-{benefit}-{payee}",
        "period_start": start,
        "period_end": end,
        "period_month": start.replace(day=1),
        "due_date": start.replace(day=20),
        "account_key": account or f"acc-{payee}",
        "status": "registered",
    }


def person(key: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "person_key": key,
        "previous_key": None,
        "sex": "F",
        "birth_month": dt.date(1980, 1, 1),
        "death_date": None,
        "emigration_date": None,
        "immigration_date": None,
        "household_key": f"h-{key}",
        "municipality_code": "0180",
        "region_code": "01",
        "residence_permit_until": None,
    }
    row.update(values)
    return row


class TinySnapshot:
    """Rows per table, written as the snapshot's Parquet files on ``write``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SNAPSHOT_TABLES}
        columns = ["code", "kind", "level", "residence_conditioned", "income_replacing", "means_tested"]
        self.rows["benefits"] = [dict(zip(columns, b, strict=True)) for b in BENEFITS]
        self.rows["benefit_exclusions"] = [{"benefit": a, "excluded_benefit": b} for a, b in EXCLUSIONS]
        self.rows["payers"] = [{"payer_id": i, "kind": "state_agency", "connection_model": "full"} for i in (1, 2, 3)]

    def add(self, table: str, *rows: dict[str, Any]) -> TinySnapshot:
        self.rows[table].extend(rows)
        return self

    def write(self) -> Path:
        for name, schema in SNAPSHOT_TABLES.items():
            pq.write_table(pa.Table.from_pylist(self.rows[name], schema=schema), self.folder / f"{name}.parquet")
        return self.folder


@pytest.fixture
def tiny(tmp_path: Path) -> TinySnapshot:
    return TinySnapshot(tmp_path)


@pytest.fixture(scope="session")
def catalogue() -> dict[str, Rule]:
    return {rule.id: rule for rule in load_catalogue()}


def run_duckdb(snapshot: TinySnapshot, rule: Rule) -> list[Found]:
    engine = DuckDbEngine(snapshot.write(), threads=1)
    try:
        return execute_rules(engine, [rule])
    finally:
        engine.close()
