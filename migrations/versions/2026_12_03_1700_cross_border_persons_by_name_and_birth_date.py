"""cross-border persons by name and birth date: a SED without this country's identification number
links to the person when exactly one person with an account here was born that day and has its full
name as the bank registered it; the strength is kept. Anything weaker waits for staff, with the
persons it may mean kept as candidates.

Revision ID: 9d2a4f7b1e63
Revises: 3b8d6e1a9c47
Create Date: 2026-12-03 17:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "9d2a4f7b1e63"
down_revision: str | None = "3b8d6e1a9c47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_eessi_cases_eessi_person_match"


def _person_match(*values: str, length: int) -> None:
    allowed = ", ".join(f"'{v}'" for v in values)
    op.execute(f"ALTER TABLE eessi_cases DROP CONSTRAINT {CHECK}")
    op.alter_column("eessi_cases", "person_match", type_=sa.String(length=length), existing_nullable=True)
    op.execute(f"ALTER TABLE eessi_cases ADD CONSTRAINT {CHECK} CHECK (person_match IN ({allowed}))")


def upgrade() -> None:
    _person_match("identifier", "name_and_birth_date", "confirmed", "unmatched", length=19)
    op.add_column("eessi_cases", sa.Column("match_strength", sa.String(length=200), nullable=True))
    op.add_column("eessi_cases", sa.Column("match_candidates", postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("eessi_cases", "match_candidates")
    op.drop_column("eessi_cases", "match_strength")
    op.execute("UPDATE eessi_cases SET person_match = 'confirmed' WHERE person_match = 'name_and_birth_date'")
    _person_match("identifier", "confirmed", "unmatched", length=10)
