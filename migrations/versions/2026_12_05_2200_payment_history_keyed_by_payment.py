"""a payment's history keyed by payment: one index instead of two

``payment_events`` had a primary key of its id, read by nothing but its own uniqueness, and an index
of the payment, which every history is read by. One primary key of (payment, id) does both: it
keeps each row unique and gives a payment's transitions in the order they were written, without a
sort. At 0.98 M payments, built compactly, 88.0 bytes a payment against 62.7 + 46.5. See
docs/decisions/0034-indexes-keyed-by-what-reads-them.md.

The new key's index is built first (``CREATE UNIQUE INDEX``), then the old key is dropped and the
new one added on that index, and the payment index dropped, all in the migration's own transaction:
a stopped migration leaves the old key and index in place. While it runs, reads of the history go
on and new transitions wait (a SHARE lock while the index is built, then a short ACCESS EXCLUSIVE
one); how long, at each size measured, is in docs/benchmarks.md.

Revision ID: 7c2e9a4d1b56
Revises: 5e1b7d3f9a28
Create Date: 2026-12-05 22:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7c2e9a4d1b56"
down_revision: str | None = "5e1b7d3f9a28"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE UNIQUE INDEX pk_payment_events_by_payment ON payment_events (payment_id, id)")
    op.execute(
        "ALTER TABLE payment_events DROP CONSTRAINT pk_payment_events, "
        "ADD CONSTRAINT pk_payment_events PRIMARY KEY USING INDEX pk_payment_events_by_payment"
    )
    op.drop_index("ix_payment_events_payment_id", table_name="payment_events")


def downgrade() -> None:
    op.create_index("ix_payment_events_payment_id", "payment_events", ["payment_id"])
    op.execute("CREATE UNIQUE INDEX pk_payment_events_by_id ON payment_events (id)")
    op.execute(
        "ALTER TABLE payment_events DROP CONSTRAINT pk_payment_events, "
        "ADD CONSTRAINT pk_payment_events PRIMARY KEY USING INDEX pk_payment_events_by_id"
    )
