"""a run's payments indexed by file alone, so the index deduplicates

The index that finds a payment file's payments (a bank's pain.002, a lost file written again, a
run's summary) was keyed by (run, file, payment): every entry unique, 36.4 bytes a payment when
built compactly and 72.7 after a year's updates. Keyed by (run, file), PostgreSQL's B-tree
deduplication keeps one key per file with a list of row addresses: 6.4 bytes a payment. See
docs/decisions/0034-indexes-keyed-by-what-reads-them.md.

The new index is built before the old one is dropped, in the migration's own transaction: a stopped
migration leaves the old index in place. While it is built, reads of payments go on and writes to
them wait (CREATE INDEX holds a SHARE lock); how long, at each size measured, is in
docs/benchmarks.md.

Revision ID: 5e1b7d3f9a28
Revises: 9d3a6c1e7f42
Create Date: 2026-12-05 21:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1b7d3f9a28"
down_revision: str | None = "9d3a6c1e7f42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_payments_run_id_file_sequence",
        "payments",
        ["run_id", "file_sequence"],
        postgresql_where=sa.text("run_id IS NOT NULL"),
    )
    op.drop_index("ix_payments_run_id_file_sequence_id", table_name="payments")


def downgrade() -> None:
    op.create_index(
        "ix_payments_run_id_file_sequence_id",
        "payments",
        ["run_id", "file_sequence", "id"],
        postgresql_where=sa.text("run_id IS NOT NULL"),
    )
    op.drop_index("ix_payments_run_id_file_sequence", table_name="payments")
