"""cancelled payments hold nothing: close the holds left in force on payments cancelled while held

Cancelled is final, so a hold on a cancelled payment can never be released; before this revision a
payment cancelled while held kept its hold in force, and its page offered a release.

Revision ID: 3c1a7e5b9d20
Revises: d2735986d43d
Create Date: 2026-12-02 17:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3c1a7e5b9d20"
down_revision: str | None = "d2735986d43d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Driven from the holds in force (few), through the payments' primary key: no scan of payments.
    op.execute(
        """
        UPDATE payment_holds h
           SET released_at = now(), released_by = 'system:migration',
               release_reason = 'cancelled: the payment was cancelled while held'
          FROM payments p
         WHERE h.released_at IS NULL AND p.id = h.payment_id AND p.hold_id = h.id AND p.status = 'cancelled'
        """
    )
    op.execute(
        """
        UPDATE payments p SET hold_id = NULL
          FROM payment_holds h
         WHERE h.released_by = 'system:migration' AND p.id = h.payment_id AND p.hold_id = h.id
           AND p.status = 'cancelled'
        """
    )


def downgrade() -> None:
    pass  # the holds stay closed: reopening them would offer a release of a cancelled payment again
