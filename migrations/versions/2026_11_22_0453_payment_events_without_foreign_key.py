"""payment events without per-row foreign key

Payment events refer to payments the way payments refer to payers and payees (decision 0004): no
per-row key check, and instead the referenced rows can never be deleted nor re-keyed. The account
check appends an event per payment it moves; for a 3-million-payment batch the key check alone
cost 27 s.

Revision ID: 17eb0e3269ca
Revises: 784fad2b5686
Create Date: 2026-11-22 04:53:06.503699+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "17eb0e3269ca"
down_revision: str | None = "784fad2b5686"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE TRIGGER payments_never_removed BEFORE DELETE OR TRUNCATE ON payments "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite()"
    )
    op.execute(
        "CREATE TRIGGER payments_id_fixed BEFORE UPDATE OF id ON payments "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite()"
    )
    op.drop_constraint(op.f("fk_payment_events_payment_id_payments"), "payment_events", type_="foreignkey")


def downgrade() -> None:
    op.create_foreign_key(
        op.f("fk_payment_events_payment_id_payments"), "payment_events", "payments", ["payment_id"], ["id"]
    )
    op.execute("DROP TRIGGER payments_id_fixed ON payments")
    op.execute("DROP TRIGGER payments_never_removed ON payments")
