"""each batch's range of payment ids, so a payer's listing of one batch reads only that range

A payer's listing narrowed to one batch walked the payer's (payer, id) index until it met the
batch: 81.7 ms for the largest payer's last batch at 0.98 M, growing with the payer's payments.
The batch's block-range index did not help: its rows move as their statuses change, and the ranges
held 278,000 rows for a batch of 39,465 (decision 0037). A batch now records the ids its payments
took; the listing reads that range of the payer's payments, a window at a time.

Existing batches get their ranges from their payments (one read of the payments table, grouped by
batch): 0.48 s at 0.98 M. The sequence's CACHE is set to 1, the default, which the ranges rely
on: a connection never holds ids handed out before a batch began.

Revision ID: 7ae97ceb1801
Revises: 909737c87427
Create Date: 2026-12-06 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7ae97ceb1801"
down_revision: str | None = "909737c87427"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payment_batches", sa.Column("ids_from", sa.BigInteger(), nullable=True))
    op.add_column("payment_batches", sa.Column("ids_to", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE payment_batches b SET ids_from = p.ids_from, ids_to = p.ids_to FROM ("
        " SELECT batch_id, min(id) AS ids_from, max(id) AS ids_to FROM payments"
        " WHERE batch_id IS NOT NULL GROUP BY batch_id) AS p WHERE p.batch_id = b.id"
    )
    # a batch whose payments were all registered before holds none: an empty range
    op.execute("UPDATE payment_batches SET ids_from = 1, ids_to = 0 WHERE ids_from IS NULL")
    op.execute("ALTER TABLE payments ALTER COLUMN id SET CACHE 1")


def downgrade() -> None:
    op.drop_column("payment_batches", "ids_to")
    op.drop_column("payment_batches", "ids_from")
