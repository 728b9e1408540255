"""banks hold account ranges; a payer's debtor account, a payment run and a bank message belong to a bank

A bank reports accounts only inside the ranges it holds (clearing numbers, IBAN bank codes,
Bankgiro numbers), a run's files go to the bank that holds its debtor account, and only that bank's
answers move the run's payments. Banks connected before this revision get the ranges the published
registers give their BIC; runs get the bank whose ranges hold their debtor account.

Revision ID: 7b2d4f1e8a30
Revises: 3c1a7e5b9d20
Create Date: 2026-12-02 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from saldo.kit.account_number import AccountNumber, AccountScheme
from saldo.kit.account_ranges import published_ranges, range_key

revision: str = "7b2d4f1e8a30"
down_revision: str | None = "3c1a7e5b9d20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bank_ranges",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("bank_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "scheme",
            sa.Enum(
                "iban",
                "se_clearing",
                "se_bankgiro",
                name="scheme",
                native_enum=False,
                create_constraint=True,
                length=11,
            ),
            nullable=False,
        ),
        sa.Column("first", sa.String(length=16), nullable=False),
        sa.Column("last", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.id"], name=op.f("fk_bank_ranges_bank_id_banks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_ranges")),
    )
    op.create_index(op.f("ix_bank_ranges_bank_id"), "bank_ranges", ["bank_id"], unique=False)
    for table in ("payers", "payment_runs", "bank_messages"):
        op.add_column(table, sa.Column("bank_id", sa.BigInteger(), nullable=True))
        op.create_foreign_key(op.f(f"fk_{table}_bank_id_banks"), table, "banks", ["bank_id"], ["id"])

    connection = op.get_bind()
    taken: list[tuple[str, str, str]] = []
    for bank_id, bic in connection.execute(sa.text("SELECT id, bic FROM banks ORDER BY id")).all():
        for r in published_ranges(bic):
            if any(
                s == r.scheme.value and len(f) == len(r.first) and f <= r.last and r.first <= last
                for s, f, last in taken
            ):
                continue  # an earlier bank holds it: ranges never overlap
            taken.append((r.scheme.value, r.first, r.last))
            connection.execute(
                sa.text("INSERT INTO bank_ranges (bank_id, scheme, first, last) VALUES (:b, :s, :f, :l)"),
                {"b": bank_id, "s": r.scheme.value, "f": r.first, "l": r.last},
            )
    accounts = connection.execute(
        sa.text("SELECT DISTINCT debtor_account_scheme, debtor_account FROM payment_runs WHERE bank_id IS NULL")
    ).all()
    for scheme, number in accounts:
        key = range_key(AccountNumber(AccountScheme(scheme), number))
        connection.execute(
            sa.text(
                """
                UPDATE payment_runs SET bank_id = (
                    SELECT bank_id FROM bank_ranges
                     WHERE scheme = :s AND length(first) = length(:k) AND first <= :k AND last >= :k LIMIT 1)
                 WHERE debtor_account_scheme = :s AND debtor_account = :a AND bank_id IS NULL
                """
            ),
            {"s": scheme, "k": key, "a": number},
        )


def downgrade() -> None:
    for table in ("bank_messages", "payment_runs", "payers"):
        op.drop_constraint(op.f(f"fk_{table}_bank_id_banks"), table, type_="foreignkey")
        op.drop_column(table, "bank_id")
    op.drop_index(op.f("ix_bank_ranges_bank_id"), table_name="bank_ranges")
    op.drop_table("bank_ranges")
