"""eID login: login attempts, browser sessions, and the eID identifier of staff members

Revision ID: 674ea6fac753
Revises: 526fa256a302
Create Date: 2026-11-22 19:23:47.730348+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import saldo.db.types

revision: str = "674ea6fac753"
down_revision: str | None = "526fa256a302"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("state_sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column(
            "audience",
            sa.Enum("citizen", "staff", name="audience", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("return_to", sa.Text(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at", saldo.db.types.UtcDateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
        sa.UniqueConstraint("state_sha256", name=op.f("uq_login_attempts_state_sha256")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("secret_sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "audience",
            sa.Enum("citizen", "staff", name="audience", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("person_scheme", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("loa", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("acting_scheme", sa.String(length=32), nullable=True),
        sa.Column("acting_id", sa.String(length=20), nullable=True),
        sa.Column("acting_purpose", sa.Text(), nullable=True),
        sa.Column("last_seen_at", saldo.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", saldo.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", saldo.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at", saldo.db.types.UtcDateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_members.id"], name=op.f("fk_web_sessions_staff_id_staff_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("secret_sha256", name=op.f("uq_web_sessions_secret_sha256")),
    )
    op.add_column("staff_members", sa.Column("person_scheme", sa.String(length=32), nullable=True))
    op.add_column("staff_members", sa.Column("person_id", sa.String(length=20), nullable=True))
    op.create_unique_constraint(op.f("uq_staff_members_person_id"), "staff_members", ["person_id"])


def downgrade() -> None:
    op.drop_constraint(op.f("uq_staff_members_person_id"), "staff_members", type_="unique")
    op.drop_column("staff_members", "person_id")
    op.drop_column("staff_members", "person_scheme")
    op.drop_table("web_sessions")
    op.drop_table("login_attempts")
