"""a payer's payments in id order, for its listing's pages at any depth

Built in the migration's own transaction: a stopped build leaves nothing behind. While it is built,
reads of payments go on and writes to them wait (CREATE INDEX holds a SHARE lock); how long, at
each size measured, is in docs/benchmarks.md (the national-scale table).

Revision ID: d8f4b1c6e203
Revises: c7e3a9d2f610
Create Date: 2026-12-04 19:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d8f4b1c6e203"
down_revision: str | None = "c7e3a9d2f610"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_payments_payer_id_id", "payments", ["payer_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_payments_payer_id_id", table_name="payments")
