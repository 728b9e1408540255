"""unmatched entries name their run: an entry the bank reported about a file of a run counts in
that run's reconciliation even when its reference is unknown, and a camt entry keeps its account

Before this revision an unmatched entry was tied to a run only through the payment it named, so an
entry with an unknown end-to-end id appeared in no run's reconciliation: a status report listing a
transaction Saldo never sent left the run "reconciled". A pain.002 answers one file, so its entries
belong to that file's run whatever they name. A camt entry names only the debtor account it was
booked on; when it matches no payment sent from that account it belongs to no run, and is kept with
its account so the account's unattributed entries can be listed — never guessed into a run.

Revision ID: 5d8e2b7c4f19
Revises: 9e4c2a7d1b60
Create Date: 2026-12-03 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d8e2b7c4f19"
down_revision: str | None = "9e4c2a7d1b60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("unmatched_entries", sa.Column("run_id", sa.BigInteger(), nullable=True))
    op.add_column("unmatched_entries", sa.Column("debtor_account_scheme", sa.String(length=20), nullable=True))
    op.add_column("unmatched_entries", sa.Column("debtor_account", sa.String(length=40), nullable=True))
    op.create_foreign_key(
        "fk_unmatched_entries_run_id_payment_runs", "unmatched_entries", "payment_runs", ["run_id"], ["id"]
    )
    # The table is append-only; its guard is lifted inside this migration's transaction only, to
    # fill the new columns of the rows already there (no existing value changes), and put back.
    op.execute("ALTER TABLE unmatched_entries DISABLE TRIGGER unmatched_entries_append_only")
    # Entries of a status report: the run of the file it answers.
    op.execute(
        """
        UPDATE unmatched_entries u SET run_id = f.run_id
          FROM bank_messages m JOIN payment_files f ON f.message_id = m.summary->>'original_message_id'
         WHERE m.id = u.bank_message_id AND m.message_type LIKE 'pain.002.%'
        """
    )
    # Entries of a notification or statement: the run of the payment they named, when it was sent
    # from the account the message reports on (the only account, for messages read before several
    # accounts per message were accepted).
    op.execute(
        """
        UPDATE unmatched_entries u SET run_id = r.id,
               debtor_account_scheme = r.debtor_account_scheme, debtor_account = r.debtor_account
          FROM bank_messages m, payments p JOIN payment_runs r ON r.id = p.run_id
         WHERE m.id = u.bank_message_id AND m.message_type LIKE 'camt.%' AND p.id = u.payment_id
           AND r.debtor_account = m.summary->>'account'
        """
    )
    op.execute(
        """
        UPDATE unmatched_entries u SET debtor_account = m.summary->>'account',
               debtor_account_scheme = (SELECT r.debtor_account_scheme FROM payment_runs r
                                         WHERE r.debtor_account = m.summary->>'account' LIMIT 1)
          FROM bank_messages m
         WHERE m.id = u.bank_message_id AND m.message_type LIKE 'camt.%' AND u.debtor_account IS NULL
           AND m.summary->>'account' IS NOT NULL
        """
    )
    op.execute("ALTER TABLE unmatched_entries ENABLE TRIGGER unmatched_entries_append_only")
    op.create_index("ix_unmatched_entries_run_id", "unmatched_entries", ["run_id"])
    op.create_index(
        "ix_unmatched_entries_unattributed",
        "unmatched_entries",
        ["debtor_account_scheme", "debtor_account"],
        postgresql_where=sa.text("run_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_unmatched_entries_unattributed", table_name="unmatched_entries")
    op.drop_index("ix_unmatched_entries_run_id", table_name="unmatched_entries")
    op.drop_constraint("fk_unmatched_entries_run_id_payment_runs", "unmatched_entries", type_="foreignkey")
    op.drop_column("unmatched_entries", "debtor_account")
    op.drop_column("unmatched_entries", "debtor_account_scheme")
    op.drop_column("unmatched_entries", "run_id")
