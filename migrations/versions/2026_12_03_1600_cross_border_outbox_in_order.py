"""cross-border outbox in order: the queued SEDs by id, so the next one due is found at once

The outbox takes the oldest queued SED that is the first queued one of its case. Without an index
in id order over the queued SEDs alone, finding it meant reading the whole queue (and, as PostgreSQL
planned it on an outbox without statistics, comparing the queue with itself). With this partial
index the walk in id order stops at the first page of due SEDs (saldo.eessi.repository.next_due).

Revision ID: 7c1f9a3e5b20
Revises: 2eef5d2ae287
Create Date: 2026-12-03 16:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7c1f9a3e5b20"
down_revision: str | None = "2eef5d2ae287"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_eessi_documents_queue", "eessi_documents", ["id"], postgresql_where="status = 'queued'", unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_eessi_documents_queue", table_name="eessi_documents", postgresql_where="status = 'queued'")
