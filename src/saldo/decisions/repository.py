from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import Connection as PgConnection
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saldo.db.engine import driver_connection
from saldo.decisions.models import Decision

STAGED = (
    "reference, payee_scheme, payee_id, benefit_id, period_start, period_end, amount_minor, currency, "
    "household_size, declared_income_minor"
)
_CONTENT = [c.strip() for c in STAGED.split(",") if c.strip() != "reference"]
_STORED = ", ".join(f"decisions.{c}" for c in _CONTENT)
_SENT = ", ".join(f"EXCLUDED.{c}" for c in _CONTENT)
# An amended decision (same reference, other content) replaces the stored one and raises its version;
# an identical one changes nothing.
_UPSERT = f"""
INSERT INTO decisions (payer_id, {STAGED})
SELECT %(payer)s, {STAGED} FROM staging_decisions
ON CONFLICT (payer_id, reference) DO UPDATE SET
  {", ".join(f"{c} = EXCLUDED.{c}" for c in _CONTENT)}, version = decisions.version + 1, updated_at = now()
WHERE ({_STORED}) IS DISTINCT FROM ({_SENT})
RETURNING (xmax = 0) AS inserted
"""  # noqa: S608 — constant column lists


class DecisionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _driver(self) -> PgConnection[Any]:
        return driver_connection(self.session)

    def upsert(self, payer_id: int, rows: pa.Table) -> tuple[int, int]:
        """Store ``rows`` (STAGED columns in order) for the payer; returns (new, amended)."""
        buffer = io.BytesIO()
        pacsv.write_csv(rows, buffer, write_options=pacsv.WriteOptions(include_header=False))
        with self._driver().cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS staging_decisions")
            cursor.execute(
                f"CREATE TEMP TABLE staging_decisions ON COMMIT DROP AS SELECT {STAGED} FROM decisions WITH NO DATA"  # noqa: S608
            )
            with cursor.copy(f"COPY staging_decisions ({STAGED}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getbuffer())
            cursor.execute(_UPSERT, {"payer": payer_id})
            flags = [bool(row[0]) for row in cursor.fetchall()]
            cursor.execute("DROP TABLE staging_decisions")
        new = sum(flags)
        return new, len(flags) - new

    def count(self, payer_id: int | None = None) -> int:
        statement = select(func.count()).select_from(Decision)
        if payer_id is not None:
            statement = statement.where(Decision.payer_id == payer_id)
        return int(self.session.scalar(statement) or 0)
