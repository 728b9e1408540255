"""payer uploads: payment files sent in the browser and the progress of their check

Revision ID: d2735986d43d
Revises: f718829cc5e0
Create Date: 2026-11-22 21:18:13.603185+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import saldo.db.types

revision: str = "d2735986d43d"
down_revision: str | None = "f718829cc5e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payer_uploads",
        sa.Column("payer_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_by", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column(
            "format",
            sa.Enum("json", "ndjson", "csv", name="format", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("expected_records", sa.BigInteger(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "checking", "accepted", "rejected", "failed", name="status", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("records_checked", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "started_at", saldo.db.types.UtcDateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "progress_at", saldo.db.types.UtcDateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("finished_at", saldo.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(["payer_id"], ["payers.id"], name=op.f("fk_payer_uploads_payer_id_payers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payer_uploads")),
    )
    op.create_index("ix_payer_uploads_payer_id_id", "payer_uploads", ["payer_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_payer_uploads_payer_id_id", table_name="payer_uploads")
    op.drop_table("payer_uploads")
