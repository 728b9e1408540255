"""credentials: PDA1 and EHIC issued as SD-JWT VCs, the applicable-legislation decisions they come
from, their history, the OpenID4VCI offers and nonces wallets collect them with, and the token
status lists that tell verifiers whether each still holds.

Revision ID: 5e8c2d7a4f10
Revises: 9d2a4f7b1e63
Create Date: 2026-12-03 18:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5e8c2d7a4f10"
down_revision: str | None = "9d2a4f7b1e63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONB = postgresql.JSONB(astext_type=sa.Text())
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "legislation_decisions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("person_scheme", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=20), nullable=False),
        sa.Column("legislation_country", sa.String(length=2), nullable=False),
        sa.Column("status_confirmation", sa.String(length=2), nullable=False),
        sa.Column("starting_date", sa.Date(), nullable=False),
        sa.Column("ending_date", sa.Date(), nullable=False),
        sa.Column("employer", JSONB, nullable=False),
        sa.Column("work_address", JSONB, nullable=False),
        sa.Column("eessi_case_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["eessi_case_id"], ["eessi_cases.id"], name=op.f("fk_legislation_decisions_eessi_case_id_eessi_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legislation_decisions")),
    )
    op.create_index(op.f("ix_legislation_decisions_person_id"), "legislation_decisions", ["person_id"])
    op.create_table(
        "credential_status_lists",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_status_lists")),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("document_number", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("vct", sa.String(length=100), nullable=False),
        sa.Column("person_scheme", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=20), nullable=False),
        sa.Column("claims", JSONB, nullable=False),
        sa.Column("decision_id", sa.BigInteger(), nullable=True),
        sa.Column("status_list_id", sa.BigInteger(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=9), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("collections", sa.Integer(), nullable=False),
        sa.Column("holder_jwk", JSONB, nullable=True),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('pda1', 'ehic')", name=op.f("ck_credentials_credential_kind")),
        sa.CheckConstraint("state IN ('valid', 'suspended', 'revoked')", name=op.f("ck_credentials_credential_state")),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["legislation_decisions.id"], name=op.f("fk_credentials_decision_id_legislation_decisions")
        ),
        sa.ForeignKeyConstraint(
            ["status_list_id"],
            ["credential_status_lists.id"],
            name=op.f("fk_credentials_status_list_id_credential_status_lists"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("document_number", name=op.f("uq_credentials_document_number")),
        sa.UniqueConstraint("status_list_id", "status_index", name=op.f("uq_credentials_status_list_id_status_index")),
    )
    op.create_index(op.f("ix_credentials_person_id"), "credentials", ["person_id"])
    op.create_index(op.f("ix_credentials_decision_id"), "credentials", ["decision_id"])
    op.create_table(
        "credential_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("credential_pk", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", JSONB, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_pk"], ["credentials.id"], name=op.f("fk_credential_events_credential_pk_credentials")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_events")),
    )
    op.create_index(op.f("ix_credential_events_credential_pk"), "credential_events", ["credential_pk"])
    op.create_table(
        "credential_offers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("credential_pk", sa.BigInteger(), nullable=False),
        sa.Column("code_sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("tx_code_sha256", sa.LargeBinary(length=32), nullable=True),
        sa.Column("failed_tx_codes", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=True),
        sa.Column("redirect_uri", sa.Text(), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_sha256", sa.LargeBinary(length=32), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_pk"], ["credentials.id"], name=op.f("fk_credential_offers_credential_pk_credentials")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_offers")),
        sa.UniqueConstraint("code_sha256", name=op.f("uq_credential_offers_code_sha256")),
    )
    op.create_index(op.f("ix_credential_offers_credential_pk"), "credential_offers", ["credential_pk"])
    op.create_index("ix_credential_offers_token", "credential_offers", ["token_sha256"], unique=True)
    op.create_table(
        "credential_nonces",
        sa.Column("nonce_sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("nonce_sha256", name=op.f("pk_credential_nonces")),
    )
    op.create_index(op.f("ix_credential_nonces_expires_at"), "credential_nonces", ["expires_at"])
    op.create_table(
        "presentation_requests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", JSONB, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("kind IN ('pda1', 'ehic')", name=op.f("ck_presentation_requests_presentation_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presentation_requests")),
        sa.UniqueConstraint("request_id", name=op.f("uq_presentation_requests_request_id")),
    )
    op.create_table(
        "verifier_status_lists",
        sa.Column("uri", sa.String(length=500), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uri", name=op.f("pk_verifier_status_lists")),
    )


def downgrade() -> None:
    op.drop_table("verifier_status_lists")
    op.drop_table("presentation_requests")
    op.drop_table("credential_nonces")
    op.drop_table("credential_offers")
    op.drop_table("credential_events")
    op.drop_table("credentials")
    op.drop_table("credential_status_lists")
    op.drop_table("legislation_decisions")
