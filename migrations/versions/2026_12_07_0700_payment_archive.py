"""the payment archive: a person's settled year in one row, a payer's keys beside it

Decision 0035: a payment settled for months leaves the payments table for a person's year row (the
payments table's own rows in one compressed array) and a narrow key by payer, in one transaction.
This migration adds the two tables, empty, and the view every reader by payee reads: the payments
that stay and the year rows taken apart. A payment may now leave the table, but only for the
archive: the trigger that refused every DELETE is replaced by one that refuses a DELETE unless each
payment it removes has its key and its place in its person's year row by the end of the statement.
TRUNCATE is refused as before.

The year rows' type is the payments table's row type: from now on PostgreSQL refuses a migration
that changes a column's type or adds one with a default to payments; such a migration rewrites the
year rows in the same migration. Every migration that adds or drops a column of payments writes
the view again.

Nothing is moved here: on a populated database it creates two empty tables, a view and a trigger,
in milliseconds.

Revision ID: 5b2e9d1c7a40
Revises: 7ae97ceb1801
Create Date: 2026-12-07 07:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5b2e9d1c7a40"
down_revision: str | None = "7ae97ceb1801"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every column of payments at this revision but the reference, which a year row does not hold (a
# reader by payee never shows it; a reader by payer takes it from the key).
_COLUMNS = (
    "id, payer_id, payee_id, payee_name, benefit_id, amount_minor, currency, decision_reference, period_start, "
    "period_end, due_date, account_scheme, account_number, remittance_info, status, batch_id, account_check, "
    "run_id, file_sequence, hold_id, registered_at, updated_at"
)


def upgrade() -> None:
    op.execute(
        "CREATE TABLE archived_payment_years (payee_id bigint NOT NULL, year integer NOT NULL, "
        "payments payments[] NOT NULL, CONSTRAINT pk_archived_payment_years PRIMARY KEY (payee_id, year)) "
        "WITH (toast_tuple_target = 128)"
    )
    op.execute(
        "CREATE TABLE archived_payment_keys (id bigint NOT NULL, payee_id integer NOT NULL, "
        'payer_id integer NOT NULL, reference varchar(64) COLLATE "C" NOT NULL, '
        "CONSTRAINT pk_archived_payment_keys PRIMARY KEY (payer_id, id))"
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_archived_payment_keys_payer_id_reference ON archived_payment_keys (payer_id, reference)"
    )
    # The payee is taken from the year row, not from the payment in it, so that a reader's condition
    # on the payee reaches the year rows' key.
    archived = ", ".join("y.payee_id" if c == "payee_id" else f"p.{c}" for c in _COLUMNS.split(", "))
    view = (
        f"CREATE VIEW payments_by_payee AS SELECT {_COLUMNS} FROM payments "  # noqa: S608 — constants
        f"UNION ALL SELECT {archived} FROM archived_payment_years y, unnest(y.payments) p"
    )
    op.execute(view)
    op.execute(
        """
        CREATE FUNCTION payments_leave_only_for_the_archive() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (
                SELECT 1 FROM gone g
                 WHERE NOT EXISTS (SELECT 1 FROM archived_payment_keys k
                                    WHERE k.payer_id = g.payer_id AND k.id = g.id AND k.reference = g.reference)
                    OR NOT EXISTS (SELECT 1 FROM archived_payment_years y, unnest(y.payments) p
                                    WHERE y.payee_id = g.payee_id AND y.year = extract(year FROM g.due_date)
                                      AND p.id = g.id)
            ) THEN
                RAISE EXCEPTION 'payments: DELETE refused; a payment leaves the table only for the archive'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute("DROP TRIGGER payments_never_removed ON payments")
    op.execute(
        "CREATE TRIGGER payments_never_truncated BEFORE TRUNCATE ON payments "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite()"
    )
    op.execute(
        "CREATE TRIGGER payments_leave_only_for_the_archive AFTER DELETE ON payments REFERENCING OLD TABLE AS gone "
        "FOR EACH STATEMENT EXECUTE FUNCTION payments_leave_only_for_the_archive()"
    )


def downgrade() -> None:
    # Refused while anything is archived: the payments would be lost with the tables.
    op.execute(
        """
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM archived_payment_keys) THEN
                RAISE EXCEPTION 'archived payments exist: bring them back into payments before this downgrade';
            END IF;
        END $$
        """
    )
    op.execute("DROP TRIGGER payments_leave_only_for_the_archive ON payments")
    op.execute("DROP TRIGGER payments_never_truncated ON payments")
    op.execute("DROP FUNCTION payments_leave_only_for_the_archive()")
    op.execute(
        "CREATE TRIGGER payments_never_removed BEFORE DELETE OR TRUNCATE ON payments "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite()"
    )
    op.execute("DROP VIEW payments_by_payee")
    op.execute("DROP TABLE archived_payment_keys")
    op.execute("DROP TABLE archived_payment_years")
