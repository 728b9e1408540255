"""who moved a payment and why, kept once per note instead of once per transition

A year's history holds 2.8 transitions a payment, and nearly all of them say one of a few dozen
things ("account check: …", "in payment run 17 … handed to the bank", a bank message's reason),
each written out on every row. The notes table keeps each (actor, reason) once; a transition names
it by an id that is a digest of the two, so a writer never reads to find it. See decision 0031.

Done on a populated table in the migration's own transaction: the distinct notes are copied, then
one ALTER TABLE rewrites payment_events with the note's id in place of the two texts (and without
the texts' bytes). While it runs, payment_events is locked (ACCESS EXCLUSIVE): the time it takes
at each size measured is in docs/benchmarks.md.

Revision ID: e2a7c5d9f314
Revises: d8f4b1c6e203
Create Date: 2026-12-04 23:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2a7c5d9f314"
down_revision: str | None = "d8f4b1c6e203"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# saldo.payments.models.event_note_id, in SQL: the first 8 bytes of SHA-256 over the actor and,
# after a unit separator (U+001F), the reason, as a signed big-endian bigint.
NOTE_ID = (
    "('x' || left(encode(sha256(convert_to(actor || coalesce(E'\\x1f' || reason, ''), 'UTF8')), 'hex'), 16))"
    "::bit(64)::bigint"
)


def upgrade() -> None:
    op.create_table(
        "payment_event_notes",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_event_notes")),
    )
    # Evidence like the history that names them: never changed, never removed.
    op.execute(
        "CREATE TRIGGER payment_event_notes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON payment_event_notes "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite()"
    )
    op.execute(
        f"INSERT INTO payment_event_notes (id, actor, reason) "  # noqa: S608 — constant SQL
        f"SELECT {NOTE_ID}, actor, reason FROM (SELECT DISTINCT actor, reason FROM payment_events) AS notes"
    )
    op.execute(f"ALTER TABLE payment_events ALTER COLUMN reason TYPE bigint USING {NOTE_ID}, DROP COLUMN actor")
    op.alter_column("payment_events", "reason", new_column_name="note_id", nullable=False)


def downgrade() -> None:
    op.add_column("payment_events", sa.Column("actor", sa.String(length=100), nullable=True))
    op.add_column("payment_events", sa.Column("reason", sa.Text(), nullable=True))
    op.execute("ALTER TABLE payment_events DISABLE TRIGGER payment_events_append_only")
    op.execute(
        "UPDATE payment_events e SET actor = n.actor, reason = n.reason FROM payment_event_notes n WHERE n.id = e.note_id"
    )
    op.execute("ALTER TABLE payment_events ENABLE TRIGGER payment_events_append_only")
    op.alter_column("payment_events", "actor", nullable=False)
    op.drop_column("payment_events", "note_id")
    op.drop_table("payment_event_notes")
