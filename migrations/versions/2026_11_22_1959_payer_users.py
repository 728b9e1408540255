"""payer users: people who work for a payer in its pages, and their browser sessions

Revision ID: f718829cc5e0
Revises: 674ea6fac753
Create Date: 2026-11-22 19:59:13.684757+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import saldo.db.types

revision: str = "f718829cc5e0"
down_revision: str | None = "674ea6fac753"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


AUDIENCE_TABLES = ("login_attempts", "web_sessions")


def _audiences(*values: str) -> None:
    allowed = ", ".join(f"'{v}'" for v in values)
    for table in AUDIENCE_TABLES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT ck_{table}_audience")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT ck_{table}_audience CHECK (audience IN ({allowed}))")


def upgrade() -> None:
    _audiences("citizen", "staff", "payer")
    op.create_table(
        "payer_users",
        sa.Column("payer_id", sa.BigInteger(), nullable=False),
        sa.Column("person_scheme", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("disabled_at", saldo.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at", saldo.db.types.UtcDateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(["payer_id"], ["payers.id"], name=op.f("fk_payer_users_payer_id_payers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payer_users")),
        sa.UniqueConstraint("person_scheme", "person_id", name=op.f("uq_payer_users_person_scheme_person_id")),
    )
    op.create_index(op.f("ix_payer_users_payer_id"), "payer_users", ["payer_id"], unique=False)
    op.add_column("web_sessions", sa.Column("payer_user_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_web_sessions_payer_user_id_payer_users"), "web_sessions", "payer_users", ["payer_user_id"], ["id"]
    )


def downgrade() -> None:
    # payer sessions and logins are short-lived and mean nothing below this revision
    for table in AUDIENCE_TABLES:
        op.execute(f"DELETE FROM {table} WHERE audience = 'payer'")  # noqa: S608 — constant table names
    _audiences("citizen", "staff")
    op.drop_constraint(op.f("fk_web_sessions_payer_user_id_payer_users"), "web_sessions", type_="foreignkey")
    op.drop_column("web_sessions", "payer_user_id")
    op.drop_index(op.f("ix_payer_users_payer_id"), table_name="payer_users")
    op.drop_table("payer_users")
