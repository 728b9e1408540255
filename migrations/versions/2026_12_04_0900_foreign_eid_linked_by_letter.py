"""a foreign eID linked to a person here by a code sent by letter to the registered address, or by
a caseworker at a service office who saw the person's identity document; the foreign logins remember which way in they came (eIDAS or the wallet's PID) and the browser they
landed in, and a login may match by such a link.

Revision ID: b5d2e8f1a734
Revises: ae6c4b8f3d59
Create Date: 2026-12-04 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5d2e8f1a734"
down_revision: str | None = "ae6c4b8f3d59"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRENGTHS = "'identifier', 'known_identifier', 'name_and_birth_date', 'ambiguous', 'unmatched'"
STATES = "'pending', 'confirmed', 'superseded', 'burnt', 'removed'"


def upgrade() -> None:
    op.add_column("foreign_logins", sa.Column("provider", sa.String(length=16), server_default="eidas", nullable=False))
    op.add_column("foreign_logins", sa.Column("browser_hash", sa.String(length=64), nullable=True))
    op.drop_constraint(op.f("ck_foreign_logins_match_strength"), "foreign_logins", type_="check")
    op.create_check_constraint(
        op.f("ck_foreign_logins_match_strength"), "foreign_logins", f"strength IN ({STRENGTHS}, 'linked')"
    )
    op.create_table(
        "foreign_links",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("person_identifier", sa.String(length=256), nullable=False),
        sa.Column("origin", sa.String(length=2), nullable=False),
        sa.Column("person_scheme", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("linked_by", sa.String(length=80), nullable=False),
        sa.Column("document", sa.String(length=80), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("letter_id", sa.BigInteger(), nullable=True),
        sa.Column("login_id", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=80), nullable=True),
        sa.CheckConstraint(f"state IN ({STATES})", name=op.f("ck_foreign_links_link_state")),
        sa.ForeignKeyConstraint(["letter_id"], ["letters.id"], name=op.f("fk_foreign_links_letter_id_letters")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_foreign_links")),
    )
    op.create_index(op.f("ix_foreign_links_person_identifier"), "foreign_links", ["person_identifier"])
    op.create_index(op.f("ix_foreign_links_person_id"), "foreign_links", ["person_id"])
    op.create_index(
        "uq_foreign_links_confirmed",
        "foreign_links",
        ["person_identifier"],
        unique=True,
        postgresql_where=sa.text("state = 'confirmed'"),
    )
    op.create_index(
        "uq_foreign_links_pending",
        "foreign_links",
        ["person_identifier"],
        unique=True,
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("foreign_links")
    op.execute("DELETE FROM foreign_logins WHERE strength = 'linked'")
    op.drop_constraint(op.f("ck_foreign_logins_match_strength"), "foreign_logins", type_="check")
    op.create_check_constraint(op.f("ck_foreign_logins_match_strength"), "foreign_logins", f"strength IN ({STRENGTHS})")
    op.drop_column("foreign_logins", "browser_hash")
    op.drop_column("foreign_logins", "provider")
