from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import Connection as PgConnection
from sqlalchemy import Row, func, select, text, tuple_, update
from sqlalchemy.orm import Session

from saldo.banks.models import Bank
from saldo.db.engine import driver_connection
from saldo.kit.account_number import AccountScheme
from saldo.mediation.models import BankMessage, PaymentFile, PaymentRun, UnmatchedEntry
from saldo.payers.models import ConnectionModel, Payer
from saldo.payments.repository import record_event_notes

# Payers whose payments a run for a debtor account takes: those paying from it through Saldo.
_PAYERS_OF_ACCOUNT = """
    SELECT id FROM payers
    WHERE debtor_account_scheme = :scheme AND debtor_account = :account AND connection_model <> 'analysis_only'
"""

_DUE_ACCOUNTS = text(
    """
    SELECT DISTINCT pa.debtor_account_scheme, pa.debtor_account
    FROM payers pa
    WHERE pa.connection_model <> 'analysis_only' AND EXISTS (
        SELECT 1 FROM payments p
        WHERE p.status = 'verified' AND p.payer_id = pa.id AND p.due_date <= :on AND p.run_id IS NULL
    )
    ORDER BY 1, 2
    """
)

# Cut a run into files: number the verified, due payments of the account's payers that no run has
# taken in (payer, id) order and keep every :max_file-th as a file's start. Read-only: the payments
# themselves move only when their file is written.
_PLAN_FILES = text(
    f"""
    WITH due AS (
        SELECT p.payer_id, p.id, row_number() OVER (ORDER BY p.payer_id, p.id) - 1 AS n
        FROM payments p
        WHERE p.status = 'verified' AND p.due_date <= :on AND p.run_id IS NULL AND p.id <= :last_id
            AND p.payer_id IN ({_PAYERS_OF_ACCOUNT})
    )
    SELECT payer_id, id, (SELECT count(*) FROM due) FROM due WHERE n % :max_file = 0 ORDER BY n
    """  # noqa: S608 — constant SQL; every value is a bound parameter
)

# Take one file's payments and hand them over: verified -> sent with the run and file, in the
# transaction that writes the file, so a hold or cancellation either comes first (the payment is
# left out) or finds it sent. The range is the file's share of the plan; a payment verified since
# the plan joins its range, never beyond the file's maximum.
_SEND_FILE = text(
    f"""
    WITH moved AS (
        -- The file's ids are taken once, as an array (an init plan), and each is then updated through
        -- the primary key. Joined as a subquery instead, the planner re-ran the subquery for every
        -- verified payment when its statistics still said none were verified (as right after a large
        -- account check): minutes per file at a million payments; and with fresh statistics it read
        -- the whole table for every file.
        -- The status is checked again on the row itself: a payment held or cancelled meanwhile is
        -- re-read after that transaction commits, and left out.
        UPDATE payments p SET status = 'sent', run_id = :run_id, file_sequence = :sequence, updated_at = now()
        WHERE p.id = ANY (ARRAY(
            SELECT d.id FROM payments d
            WHERE d.status = 'verified' AND d.due_date <= :on AND d.run_id IS NULL AND d.id <= :last_id
                AND d.payer_id IN ({_PAYERS_OF_ACCOUNT})
                AND (d.payer_id, d.id) >= (:from_payer, :from_id)
                AND (CAST(:to_payer AS bigint) IS NULL OR (d.payer_id, d.id) < (:to_payer, :to_id))
            ORDER BY d.payer_id, d.id
            LIMIT :max_file
        ))
            AND p.status = 'verified' AND p.run_id IS NULL
        RETURNING p.id, p.amount_minor, p.currency, p.payee_name, p.account_scheme, p.account_number,
            p.remittance_info, p.payer_id, p.benefit_id
    ), logged AS (
        INSERT INTO payment_events (payment_id, from_status, to_status, note_id)
        SELECT id, 'verified', 'sent', :note_id FROM moved
    )
    SELECT * FROM moved
    """  # noqa: S608 — constant SQL; every value is a bound parameter
)

_LAST_PAYMENT = text("SELECT coalesce(max(id), 0) FROM payments")


# A written file's payments again (to write a lost file anew), as the file took them.
_FILE_ROWS = text(
    """
    SELECT p.id, p.amount_minor, p.currency, p.payee_name, p.account_scheme, p.account_number,
        p.remittance_info, p.payer_id, p.benefit_id
    FROM payments p
    WHERE p.run_id = :run_id AND p.file_sequence = :sequence
    """
)
_CATEGORY_PURPOSES = text("SELECT id, category_purpose FROM benefits")


@dataclass(frozen=True, slots=True)
class EntryScope:
    """What a bank message is about: one file (pain.002) or one debtor account (camt)."""

    run_id: int | None = None
    sequence: int | None = None
    scheme: str | None = None
    account: str | None = None
    bank_id: int | None = None  # the bank whose runs the message answers


# id, amount, currency, payee name, account scheme, account number, remittance, payer, benefit
FileRow = tuple[int, int, str, str, str, str, str | None, int, int]

# A run's payments that left the table for the archive are counted there, as the archive moved them
# (decision 0035).
_RECONCILIATION = text(
    """
    SELECT run_id, payer_id, status, currency, sum(payments)::bigint, sum(amount_minor)::bigint FROM (
        SELECT p.run_id, p.payer_id, p.status, p.currency, count(*) AS payments, sum(p.amount_minor) AS amount_minor
        FROM payments p
        WHERE p.run_id = ANY(:run_ids)
            AND (CAST(:payer_id AS bigint) IS NULL OR p.payer_id = CAST(:payer_id AS bigint))
        GROUP BY p.run_id, p.payer_id, p.status, p.currency
        UNION ALL
        SELECT t.run_id, t.payer_id, t.status, t.currency, t.payments, t.amount_minor
        FROM archived_run_totals t
        WHERE t.run_id = ANY(:run_ids)
            AND (CAST(:payer_id AS bigint) IS NULL OR t.payer_id = CAST(:payer_id AS bigint))
    ) AS both_parts
    GROUP BY run_id, payer_id, status, currency
    """
)

# Per run and payer; an entry that names no payment of the run (an unknown reference in a status
# report) has no payer, counts in the run's own figures, and is not shown to any payer.
_UNMATCHED_BY_RUN = text(
    """
    SELECT u.run_id, coalesce(p.payer_id, a.payer_id) AS payer_id, count(*)
    FROM unmatched_entries u LEFT JOIN payments p ON p.id = u.payment_id AND p.run_id = u.run_id
    LEFT JOIN LATERAL (SELECT a.payer_id FROM archived_payments a
                        WHERE p.id IS NULL AND a.id = u.payment_id AND a.run_id = u.run_id LIMIT 1) a ON true
    WHERE u.run_id = ANY(:run_ids)
        AND (CAST(:payer_id AS bigint) IS NULL OR coalesce(p.payer_id, a.payer_id) = CAST(:payer_id AS bigint))
    GROUP BY u.run_id, coalesce(p.payer_id, a.payer_id)
    """
)


class RunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def raw_connection(self) -> PgConnection[Any]:
        return driver_connection(self.session)

    # --- runs ------------------------------------------------------------------------------------

    def debtor_accounts_due(self, on: dt.date) -> list[tuple[AccountScheme, str]]:
        rows = self.session.execute(_DUE_ACCOUNTS, {"on": on}).all()
        return [(AccountScheme(r[0]), str(r[1])) for r in rows]

    def find_run(self, execution_date: dt.date, scheme: AccountScheme, account: str) -> PaymentRun | None:
        query = select(PaymentRun).where(
            PaymentRun.execution_date == execution_date,
            PaymentRun.debtor_account_scheme == scheme,
            PaymentRun.debtor_account == account,
        )
        return self.session.scalar(query)

    def add_run(self, run: PaymentRun) -> PaymentRun:
        self.session.add(run)
        self.session.flush()
        return run

    def get_run(self, run_id: int, *, lock: bool = False) -> PaymentRun | None:
        query = select(PaymentRun).where(PaymentRun.id == run_id)
        return self.session.scalar(query.with_for_update() if lock else query)

    def list_runs(
        self, *, payer_id: int | None, execution_date: dt.date | None, after: int | None, limit: int
    ) -> Sequence[PaymentRun]:
        query = select(PaymentRun).order_by(PaymentRun.id.desc()).limit(limit)
        if payer_id is not None:  # the runs of the payer's debtor account
            payer = select(Payer.debtor_account_scheme, Payer.debtor_account).where(Payer.id == payer_id).subquery()
            query = query.join(
                payer,
                (PaymentRun.debtor_account_scheme == payer.c.debtor_account_scheme)
                & (PaymentRun.debtor_account == payer.c.debtor_account),
            )
        if execution_date is not None:
            query = query.where(PaymentRun.execution_date == execution_date)
        if after is not None:
            query = query.where(PaymentRun.id < after)
        return self.session.scalars(query).all()

    def set_run(self, run_id: int, **values: object) -> None:
        self.session.execute(update(PaymentRun).where(PaymentRun.id == run_id).values(updated_at=func.now(), **values))

    def payers_of_account(self, scheme: AccountScheme, account: str) -> Sequence[Payer]:
        query = (
            select(Payer)
            .where(
                Payer.debtor_account_scheme == scheme,
                Payer.debtor_account == account,
                Payer.connection_model != ConnectionModel.ANALYSIS_ONLY,
            )
            .order_by(Payer.id)
        )
        return self.session.scalars(query).all()

    def payer_banks(self, scheme: AccountScheme, account: str) -> list[int]:
        """The banks the payers paying from this account have named as holding it."""
        rows = self.session.scalars(
            select(Payer.bank_id)
            .where(Payer.debtor_account_scheme == scheme, Payer.debtor_account == account, Payer.bank_id.is_not(None))
            .distinct()
        )
        return [int(r) for r in rows if r is not None]

    def bank_bic(self, bank_id: int) -> str | None:
        return self.session.scalar(select(Bank.bic).where(Bank.id == bank_id))

    def is_debtor_account(self, scheme: AccountScheme | None, account: str) -> bool:
        query = select(func.count()).select_from(Payer).where(Payer.debtor_account == account)
        if scheme is not None:
            query = query.where(Payer.debtor_account_scheme == scheme)
        return bool(self.session.scalar(query))

    # --- the payments of a run -------------------------------------------------------------------

    def plan_files(self, run: PaymentRun) -> tuple[int, int, list[list[int]]]:
        """(payments due, last payment id, [payer id, payment id] where each file starts)."""
        last_id = int(self.session.execute(_LAST_PAYMENT).scalar_one())
        params = {
            "on": run.execution_date,
            "scheme": run.debtor_account_scheme.value,
            "account": run.debtor_account,
            "last_id": last_id,
            "max_file": run.max_file_transactions,
        }
        rows = self.session.execute(_PLAN_FILES, params).all()
        due = int(rows[0][2]) if rows else 0
        return due, last_id, [[int(r[0]), int(r[1])] for r in rows]

    def send_file_payments(self, run: PaymentRun, sequence: int, *, actor: str, reason: str) -> list[FileRow]:
        """Take the file's payments and mark them sent in its run and file; returns their rows."""
        starts = run.file_starts or []
        following = starts[sequence] if sequence < len(starts) else [None, None]
        params = {
            "run_id": run.id,
            "sequence": sequence,
            "on": run.execution_date,
            "scheme": run.debtor_account_scheme.value,
            "account": run.debtor_account,
            "last_id": run.last_payment_id,
            "from_payer": starts[sequence - 1][0],
            "from_id": starts[sequence - 1][1],
            "to_payer": following[0],
            "to_id": following[1],
            "max_file": run.max_file_transactions,
            "note_id": record_event_notes(self.session, [(actor, reason)])[0],
        }
        return [tuple(r) for r in self.session.execute(_SEND_FILE, params)]

    def file_rows(self, run_id: int, sequence: int) -> list[FileRow]:
        """The payments a written file took."""
        rows = self.session.execute(_FILE_ROWS, {"run_id": run_id, "sequence": sequence})
        return [tuple(r) for r in rows]

    def category_purposes(self) -> dict[int, str]:
        """Benefit id -> ISO 20022 category purpose."""
        return {int(r[0]): str(r[1]) for r in self.session.execute(_CATEGORY_PURPOSES)}

    # --- files -----------------------------------------------------------------------------------

    def add_file(self, file: PaymentFile) -> PaymentFile:
        self.session.add(file)
        self.session.flush()
        self.session.refresh(file)  # written_at comes from the database
        return file

    def files_of(self, run_id: int) -> Sequence[PaymentFile]:
        return self.files_of_runs([run_id]).get(run_id, [])

    def files_of_runs(self, run_ids: Sequence[int]) -> dict[int, list[PaymentFile]]:
        """Each run's files in order, for all the runs in one query."""
        query = (
            select(PaymentFile)
            .where(PaymentFile.run_id.in_(run_ids))
            .order_by(PaymentFile.run_id, PaymentFile.sequence)
        )
        files: dict[int, list[PaymentFile]] = {}
        for file in self.session.scalars(query):
            files.setdefault(file.run_id, []).append(file)
        return files

    def file_of(self, run_id: int, sequence: int) -> PaymentFile | None:
        query = select(PaymentFile).where(PaymentFile.run_id == run_id, PaymentFile.sequence == sequence)
        return self.session.scalar(query)

    def file_by_message_id(self, message_id: str) -> PaymentFile | None:
        return self.session.scalar(select(PaymentFile).where(PaymentFile.message_id == message_id))

    # --- reconciliation --------------------------------------------------------------------------

    def reconciliation(
        self, run_ids: Sequence[int], *, payer_id: int | None
    ) -> Sequence[Row[int, int, str, str, int, int]]:
        """(run, payer, status, currency, payments, amount) for the runs' payments."""
        params = {"run_ids": list(run_ids), "payer_id": payer_id}
        return self.session.execute(_RECONCILIATION, params).all()

    def unmatched_by_run(self, run_ids: Sequence[int], *, payer_id: int | None) -> dict[int, int]:
        counts: dict[int, int] = {}
        for (run_id, _), n in self.unmatched_by_run_and_payer(run_ids, payer_id=payer_id).items():
            counts[run_id] = counts.get(run_id, 0) + n
        return counts

    def unmatched_by_run_and_payer(
        self, run_ids: Sequence[int], *, payer_id: int | None
    ) -> dict[tuple[int, int | None], int]:
        """Unmatched bank entries about the runs, per (run, payer); payer None for an entry that
        names no payment of the run."""
        params = {"run_ids": list(run_ids), "payer_id": payer_id}
        rows = self.session.execute(_UNMATCHED_BY_RUN, params)
        return {(int(r[0]), None if r[1] is None else int(r[1])): int(r[2]) for r in rows}

    def unattributed(
        self, *, scheme: str | None = None, account: str | None = None, limit: int = 100
    ) -> Sequence[tuple[UnmatchedEntry, BankMessage]]:
        """Entries on a debtor account that match no payment Saldo sent from it, newest first."""
        query = (
            select(UnmatchedEntry, BankMessage)
            .join(BankMessage, BankMessage.id == UnmatchedEntry.bank_message_id)
            .where(UnmatchedEntry.run_id.is_(None), UnmatchedEntry.debtor_account.is_not(None))
        )
        if scheme is not None:
            query = query.where(UnmatchedEntry.debtor_account_scheme == scheme)
        if account is not None:
            query = query.where(UnmatchedEntry.debtor_account == account)
        return [
            (entry, message)
            for entry, message in self.session.execute(query.order_by(UnmatchedEntry.id.desc()).limit(limit))
        ]

    def unattributed_counts(self, accounts: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """How many unattributed entries each (scheme, account) holds."""
        if not accounts:
            return {}
        query = (
            select(UnmatchedEntry.debtor_account_scheme, UnmatchedEntry.debtor_account, func.count())
            .where(
                UnmatchedEntry.run_id.is_(None),
                tuple_(UnmatchedEntry.debtor_account_scheme, UnmatchedEntry.debtor_account).in_(list(accounts)),
            )
            .group_by(UnmatchedEntry.debtor_account_scheme, UnmatchedEntry.debtor_account)
        )
        return {(str(r[0]), str(r[1])): int(r[2]) for r in self.session.execute(query)}

    def counts(self) -> tuple[int, int, int, int]:
        """(runs, files, bank messages, unmatched entries) in all."""
        row = self.session.execute(
            text(
                "SELECT (SELECT count(*) FROM payment_runs), (SELECT count(*) FROM payment_files), "
                "(SELECT count(*) FROM bank_messages), (SELECT count(*) FROM unmatched_entries)"
            )
        ).one()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    # --- bank messages ---------------------------------------------------------------------------

    def messages_with_bank_id(self, message_type: str, bank_message_id: str) -> list[int]:
        query = select(BankMessage.id).where(
            BankMessage.message_type == message_type, BankMessage.message_id == bank_message_id
        )
        return list(self.session.scalars(query.order_by(BankMessage.id)))

    def message_by_hash(self, sha256: bytes) -> BankMessage | None:
        return self.session.scalar(select(BankMessage).where(BankMessage.sha256 == sha256))

    def unmatched_of(self, message_id: int, *, limit: int) -> Sequence[UnmatchedEntry]:
        query = (
            select(UnmatchedEntry)
            .where(UnmatchedEntry.bank_message_id == message_id)
            .order_by(UnmatchedEntry.id)
            .limit(limit)
        )
        return self.session.scalars(query).all()

    def add_message(self, message: BankMessage) -> BankMessage:
        self.session.add(message)
        self.session.flush()
        self.session.refresh(message)
        return message

    def create_entry_staging(self) -> None:
        """Fresh staging tables for one message (dropped at commit; also dropped here, for a
        connection that reads several messages in one transaction)."""
        self.session.execute(text("DROP TABLE IF EXISTS pg_temp.bank_entries, pg_temp.classified_entries"))
        self.session.execute(text(_STAGING))
        self.session.execute(text(_CLASSIFIED))

    def stage_entries(
        self, rows: Iterable[tuple[int, str | None, str, str | None, int | None, str | None, str | None, str | None]]
    ) -> None:
        """COPY (line, end-to-end id, action, code, amount, currency, debtor account scheme, debtor
        account) rows into the staging table; the account is that of a camt entry's notification or
        statement (None for a pain.002, which answers one file)."""
        with self.raw_connection().cursor() as cursor, cursor.copy(_COPY_ENTRIES) as copy:
            for row in rows:
                copy.write_row(row)

    def set_staged_account(self, number: str, scheme: str, account: str) -> None:
        """Give the entries staged under a notification's or statement's number its debtor account."""
        self.session.execute(
            text("UPDATE bank_entries SET scheme = :scheme, account = :account WHERE scheme IS NULL AND account = :n"),
            {"scheme": scheme, "account": account, "n": number},
        )

    def stage_file_payments(
        self,
        run_id: int,
        sequence: int,
        *,
        action: str,
        code: str | None,
        payer_id: int | None = None,
        category: str | None = None,
        currency: str | None = None,
    ) -> None:
        """Stage one entry per payment of a file (or of one block of it) not staged already: a status
        given for a whole file or block applies to every payment in it that is not listed itself."""
        params = {
            "run_id": run_id,
            "sequence": sequence,
            "action": action,
            "code": code,
            "payer_id": payer_id,
            "category": category,
            "currency": currency,
        }
        self.session.execute(_STAGE_FILE_PAYMENTS, params)

    def archived_in_scope(self, scope: EntryScope) -> list[int]:
        """The archived payments the staged entries name within the message's scope (its file, or the
        debtor accounts of its bank's runs): a late answer, such as a return months after settlement,
        which brings them back into the table to be applied (decision 0035)."""
        params = {"run_id": scope.run_id, "sequence": scope.sequence, "bank_id": scope.bank_id}
        return [int(i) for i in self.session.scalars(_ARCHIVED_IN_SCOPE, params)]

    def classify_entries(self, scope: EntryScope, *, phase: int, actions: Sequence[str]) -> None:
        """Decide what each staged entry with one of ``actions`` means for its payment, as the
        payments stand now (after the earlier phases were applied)."""
        params = {
            "run_id": scope.run_id,
            "sequence": scope.sequence,
            "scheme": scope.scheme,
            "account": scope.account,
            "bank_id": scope.bank_id,
            "phase": phase,
            "actions": list(actions),
        }
        self.session.execute(_CLASSIFY, params)

    def entry_outcomes(self) -> dict[str, int]:
        rows = self.session.execute(text("SELECT outcome, count(*) FROM classified_entries GROUP BY outcome"))
        return {str(r[0]): int(r[1]) for r in rows}

    def staged_codes(self, phase: int) -> list[tuple[str, str | None]]:
        rows = self.session.execute(
            text("SELECT DISTINCT to_status, code FROM classified_entries WHERE outcome = 'apply' AND phase = :phase"),
            {"phase": phase},
        )
        return [(str(r[0]), r[1]) for r in rows]

    def apply_entries(self, *, phase: int, actor: str, reasons: Sequence[tuple[str, str | None, str]]) -> int:
        """Move the payments the phase's classified entries say moved, with their history; returns how many."""
        params = {
            "phase": phase,
            "statuses": [r[0] for r in reasons],
            "codes": [r[1] or "" for r in reasons],
            "notes": record_event_notes(self.session, [(actor, r[2]) for r in reasons]),
        }
        return int(self.session.execute(_APPLY, params).scalar_one())

    def record_unmatched(self, bank_message_id: int) -> None:
        self.session.execute(_RECORD_UNMATCHED, {"message_id": bank_message_id})


_STAGING = """
    CREATE TEMP TABLE bank_entries (
        line integer, end_to_end_id text, action text, code text, amount_minor bigint, currency text,
        scheme text, account text
    ) ON COMMIT DROP
"""
_CLASSIFIED = """
    CREATE TEMP TABLE classified_entries (
        phase integer, line integer, end_to_end_id text, action text, code text, amount_minor bigint,
        currency text, payment_id bigint, from_status text, to_status text, outcome text, reason text,
        run_id bigint, scheme text, account text
    ) ON COMMIT DROP
"""
_COPY_ENTRIES = (
    "COPY bank_entries (line, end_to_end_id, action, code, amount_minor, currency, scheme, account) FROM STDIN"
)

# Entries that name a payment not in the table: an archived one, read by its id alone (a skip scan of
# the archive's keys), if it went out in the file this message answers or from an account of its bank.
_ARCHIVED_IN_SCOPE = text(
    """
    WITH named AS (
        SELECT DISTINCT CAST(e.end_to_end_id AS bigint) AS id, e.scheme, e.account
        FROM bank_entries e
        WHERE e.end_to_end_id ~ '^[0-9]{1,18}$'
            AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.id = CAST(e.end_to_end_id AS bigint))
    )
    SELECT DISTINCT a.id FROM named n
    CROSS JOIN LATERAL (SELECT a.id, a.run_id, a.file_sequence FROM archived_payments a WHERE a.id = n.id LIMIT 1) a
    JOIN payment_runs r ON r.id = a.run_id
    WHERE CASE
        WHEN CAST(:run_id AS bigint) IS NOT NULL
            THEN a.run_id = CAST(:run_id AS bigint) AND a.file_sequence = CAST(:sequence AS integer)
        ELSE r.debtor_account_scheme = n.scheme AND r.debtor_account = n.account
            AND r.bank_id IS NOT DISTINCT FROM CAST(:bank_id AS bigint)
    END
    ORDER BY a.id
    """
)

_STAGE_FILE_PAYMENTS = text(
    """
    INSERT INTO bank_entries (line, end_to_end_id, action, code, amount_minor, currency)
    SELECT NULL, p.id::text, :action, :code, NULL, NULL
    FROM payments p JOIN benefits b ON b.id = p.benefit_id
    WHERE p.run_id = :run_id AND p.file_sequence = :sequence
        AND (CAST(:payer_id AS bigint) IS NULL OR p.payer_id = CAST(:payer_id AS bigint))
        AND (CAST(:category AS text) IS NULL OR b.category_purpose = CAST(:category AS text))
        AND (CAST(:currency AS text) IS NULL OR p.currency = CAST(:currency AS text))
        AND NOT EXISTS (SELECT 1 FROM bank_entries x WHERE x.end_to_end_id = p.id::text)  -- listed on its own
    """
)

# What each entry means for its payment. A pain.002 answers one file (:run_id, :sequence); a
# camt.054/053 entry reports on the debtor account of its notification or statement (e.scheme,
# e.account; a message may hold several). Every entry that cannot be tied
# to exactly one payment in that scope, in the same amount and currency, in a state the entry can
# follow, is unmatched with the reason — never guessed.
_CLASSIFY = text(
    """
    INSERT INTO classified_entries
    WITH e AS (
        SELECT e.*,
            CASE WHEN e.end_to_end_id ~ '^[0-9]{1,18}$' THEN CAST(e.end_to_end_id AS bigint) END AS wanted,
            count(*) OVER (PARTITION BY e.end_to_end_id) AS times  -- within this phase
        FROM bank_entries e
        WHERE e.action = ANY(CAST(:actions AS text[]))
    ), joined AS (
        SELECT e.*, p.id AS payment_id, p.status AS from_status, p.amount_minor AS payment_amount,
            p.currency AS payment_currency, p.run_id,
            CASE
                WHEN CAST(:run_id AS bigint) IS NOT NULL
                    THEN p.run_id = CAST(:run_id AS bigint) AND p.file_sequence = CAST(:sequence AS integer)
                ELSE r.debtor_account_scheme = e.scheme AND r.debtor_account = e.account
                    AND r.bank_id IS NOT DISTINCT FROM CAST(:bank_id AS bigint)
            END AS in_scope
        FROM e
        LEFT JOIN payments p ON p.id = e.wanted
        LEFT JOIN payment_runs r ON r.id = p.run_id
    ), decided AS (
        SELECT j.*,
            CASE j.action
                WHEN 'reject' THEN CASE j.from_status WHEN 'sent' THEN 'rejected' END
                WHEN 'settle' THEN CASE j.from_status WHEN 'sent' THEN 'settled' END
                WHEN 'return' THEN CASE WHEN j.from_status IN ('sent', 'settled') THEN 'returned' END
            END AS to_status,
            CASE j.action
                WHEN 'reject' THEN j.from_status = 'rejected'
                WHEN 'accept' THEN j.from_status IN ('sent', 'settled', 'returned')
                WHEN 'settle' THEN j.from_status IN ('settled', 'returned')
                WHEN 'return' THEN j.from_status = 'returned'
                WHEN 'pending' THEN j.from_status IN ('sent', 'settled', 'returned')
                ELSE false
            END AS already
        FROM joined j
    )
    SELECT CAST(:phase AS integer), d.line, d.end_to_end_id, d.action, d.code, d.amount_minor, d.currency,
        d.payment_id, d.from_status, d.to_status,
        CASE
            WHEN d.end_to_end_id IS NULL OR d.payment_id IS NULL OR NOT coalesce(d.in_scope, false)
                OR d.times > 1 OR d.action IN ('credit', 'unreadable_amount')
                OR (d.currency IS NOT NULL AND d.currency <> d.payment_currency)
                OR (d.amount_minor IS NOT NULL AND d.amount_minor <> d.payment_amount) THEN 'unmatched'
            WHEN d.already THEN 'unchanged'
            WHEN d.to_status IS NOT NULL THEN 'apply'
            ELSE 'unmatched'
        END AS outcome,
        CASE
            WHEN d.end_to_end_id IS NULL THEN 'the entry names no end-to-end id'
            WHEN d.payment_id IS NULL THEN 'no payment has end-to-end id ' || d.end_to_end_id
            WHEN NOT coalesce(d.in_scope, false) THEN CASE WHEN CAST(:run_id AS bigint) IS NOT NULL
                THEN 'payment ' || d.payment_id || ' is not in the file this report answers'
                ELSE 'payment ' || d.payment_id || ' was not sent from this account' END
            WHEN d.times > 1 THEN 'the message reports on payment ' || d.payment_id || ' more than once'
            WHEN d.action = 'credit' THEN 'a credit to the account that is not a return of a payment'
            WHEN d.action = 'unreadable_amount' THEN 'the amount cannot be read in currency ' || d.currency
            WHEN d.currency IS NOT NULL AND d.currency <> d.payment_currency
                THEN 'currency ' || d.currency || ' differs from the payment''s ' || d.payment_currency
            WHEN d.amount_minor IS NOT NULL AND d.amount_minor <> d.payment_amount
                THEN 'amount ' || d.amount_minor || ' differs from the payment''s ' || d.payment_amount
                    || ' (minor units)'
            ELSE 'payment ' || d.payment_id || ' is ' || d.from_status || '; the bank''s ' || d.action
                || ' cannot follow that'
        END AS reason,
        -- the run the entry is about: a status report's file's run, else the run of the payment it
        -- named when that was sent from the reported account; none for anything else
        coalesce(CAST(:run_id AS bigint), CASE WHEN d.in_scope THEN d.run_id END),
        d.scheme, d.account
    FROM decided d
    """
)

_APPLY = text(
    """
    WITH moved AS (
        UPDATE payments p SET status = c.to_status, updated_at = now()
        FROM classified_entries c
        WHERE c.phase = :phase AND c.outcome = 'apply' AND p.id = c.payment_id AND p.status = c.from_status
        RETURNING p.id, c.from_status, c.to_status, coalesce(c.code, '') AS code
    ), logged AS (
        INSERT INTO payment_events (payment_id, from_status, to_status, note_id)
        SELECT m.id, m.from_status, m.to_status, r.note_id
        FROM moved m
        JOIN unnest(CAST(:statuses AS text[]), CAST(:codes AS text[]), CAST(:notes AS bigint[]))
            AS r(status, code, note_id) ON r.status = m.to_status AND r.code = m.code
        RETURNING 1
    )
    SELECT count(*) FROM logged
    """
)

_RECORD_UNMATCHED = text(
    """
    INSERT INTO unmatched_entries
        (bank_message_id, line, end_to_end_id, payment_id, amount_minor, currency, code, reason, run_id,
         debtor_account_scheme, debtor_account)
    SELECT :message_id, line, left(end_to_end_id, 35), payment_id, amount_minor, left(currency, 3), code, reason,
        run_id, scheme, account
    FROM classified_entries WHERE outcome = 'unmatched'
    ORDER BY line NULLS FIRST, end_to_end_id
    """
)
