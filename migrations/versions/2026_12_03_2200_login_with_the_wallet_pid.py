"""login with the PID in the EU wallet: a presentation request may be a login, bound to the browser
that asked for it.

Revision ID: 9d5a3b7e2c48
Revises: 8c4f2a6d1b37
Create Date: 2026-12-03 22:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d5a3b7e2c48"
down_revision: str | None = "8c4f2a6d1b37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIELDS_BEFORE = (
    "(purpose = 'inspect' AND kind IS NOT NULL) OR "
    "(purpose = 'designate_account' AND person_id IS NOT NULL AND actor IS NOT NULL)"
)
FIELDS_AFTER = FIELDS_BEFORE + " OR (purpose = 'log_in' AND browser_sha256 IS NOT NULL)"


def upgrade() -> None:
    op.add_column("presentation_requests", sa.Column("browser_sha256", sa.LargeBinary(length=32), nullable=True))
    op.drop_constraint(op.f("ck_presentation_requests_purpose"), "presentation_requests", type_="check")
    op.create_check_constraint(
        op.f("ck_presentation_requests_purpose"),
        "presentation_requests",
        "purpose IN ('inspect', 'designate_account', 'log_in')",
    )
    op.drop_constraint(op.f("ck_presentation_requests_purpose_fields"), "presentation_requests", type_="check")
    op.create_check_constraint(op.f("ck_presentation_requests_purpose_fields"), "presentation_requests", FIELDS_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM presentation_requests WHERE purpose = 'log_in'")
    op.drop_constraint(op.f("ck_presentation_requests_purpose_fields"), "presentation_requests", type_="check")
    op.create_check_constraint(op.f("ck_presentation_requests_purpose_fields"), "presentation_requests", FIELDS_BEFORE)
    op.drop_constraint(op.f("ck_presentation_requests_purpose"), "presentation_requests", type_="check")
    op.create_check_constraint(
        op.f("ck_presentation_requests_purpose"), "presentation_requests", "purpose IN ('inspect', 'designate_account')"
    )
    op.drop_column("presentation_requests", "browser_sha256")
