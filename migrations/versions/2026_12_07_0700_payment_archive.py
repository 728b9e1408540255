"""the payment archive: a person's settled year in one row, a payer's keys beside it

Decision 0035: a payment settled for months leaves the payments table for a person's year row (the
payments table's own rows in one compressed array) and a narrow key by payer, in one transaction.
This migration adds the two tables, empty, and two views: ``payments_by_payee``, every payment by
payee (the payments that stay and the year rows taken apart), and ``archived_payments``, the
archived ones by payer and id (each key with its payment from the year row). A payment may now
leave the table, but only for the archive: the trigger that refused every DELETE is replaced by one
that refuses a DELETE unless each payment it removes has its key and its place in its person's year
row by the end of the statement. TRUNCATE is refused as before. An insert of a payment whose
reference its payer used for an archived payment fails as a duplicate reference does.

The year rows' type is the payments table's row type: from now on PostgreSQL refuses a migration
that changes a column's type or adds one with a default to payments; such a migration rewrites the
year rows in the same migration. Every migration that adds or drops a column of payments writes
the view again.

Nothing is moved here: on a populated database it creates two empty tables, two views and three
triggers, in milliseconds.

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
        'payer_id integer NOT NULL, reference varchar(64) COLLATE "C" NOT NULL, rare_status varchar(9), '
        "CONSTRAINT pk_archived_payment_keys PRIMARY KEY (payer_id, id))"
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_archived_payment_keys_payer_id_reference ON archived_payment_keys (payer_id, reference)"
    )
    # A payment run's archived payments, counted as its reconciliation counts them: a run's figures
    # stay whole when its payments leave the table, and nothing reads the year rows by run.
    op.execute(
        "CREATE TABLE archived_run_totals (run_id bigint NOT NULL, payer_id bigint NOT NULL, "
        "status varchar(10) NOT NULL, currency varchar(3) NOT NULL, payments bigint NOT NULL, "
        "amount_minor bigint NOT NULL, "
        "CONSTRAINT pk_archived_run_totals PRIMARY KEY (run_id, payer_id, status, currency))"
    )
    # The archived payments by status, which the start page counts with the payments table's.
    op.execute(
        "CREATE TABLE archived_status_totals (status varchar(10) NOT NULL, payments bigint NOT NULL, "
        "CONSTRAINT pk_archived_status_totals PRIMARY KEY (status))"
    )
    # A payer's returned, rejected and cancelled payments, as in the payments table (decision 0037).
    op.execute(
        "CREATE INDEX ix_archived_payment_keys_payer_id_rare_status_id ON archived_payment_keys "
        "(payer_id, rare_status, id) WHERE rare_status IS NOT NULL"
    )
    # The payee is taken from the year row, not from the payment in it, so that a reader's condition
    # on the payee reaches the year rows' key.
    archived = ", ".join("y.payee_id" if c == "payee_id" else f"p.{c}" for c in _COLUMNS.split(", "))
    view = (
        f"CREATE VIEW payments_by_payee AS SELECT {_COLUMNS} FROM payments "  # noqa: S608 — constants
        f"UNION ALL SELECT {archived} FROM archived_payment_years y, unnest(y.payments) p"
    )
    op.execute(view)
    # A payer's and a bank's reads of the archived payments: the keys, each payment from its person's
    # year rows. Not one view with the payments that stay: the planner then read every key of a payer
    # before a page's first, so a reader takes its page from each and merges them. LIMIT 1 (a key has
    # one payment) keeps the planner from turning the lookup into a join over all of a payer's keys.
    # The key's own columns, so that a reader's condition on them reaches the key's indexes (the ids
    # as the key's 4-byte integers: compared with 8-byte ones, PostgreSQL still reads the index).
    by_payer = ", ".join(f"k.{c}" if c in ("id", "payer_id", "payee_id") else f"p.{c}" for c in _COLUMNS.split(", "))
    view = (
        f"CREATE VIEW archived_payments AS SELECT {by_payer}, k.reference, k.rare_status "  # noqa: S608
        "FROM archived_payment_keys k, "
        "LATERAL (SELECT p.* FROM archived_payment_years y, unnest(y.payments) p "
        "WHERE y.payee_id = k.payee_id AND p.id = k.id LIMIT 1) p"
    )
    op.execute(view)
    # A reference is the payer's idempotency key across the table and the archive: an insert that
    # uses an archived one fails as a duplicate in the table does, whatever path it came by (one
    # payment, a file's COPY, a part of a large file). At the statement's end, so that a reference the
    # archive moved out of the table while the insert waited on it is seen too (decision 0035).
    op.execute(
        """
        CREATE FUNCTION payments_references_not_archived() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            taken record;
        BEGIN
            SELECT a.payer_id, a.reference INTO taken FROM added a
             WHERE EXISTS (SELECT 1 FROM archived_payment_keys k
                            WHERE k.payer_id = a.payer_id AND k.reference = a.reference)
             LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'duplicate key value violates unique constraint "uq_payments_payer_id_reference"'
                    USING ERRCODE = 'unique_violation', CONSTRAINT = 'uq_payments_payer_id_reference',
                          TABLE = 'payments',
                          DETAIL = format('Key (payer_id, reference)=(%s, %s) is archived.', taken.payer_id,
                                          taken.reference);
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER payments_references_not_archived AFTER INSERT ON payments REFERENCING NEW TABLE AS added "
        "FOR EACH STATEMENT EXECUTE FUNCTION payments_references_not_archived()"
    )
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
    op.execute("DROP TRIGGER payments_references_not_archived ON payments")
    op.execute("DROP FUNCTION payments_references_not_archived()")
    op.execute("DROP VIEW archived_payments")
    op.execute("DROP TRIGGER payments_never_truncated ON payments")
    op.execute("DROP FUNCTION payments_leave_only_for_the_archive()")
    op.execute(
        "CREATE TRIGGER payments_never_removed BEFORE DELETE OR TRUNCATE ON payments "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite()"
    )
    op.execute("DROP VIEW payments_by_payee")
    op.execute("DROP TABLE archived_status_totals")
    op.execute("DROP TABLE archived_run_totals")
    op.execute("DROP TABLE archived_payment_keys")
    op.execute("DROP TABLE archived_payment_years")
