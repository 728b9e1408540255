"""cross-border cases asked from audit cases: a case opened from the workbench's audit case names it

An auditor working an audit case can ask an institution abroad about a person of the case (H_BUC_01:
is a benefit paid there for the period?). The cross-border case keeps the audit case it was asked
from, so each shows the other. Cases opened otherwise (the API, the command line, a partner abroad)
name none.

Revision ID: 3b8d6e1a9c47
Revises: 7c1f9a3e5b20
Create Date: 2026-12-03 16:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b8d6e1a9c47"
down_revision: str | None = "7c1f9a3e5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("eessi_cases", sa.Column("audit_case_id", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_eessi_cases_audit_case_id"), "eessi_cases", ["audit_case_id"], unique=False)
    op.create_foreign_key(op.f("fk_eessi_cases_audit_case_id_cases"), "eessi_cases", "cases", ["audit_case_id"], ["id"])


def downgrade() -> None:
    op.drop_constraint(op.f("fk_eessi_cases_audit_case_id_cases"), "eessi_cases", type_="foreignkey")
    op.drop_index(op.f("ix_eessi_cases_audit_case_id"), table_name="eessi_cases")
    op.drop_column("eessi_cases", "audit_case_id")
