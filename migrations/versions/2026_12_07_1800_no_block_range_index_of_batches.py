"""no block-range index of the payments' batches: a batch's listing reads the range of ids it recorded

A payer's listing of one batch reads the batch's range of ids a window at a time (decision 0037),
from the payer's (payer, id) index. Beside that range the planner also took the batch's block-range
index and combined the two, and a block-range index is read whole on every scan: 143 pages at
9.8 M payments, 2.4 ms of a 2.5 ms query for a page of 100, growing with the table. Without it the
page is read from its range alone (0.06 ms). Nothing else read it: the account check of one batch
read the whole table, and now looks in the batch's range too (decision 0037, "A batch's page reads
its range alone").

DROP INDEX holds an ACCESS EXCLUSIVE lock on payments for as long as it takes to remove the index's
file: milliseconds.

Revision ID: e3d84b2f35f5
Revises: 8c41f0a2d6b3
Create Date: 2026-12-07 18:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e3d84b2f35f5"
down_revision: str | None = "8c41f0a2d6b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP INDEX ix_payments_batch_id")


def downgrade() -> None:
    op.execute("CREATE INDEX ix_payments_batch_id ON payments USING brin (batch_id)")
