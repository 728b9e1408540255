"""a payer's held, returned, rejected and cancelled payments in their own partial index

A payer's listing narrowed to one of these statuses walked the payer's (payer, id) index, reading
every payment until its page was full: at a million payments 12 to 31 ms for the largest payer's
first page when a few hundred match, and the whole payer (about 100 ms) when none does, growing
with the payer's payments. Fewer than one payment in a hundred holds one of them, so their own
index takes a fraction of a byte a payment (decision 0037).

Built in the migration's transaction: reads of payments go on and writes wait while it is built
(CREATE INDEX holds a SHARE lock); how long at 0.98 M is in docs/benchmarks.md.

Revision ID: 909737c87427
Revises: 3f8c1a6e2d94
Create Date: 2026-12-06 09:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "909737c87427"
down_revision: str | None = "3f8c1a6e2d94"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_payments_payer_id_rare_status_id ON payments (payer_id, status, id)"
        " WHERE status IN ('held', 'returned', 'rejected', 'cancelled')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_payments_payer_id_rare_status_id")
