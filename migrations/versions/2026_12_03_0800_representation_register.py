"""the register of representatives: who acts for whom (trustees, administrators, guardians) and when

A trustee's client account receives lawfully for many unrelated people; the analysis needs to know
whom a representative acts for, so the account rule can leave those payments alone.

Revision ID: 9e4c2a7d1b60
Revises: 7b2d4f1e8a30
Create Date: 2026-12-03 08:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e4c2a7d1b60"
down_revision: str | None = "7b2d4f1e8a30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = ("population", "income")
KINDS = (*KINDS_BEFORE, "representation")


def _kind_check(kinds: tuple[str, ...]) -> str:
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_register_loads_register_kind"), "register_loads", type_="check")
    op.alter_column("register_loads", "kind", type_=sa.String(length=14), existing_nullable=False)
    op.create_check_constraint("register_kind", "register_loads", _kind_check(KINDS))
    op.create_table(
        "representation_register",
        sa.Column("representative_scheme", sa.String(length=32), nullable=False),
        sa.Column("representative_id", sa.String(length=20), nullable=False),
        sa.Column("represented_scheme", sa.String(length=32), nullable=False),
        sa.Column("represented_id", sa.String(length=20), nullable=False),
        sa.Column("basis", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("load_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "representative_scheme",
            "representative_id",
            "represented_scheme",
            "represented_id",
            "basis",
            "valid_from",
            name=op.f("pk_representation_register"),
        ),
    )


def downgrade() -> None:
    op.drop_table("representation_register")
    op.execute("DELETE FROM register_loads WHERE kind = 'representation'")
    op.drop_constraint(op.f("ck_register_loads_register_kind"), "register_loads", type_="check")
    op.alter_column("register_loads", "kind", type_=sa.String(length=10), existing_nullable=False)
    op.create_check_constraint("register_kind", "register_loads", _kind_check(KINDS_BEFORE))
