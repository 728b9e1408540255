"""foreign eID logins through the eIDAS network, with how each was matched to a person here; and the
foreign identification numbers EESSI documents carry, indexed for that match.

Revision ID: 8c4f2a6d1b37
Revises: 7b3e9c1d5a22
Create Date: 2026-12-03 21:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c4f2a6d1b37"
down_revision: str | None = "7b3e9c1d5a22"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRENGTHS = "'identifier', 'known_identifier', 'name_and_birth_date', 'ambiguous', 'unmatched'"


def upgrade() -> None:
    op.create_table(
        "foreign_logins",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("person_identifier", sa.String(length=256), nullable=False),
        sa.Column("origin", sa.String(length=2), nullable=False),
        sa.Column("loa", sa.String(length=16), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("strength", sa.String(length=19), nullable=False),
        sa.Column("person_scheme", sa.String(length=32), nullable=True),
        sa.Column("person_id", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(f"strength IN ({STRENGTHS})", name=op.f("ck_foreign_logins_match_strength")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_foreign_logins")),
    )
    op.create_index(op.f("ix_foreign_logins_person_id"), "foreign_logins", ["person_id"])
    op.create_index(op.f("ix_foreign_logins_created_at"), "foreign_logins", ["created_at"])
    # a GIN index built on a populated table: the documents' person part, for "@>" on its PINs
    op.create_index(
        "ix_eessi_documents_person_pins",
        "eessi_documents",
        [sa.text("((content -> 'person'::text) -> 'PINPersonInEachInstitution'::text)")],
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_eessi_documents_person_pins", table_name="eessi_documents")
    op.drop_table("foreign_logins")
