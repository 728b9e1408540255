"""reported payments: a payer connected for analysis only reports what it paid through its own bank

The status checks of payments and of their history admit `reported`.

Revision ID: 5c2e8f0a9d41
Revises: e94763d11593
Create Date: 2026-11-22 14:40:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5c2e8f0a9d41"
down_revision: str | None = "e94763d11593"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("registered", "verified", "scheduled", "sent", "settled", "returned", "rejected", "held", "cancelled")
AFTER = (*BEFORE, "reported")
CHECKS = (("payments", "status"), ("payment_events", "from_status"), ("payment_events", "to_status"))


def _replace_checks(values: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{v}'" for v in values)
    for table, column in CHECKS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT ck_{table}_{column}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT ck_{table}_{column} CHECK ({column} IN ({allowed}))")


def upgrade() -> None:
    _replace_checks(AFTER)


def downgrade() -> None:
    # Reported payments have no status before this revision; going back with some would lose them.
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM payments WHERE status = 'reported') THEN "
        "RAISE EXCEPTION 'reported payments exist; they cannot be kept below this revision'; END IF; END $$"
    )
    _replace_checks(BEFORE)
