"""evidence exchanged once only with authorities abroad (the requester's and the provider's side,
with the person's preview decision) and the AS4 messages that carried it

Revision ID: c7e3a9d2f610
Revises: b5d2e8f1a734
Create Date: 2026-12-04 16:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7e3a9d2f610"
down_revision: str | None = "b5d2e8f1a734"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = "'requester', 'provider'"
STATES = "'requested', 'preview', 'approved', 'refused', 'delivered', 'failed', 'expired', 'withdrawn'"
DIRECTIONS = "'out', 'in'"
STATUSES = "'pending', 'delivered', 'undeliverable', 'received'"


def upgrade() -> None:
    op.create_table(
        "evidence_exchanges",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("role", sa.String(length=9), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("partner", sa.String(length=100), nullable=False),
        sa.Column("partner_name", sa.String(length=200), nullable=False),
        sa.Column("partner_country", sa.String(length=2), nullable=False),
        sa.Column("evidence_type", sa.String(length=64), nullable=False),
        sa.Column("procedure", sa.String(length=4), nullable=False),
        sa.Column("eidas_identifier", sa.String(length=300), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("person_scheme", sa.String(length=32), nullable=True),
        sa.Column("person_id", sa.String(length=20), nullable=True),
        sa.Column("match", sa.String(length=300), nullable=True),
        sa.Column("application_pk", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=9), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("preview_token", sa.String(length=64), nullable=True),
        sa.Column("preview_location", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("evidence", sa.LargeBinary(), nullable=True),
        sa.Column("evidence_format", sa.String(length=80), nullable=True),
        sa.Column("evidence_title", sa.String(length=200), nullable=True),
        sa.Column("evidence_issued_on", sa.Date(), nullable=True),
        sa.Column("response_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"role IN ({ROLES})", name=op.f("ck_evidence_exchanges_exchange_role")),
        sa.CheckConstraint(f"state IN ({STATES})", name=op.f("ck_evidence_exchanges_exchange_state")),
        sa.ForeignKeyConstraint(
            ["application_pk"], ["applications.id"], name=op.f("fk_evidence_exchanges_application_pk_applications")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_exchanges")),
        sa.UniqueConstraint("preview_token", name=op.f("uq_evidence_exchanges_preview_token")),
        sa.UniqueConstraint("role", "request_id", name=op.f("uq_evidence_exchanges_role_request_id")),
    )
    op.create_index("ix_evidence_exchanges_person", "evidence_exchanges", ["person_scheme", "person_id"])
    op.create_table(
        "evidence_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("exchange_pk", sa.BigInteger(), nullable=True),
        sa.Column("partner", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("attachment_id", sa.String(length=200), nullable=True),
        sa.Column("attachment", sa.LargeBinary(), nullable=True),
        sa.Column("attachment_format", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=13), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("as4_message", sa.LargeBinary(), nullable=True),
        sa.Column("exchange", sa.dialects.postgresql.JSONB(), nullable=True),
        sa.Column("receipt", sa.LargeBinary(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"direction IN ({DIRECTIONS})", name=op.f("ck_evidence_messages_message_direction")),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_evidence_messages_message_status")),
        sa.ForeignKeyConstraint(
            ["exchange_pk"], ["evidence_exchanges.id"], name=op.f("fk_evidence_messages_exchange_pk_evidence_exchanges")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_messages")),
        sa.UniqueConstraint("direction", "message_id", name=op.f("uq_evidence_messages_direction_message_id")),
    )
    op.create_index(op.f("ix_evidence_messages_exchange_pk"), "evidence_messages", ["exchange_pk"])
    op.create_index(
        "ix_evidence_messages_due",
        "evidence_messages",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("evidence_messages")
    op.drop_table("evidence_exchanges")
