"""register keepers: the authorities that send the population and income registers by API, and their tokens

Revision ID: 526fa256a302
Revises: 5c2e8f0a9d41
Create Date: 2026-11-22 14:42:13.330368+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import saldo.db.types

revision: str = "526fa256a302"
down_revision: str | None = "5c2e8f0a9d41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "register_keepers",
        sa.Column("organisation_number", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("registers", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at", saldo.db.types.UtcDateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_keepers")),
        sa.UniqueConstraint("organisation_number", name=op.f("uq_register_keepers_organisation_number")),
    )
    op.create_table(
        "register_keeper_tokens",
        sa.Column("keeper_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at", saldo.db.types.UtcDateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("revoked_at", saldo.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["keeper_id"], ["register_keepers.id"], name=op.f("fk_register_keeper_tokens_keeper_id_register_keepers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_keeper_tokens")),
        sa.UniqueConstraint("secret_sha256", name=op.f("uq_register_keeper_tokens_secret_sha256")),
    )
    op.create_index(op.f("ix_register_keeper_tokens_keeper_id"), "register_keeper_tokens", ["keeper_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_register_keeper_tokens_keeper_id"), table_name="register_keeper_tokens")
    op.drop_table("register_keeper_tokens")
    op.drop_table("register_keepers")
