"""cross-border cases and SEDs: the BUCs this node plays with other countries' institutions, each
SED sent (the outbox, until a signed receipt proves delivery) or received (once per AS4 message id),
and the facts received SEDs teach about a person (a death, a benefit or a residence abroad)

Revision ID: 2eef5d2ae287
Revises: 5d8e2b7c4f19
Create Date: 2026-12-03 13:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import saldo.db.types

revision: str = "2eef5d2ae287"
down_revision: str | None = "5d8e2b7c4f19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "eessi_cases",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("buc_type", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=16), nullable=False),
        sa.Column("counterparty", sa.String(length=16), nullable=False),
        sa.Column("partner", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="eessi_case_status", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("person_scheme", sa.String(length=32), nullable=True),
        sa.Column("person_id", sa.String(length=20), nullable=True),
        sa.Column(
            "person_match",
            sa.Enum(
                "identifier",
                "confirmed",
                "unmatched",
                name="eessi_person_match",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at", saldo.db.types.UtcDateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("closed_at", saldo.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eessi_cases")),
        sa.UniqueConstraint("case_id", name=op.f("uq_eessi_cases_case_id")),
    )
    op.create_index(op.f("ix_eessi_cases_partner"), "eessi_cases", ["partner"], unique=False)
    op.create_index(op.f("ix_eessi_cases_person_id"), "eessi_cases", ["person_id"], unique=False)
    op.create_table(
        "eessi_documents",
        sa.Column("case_pk", sa.BigInteger(), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("sed_type", sa.String(length=8), nullable=False),
        sa.Column(
            "direction",
            sa.Enum("out", "in", name="eessi_direction", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("receiver", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.String(length=64), nullable=True),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "delivered",
                "undeliverable",
                "accepted",
                "rejected",
                name="eessi_document_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("answered_at", saldo.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", saldo.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", saldo.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("exchange", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("as4_message", sa.LargeBinary(), nullable=True),
        sa.Column("receipt", sa.LargeBinary(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at", saldo.db.types.UtcDateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("delivered_at", saldo.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(["case_pk"], ["eessi_cases.id"], name=op.f("fk_eessi_documents_case_pk_eessi_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eessi_documents")),
        sa.UniqueConstraint("case_pk", "document_id", name=op.f("uq_eessi_documents_case_pk_document_id")),
        sa.UniqueConstraint("message_id", name=op.f("uq_eessi_documents_message_id")),
    )
    op.create_index(op.f("ix_eessi_documents_case_pk"), "eessi_documents", ["case_pk"], unique=False)
    op.create_index(
        "ix_eessi_documents_deadline",
        "eessi_documents",
        ["deadline"],
        unique=False,
        postgresql_where="answered_at IS NULL AND deadline IS NOT NULL",
    )
    op.create_index(
        "ix_eessi_documents_outbox",
        "eessi_documents",
        ["next_attempt_at"],
        unique=False,
        postgresql_where="status = 'queued'",
    )
    op.create_table(
        "eessi_facts",
        sa.Column("person_scheme", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=20), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "death",
                "benefit_abroad",
                "residence_abroad",
                name="eessi_fact_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("values", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("document_pk", sa.BigInteger(), nullable=False),
        sa.Column("institution", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at", saldo.db.types.UtcDateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_pk"], ["eessi_documents.id"], name=op.f("fk_eessi_facts_document_pk_eessi_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eessi_facts")),
    )
    op.create_index(op.f("ix_eessi_facts_document_pk"), "eessi_facts", ["document_pk"], unique=False)
    op.create_index(op.f("ix_eessi_facts_person_id"), "eessi_facts", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_eessi_facts_person_id"), table_name="eessi_facts")
    op.drop_index(op.f("ix_eessi_facts_document_pk"), table_name="eessi_facts")
    op.drop_table("eessi_facts")
    op.drop_index("ix_eessi_documents_outbox", table_name="eessi_documents", postgresql_where="status = 'queued'")
    op.drop_index(
        "ix_eessi_documents_deadline",
        table_name="eessi_documents",
        postgresql_where="answered_at IS NULL AND deadline IS NOT NULL",
    )
    op.drop_index(op.f("ix_eessi_documents_case_pk"), table_name="eessi_documents")
    op.drop_table("eessi_documents")
    op.drop_index(op.f("ix_eessi_cases_person_id"), table_name="eessi_cases")
    op.drop_index(op.f("ix_eessi_cases_partner"), table_name="eessi_cases")
    op.drop_table("eessi_cases")
