"""online procedures: a person's applications for a PDA1 or a European Health Insurance Card, and
the decision on each.

Revision ID: ae6c4b8f3d59
Revises: 9d5a3b7e2c48
Create Date: 2026-12-04 04:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "ae6c4b8f3d59"
down_revision: str | None = "9d5a3b7e2c48"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("person_scheme", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=9), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("form_key", sa.String(length=64), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal_ground", sa.String(length=13), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("decision_id", sa.BigInteger(), nullable=True),
        sa.Column("credential_pk", sa.BigInteger(), nullable=True),
        sa.Column("eessi_case_pk", sa.BigInteger(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('pda1', 'ehic')", name=op.f("ck_applications_application_kind")),
        sa.CheckConstraint(
            "state IN ('submitted', 'granted', 'refused', 'withdrawn')", name=op.f("ck_applications_application_state")
        ),
        sa.CheckConstraint(
            "refusal_ground IN ('not_insured', 'not_competent', 'incomplete', 'other')",
            name=op.f("ck_applications_refusal_ground"),
        ),
        sa.ForeignKeyConstraint(
            ["credential_pk"], ["credentials.id"], name=op.f("fk_applications_credential_pk_credentials")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["legislation_decisions.id"],
            name=op.f("fk_applications_decision_id_legislation_decisions"),
        ),
        sa.ForeignKeyConstraint(
            ["eessi_case_pk"], ["eessi_cases.id"], name=op.f("fk_applications_eessi_case_pk_eessi_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("reference", name=op.f("uq_applications_reference")),
        sa.UniqueConstraint(
            "person_scheme", "person_id", "form_key", name=op.f("uq_applications_person_scheme_person_id_form_key")
        ),
    )
    op.create_index(op.f("ix_applications_person_id"), "applications", ["person_id"])
    op.create_index(
        "ix_applications_waiting", "applications", ["submitted_at"], postgresql_where=sa.text("state = 'submitted'")
    )
    op.create_index(
        "uq_applications_one_waiting",
        "applications",
        ["person_scheme", "person_id", "kind"],
        unique=True,
        postgresql_where=sa.text("state = 'submitted'"),
    )


def downgrade() -> None:
    op.drop_table("applications")
