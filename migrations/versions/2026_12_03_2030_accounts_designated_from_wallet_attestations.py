"""accounts designated from the EU wallet: a designation's evidence (the bank's account attestation
as presented), the wallet channel, and presentation requests made for a person's designation.

Revision ID: 7b3e9c1d5a22
Revises: 5e8c2d7a4f10
Create Date: 2026-12-03 20:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7b3e9c1d5a22"
down_revision: str | None = "5e8c2d7a4f10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONB = postgresql.JSONB(astext_type=sa.Text())
CHANNELS_BEFORE = "channel IN ('bank', 'citizen', 'caseworker', 'authority')"
CHANNELS_AFTER = "channel IN ('bank', 'citizen', 'caseworker', 'authority', 'wallet')"


def upgrade() -> None:
    # both are new nullable columns and a wider check: no rewrite of a populated table
    op.add_column("account_designations", sa.Column("evidence", JSONB, nullable=True))
    op.drop_constraint(op.f("ck_account_designations_channel"), "account_designations", type_="check")
    op.create_check_constraint(op.f("ck_account_designations_channel"), "account_designations", CHANNELS_AFTER)

    op.add_column(
        "presentation_requests",
        sa.Column("purpose", sa.String(length=17), nullable=False, server_default="inspect"),
    )
    op.alter_column("presentation_requests", "purpose", server_default=None)
    op.create_check_constraint(
        op.f("ck_presentation_requests_purpose"),
        "presentation_requests",
        "purpose IN ('inspect', 'designate_account')",
    )
    op.alter_column("presentation_requests", "kind", nullable=True)
    op.add_column("presentation_requests", sa.Column("person_scheme", sa.String(length=32), nullable=True))
    op.add_column("presentation_requests", sa.Column("person_id", sa.String(length=20), nullable=True))
    op.add_column("presentation_requests", sa.Column("actor", sa.String(length=100), nullable=True))
    op.create_check_constraint(
        op.f("ck_presentation_requests_purpose_fields"),
        "presentation_requests",
        "(purpose = 'inspect' AND kind IS NOT NULL) OR "
        "(purpose = 'designate_account' AND person_id IS NOT NULL AND actor IS NOT NULL)",
    )


def downgrade() -> None:
    op.execute("DELETE FROM presentation_requests WHERE purpose <> 'inspect'")
    op.drop_constraint(op.f("ck_presentation_requests_purpose_fields"), "presentation_requests", type_="check")
    op.drop_column("presentation_requests", "actor")
    op.drop_column("presentation_requests", "person_id")
    op.drop_column("presentation_requests", "person_scheme")
    op.alter_column("presentation_requests", "kind", nullable=False)
    op.drop_constraint(op.f("ck_presentation_requests_purpose"), "presentation_requests", type_="check")
    op.drop_column("presentation_requests", "purpose")
    # a wallet designation stays in the history (append-only); it reads as the citizen's own
    op.execute("ALTER TABLE account_designations DISABLE TRIGGER USER")
    op.execute("UPDATE account_designations SET channel = 'citizen' WHERE channel = 'wallet'")
    op.execute("ALTER TABLE account_designations ENABLE TRIGGER USER")
    op.drop_constraint(op.f("ck_account_designations_channel"), "account_designations", type_="check")
    op.create_check_constraint(op.f("ck_account_designations_channel"), "account_designations", CHANNELS_BEFORE)
    op.drop_column("account_designations", "evidence")
