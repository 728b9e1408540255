"""a cross-border case's participants: the institutions besides its owner that take part now

Until now a case had exactly one counterparty. The owner adds one with an X005 and removes one
with an X006; the owner's SEDs go to every participant (or the one named), each participant answers
the owner. Existing cases get their one counterparty as their only participant. Adding a column
with a constant default is instant on PostgreSQL 11 and later; the backfill writes each case's
row once (cross-border cases are few next to payments).

Revision ID: 4b8e2f6a9c17
Revises: e2a7c5d9f314
Create Date: 2026-12-05 07:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "4b8e2f6a9c17"
down_revision: str | None = "e2a7c5d9f314"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "eessi_cases",
        sa.Column(
            "participants", postgresql.ARRAY(sa.String(16)), nullable=False, server_default=sa.text("'{}'::varchar[]")
        ),
    )
    op.execute("UPDATE eessi_cases SET participants = ARRAY[counterparty]::varchar[]")


def downgrade() -> None:
    op.drop_column("eessi_cases", "participants")
