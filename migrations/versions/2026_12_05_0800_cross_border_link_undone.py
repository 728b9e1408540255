"""a link to a person undone: the facts it gave withdrawn, and the undoing kept on the case

A case linked by birth date and full name, or confirmed by staff, can be linked to the wrong person.
Staff undo the link with a reason: the case waits for a person again, the facts its SEDs gave are
withdrawn (kept, marked, no longer read by the analysis or the procedures), and the case keeps who
undid which link, when and why. Three nullable columns and one: no table is rewritten.

Revision ID: 9d3a6c1e7f42
Revises: 4b8e2f6a9c17
Create Date: 2026-12-05 08:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from saldo.db.types import UtcDateTime

revision: str = "9d3a6c1e7f42"
down_revision: str | None = "4b8e2f6a9c17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("eessi_facts", sa.Column("withdrawn_at", UtcDateTime(), nullable=True))
    op.add_column("eessi_facts", sa.Column("withdrawn_by", sa.String(100), nullable=True))
    op.add_column("eessi_facts", sa.Column("withdrawn_reason", sa.Text(), nullable=True))
    op.add_column("eessi_cases", sa.Column("undone_links", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("eessi_cases", "undone_links")
    op.drop_column("eessi_facts", "withdrawn_reason")
    op.drop_column("eessi_facts", "withdrawn_by")
    op.drop_column("eessi_facts", "withdrawn_at")
