"""a payer's references compared in byte order, so a search by their beginning reads only its range

A payer's listing narrowed to references beginning with some text read every reference from that
text to the end of the payer's range: PostgreSQL turns LIKE 'text%' into an index range only
under the "C" collation, and the column had the database's own (C.UTF-8 here). At a million
payments a first page took 63 ms (p99 233 ms), and it grows with the payer's payments. Under "C"
the range ends where the text's references end.

References are [A-Za-z0-9._:/-] (saldo.payments.service.records), so their order is the same in
both collations; uniqueness is byte equality in both.

The unique index is built again with the "C" collation before the old one is dropped, in the
migration's own transaction; the column's collation then changes without rewriting the table or
that index. While the index is built, reads of payments go on and writes wait (CREATE INDEX holds a
SHARE lock); how long at 0.98 M is in docs/benchmarks.md.

Revision ID: 3f8c1a6e2d94
Revises: 7c2e9a4d1b56
Create Date: 2026-12-06 05:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3f8c1a6e2d94"
down_revision: str | None = "7c2e9a4d1b56"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _collate(collation: str) -> None:
    op.execute(
        f'CREATE UNIQUE INDEX uq_payments_payer_id_reference_next ON payments (payer_id, reference COLLATE "{collation}")'
    )
    op.execute("DROP INDEX uq_payments_payer_id_reference")
    op.execute(f'ALTER TABLE payments ALTER COLUMN reference TYPE varchar(64) COLLATE "{collation}"')
    op.execute("ALTER INDEX uq_payments_payer_id_reference_next RENAME TO uq_payments_payer_id_reference")


def upgrade() -> None:
    _collate("C")


def downgrade() -> None:
    _collate("default")
