from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import RowsOf, UtcDateTime, str_enum
from saldo.kit.account_number import AccountScheme


class PaymentStatus(StrEnum):
    REGISTERED = "registered"  # accepted from the payer
    VERIFIED = "verified"  # destination account checked against the account register
    SCHEDULED = "scheduled"  # in a payment run for its execution date
    SENT = "sent"  # in a pain.001 file handed to the bank
    SETTLED = "settled"  # the bank confirmed the credit (camt.054)
    RETURNED = "returned"  # the receiving bank sent the money back
    REJECTED = "rejected"  # the bank refused the transaction (pain.002)
    HELD = "held"  # stopped by a recorded human decision, or by a failed account check
    CANCELLED = "cancelled"  # withdrawn by the payer before it was sent
    # Paid by the payer through its own bank (a payer connected for analysis only): recorded for the
    # analysis and the payee's overview; Saldo never checks its account nor pays it.
    REPORTED = "reported"


# The statuses few of a payer's payments hold at a time, each a list the payer works through: what is
# stopped, and what came back or was refused. A listing narrowed to one of them reads its own partial
# index instead of walking every payment of the payer (decision 0037).
RARE_STATUSES = (PaymentStatus.HELD, PaymentStatus.RETURNED, PaymentStatus.REJECTED, PaymentStatus.CANCELLED)

# The statuses a payment may be archived in (decision 0035): it is out of the payment runs' hands.
# Settled may still turn returned, and reported cancelled: such a late change brings the payment back
# into the table first.
ARCHIVABLE_STATUSES = (
    PaymentStatus.SETTLED,
    PaymentStatus.RETURNED,
    PaymentStatus.REJECTED,
    PaymentStatus.CANCELLED,
    PaymentStatus.REPORTED,
)


class AccountCheck(StrEnum):
    """The result of checking a payment's destination account against the account register."""

    PASSED = "passed"  # held by the payee, open, and the designated account if one is designated
    ACCOUNT_UNKNOWN = "account_unknown"  # no bank has reported the account
    ACCOUNT_CLOSED = "account_closed"  # closed, or closing before the payment is due
    NOT_HOLDER = "not_holder"  # the account is someone else's
    NOT_DESIGNATED = "not_designated"  # the payee designated another account for public payments

    @property
    def explanation(self) -> str:
        return _CHECK_EXPLANATIONS[self]


_CHECK_EXPLANATIONS = {
    AccountCheck.PASSED: "the account is open and held by the payee",
    AccountCheck.ACCOUNT_UNKNOWN: "no bank has reported this account to the account register",
    AccountCheck.ACCOUNT_CLOSED: "the account is closed, or closes before the payment is due",
    AccountCheck.NOT_HOLDER: "the payee does not hold this account",
    AccountCheck.NOT_DESIGNATED: "the payee has designated another account for public payments",
}


class BatchFormat(StrEnum):
    JSON = "json"
    NDJSON = "ndjson"
    CSV = "csv"


class Payment(IdMixin, Base):
    """A payment on a payee's transaction account.

    Its payer, payee, benefit and batch ids carry no per-row FOREIGN KEY check: the registration
    services resolve them inside the same transaction, and triggers make the referenced rows
    undeletable. See docs/decisions/0004-payments-without-per-row-foreign-keys.md."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso4217"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        Index("uq_payments_payer_id_reference", "payer_id", "reference", unique=True),
        Index("ix_payments_payee_id_due_date", "payee_id", "due_date"),
        # A payer's listing in id order, a page at a time from any cursor: without it the first page
        # of a payer whose payments start late in the table read every row before them (165 ms at a
        # million payments, growing with the table). See decision 0030.
        Index("ix_payments_payer_id_id", "payer_id", "id"),
        # A payer's held, returned, rejected and cancelled payments, in id order: under one percent of
        # its payments, so the index takes a fraction of a byte a payment. Decision 0037.
        Index(
            "ix_payments_payer_id_rare_status_id",
            "payer_id",
            "status",
            "id",
            postgresql_where=text("status IN ('held', 'returned', 'rejected', 'cancelled')"),
        ),
        # No index by batch: a batch's listing reads the range of ids it recorded (decision 0037).
        # What a payment run takes: verified payments by payer, in id order, so each file of a run
        # reads exactly its range. Partial, so registering a payment (status 'registered') adds
        # nothing to it.
        Index(
            "ix_payments_verified_payer_id_id",
            "payer_id",
            "id",
            postgresql_where=text("status = 'verified'"),
        ),
        # A run's payments by file: its reconciliation, and a lost file written again. Keyed by the
        # file alone, not by payment, so B-tree deduplication keeps a file's tens of thousands of
        # payments as lists of row addresses under one key: 6.4 bytes a payment instead of 36.4
        # (72.7 after a year's updates). Nothing reads a file's payments in id order from it. See
        # docs/decisions/0034-indexes-keyed-by-what-reads-them.md.
        Index(
            "ix_payments_run_id_file_sequence",
            "run_id",
            "file_sequence",
            postgresql_where=text("run_id IS NOT NULL"),
        ),
    )

    payer_id: Mapped[int] = mapped_column(BigInteger)
    # The payer's own id: the idempotency key. In byte order ("C"), so that a search by its beginning
    # (LIKE 'text%') reads only that range of the payer's reference index.
    reference: Mapped[str] = mapped_column(String(64, collation="C"))
    payee_id: Mapped[int] = mapped_column(BigInteger)
    payee_name: Mapped[str] = mapped_column(String(140))  # as the payer has it; pain.001 Nm is Max140Text
    benefit_id: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    decision_reference: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    account_scheme: Mapped[AccountScheme] = mapped_column(str_enum(AccountScheme, "account_scheme"))
    account_number: Mapped[str] = mapped_column(String(40))
    remittance_info: Mapped[str | None] = mapped_column(String(140))  # pain.001 Ustrd is Max140Text
    status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus, "status"))
    batch_id: Mapped[int | None] = mapped_column(BigInteger)
    account_check: Mapped[AccountCheck | None] = mapped_column(str_enum(AccountCheck, "account_check"))
    # The payment run and file it went out in: set once, when its file is written, never changed —
    # so a payment can never be in two files.
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    file_sequence: Mapped[int | None]
    hold_id: Mapped[int | None] = mapped_column(BigInteger)  # the open human hold, if one is in force
    registered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class PaymentEvent(IdMixin, Base):
    """One status transition of a payment. Append-only: a database trigger refuses UPDATE and DELETE.

    Registration itself is not a row here: who registered the payment and when is fixed on the
    payment (payer, batch, registered_at) and never changes; the history shown starts from it.

    Who moved it and why is a note (:class:`PaymentEventNote`), kept once however many transitions
    share it: an account check's, a file's or a bank message's thousands of transitions name one."""

    __tablename__ = "payment_events"
    # Keyed by payment first: the one index a history is read by (a payment's transitions in the
    # order they were written) and the one that keeps each row unique. A key of the id alone beside
    # an index of the payment took 21 bytes a payment more. See decision 0034.
    __table_args__ = (PrimaryKeyConstraint("payment_id", "id", name="pk_payment_events"),)

    # No per-row FOREIGN KEY: payments are never re-keyed and leave the table only for the archive,
    # their ids kept (triggers; decision 0035), and a check of a 3-million-payment batch appends
    # 3 million events, which the key check alone made 27 s slower.
    payment_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    from_status: Mapped[PaymentStatus | None] = mapped_column(str_enum(PaymentStatus, "from_status"))
    to_status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus, "to_status"))
    note_id: Mapped[int] = mapped_column(BigInteger)  # event_note_id(actor, reason); its note is never removed
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class PaymentBatch(IdMixin, Base):
    """An accepted batch. Rejected batches store nothing; their report goes back to the sender."""

    __tablename__ = "payment_batches"
    __table_args__ = (Index("uq_payment_batches_payer_id_content_sha256", "payer_id", "content_sha256", unique=True),)

    payer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payers.id"))
    content_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    format: Mapped[BatchFormat] = mapped_column(str_enum(BatchFormat, "format"))
    filename: Mapped[str | None] = mapped_column(String(255))
    records: Mapped[int]
    registered: Mapped[int]  # new payments this batch created
    already_registered: Mapped[int]  # identical payments that were already there (idempotent re-send)
    summary: Mapped[dict[str, object]] = mapped_column(JSONB)  # the result returned to the sender
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    # Every payment the batch registered has an id in [ids_from, ids_to]: the payments' id sequence read
    # before its first insert and after its last, on any of its connections (the sequence's CACHE is 1,
    # so no connection holds ids handed out before). Other payments may share the range. A listing of
    # the batch reads only this range of the payer's payments (decision 0037).
    ids_from: Mapped[int | None] = mapped_column(BigInteger)
    ids_to: Mapped[int | None] = mapped_column(BigInteger)


class PaymentHold(IdMixin, Base):
    """A recorded human decision to stop a payment before it is sent, and its release.

    The hold row is written once and completed once by the release; the payment's history carries
    both transitions too. A payment the account check held has no hold row: only a person's
    decision is a hold."""

    __tablename__ = "payment_holds"

    payment_id: Mapped[int] = mapped_column(BigInteger, index=True)
    held_by: Mapped[str] = mapped_column(String(100))  # "payer:<id>" or "staff:<name>"
    reason: Mapped[str] = mapped_column(Text)
    held_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    released_by: Mapped[str | None] = mapped_column(String(100))
    release_reason: Mapped[str | None] = mapped_column(Text)
    released_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class UploadStatus(StrEnum):
    CHECKING = "checking"  # being checked and registered now
    ACCEPTED = "accepted"  # registered whole (or received before)
    REJECTED = "rejected"  # bad records or an unreadable file: nothing registered
    FAILED = "failed"  # Saldo could not finish: nothing registered


class PayerUpload(IdMixin, Base):
    """A payment file a payer's user sent in the browser, and how far its check has come.

    The check runs in the background and reports the payments checked while it goes; the final
    status is written in the same transaction that registers the payments, so an accepted upload
    and its payments are committed together. An upload whose check stopped reporting (its process
    ended) registered nothing, and is shown as interrupted."""

    __tablename__ = "payer_uploads"
    __table_args__ = (Index("ix_payer_uploads_payer_id_id", "payer_id", "id"),)

    payer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payers.id"))
    sent_by: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[BatchFormat] = mapped_column(str_enum(BatchFormat, "format"))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    expected_records: Mapped[int | None] = mapped_column(BigInteger)  # lines of a CSV or NDJSON file
    status: Mapped[UploadStatus] = mapped_column(str_enum(UploadStatus, "status"))
    records_checked: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    result: Mapped[dict[str, object] | None] = mapped_column(JSONB)  # BatchAccepted or BatchRejected
    error: Mapped[str | None] = mapped_column(Text)  # an unreadable file, or why Saldo failed
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    progress_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class PaymentEventNote(Base):
    """Who moved payments and why, once for every transition that says the same. Its id is a digest of
    the two (:func:`event_note_id`), so any writer knows it without reading; never changed nor removed
    (triggers). See docs/decisions/0031-a-years-payments-in-storage.md."""

    __tablename__ = "payment_event_notes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    actor: Mapped[str] = mapped_column(String(100))  # "payer:<id>", "system:…", "staff:<name>", "bank:…"
    reason: Mapped[str | None] = mapped_column(Text)


def event_note_id(actor: str, reason: str | None) -> int:
    """The note's id: the first 8 bytes of SHA-256 over the actor and, after a unit separator, the
    reason (none when there is no reason), as a signed big-endian integer. The migration that brought
    notes in computes the same in SQL."""
    key = actor if reason is None else f"{actor}\x1f{reason}"
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


class ArchivedPaymentYear(Base):
    """A person's archived payments of one year, as the payments table's own rows in one array, which
    PostgreSQL compresses together: a payment settled for months leaves the table for this row and its
    key (:class:`ArchivedPaymentKey`), in one transaction (decision 0035). The rows hold no reference:
    the key does. Read through the view ``payments_by_payee``, never row by row in Python."""

    __tablename__ = "archived_payment_years"
    # A row is compressed once it passes 128 bytes, not PostgreSQL's default of 2 kB: most persons'
    # years are smaller than that.
    __table_args__ = ({"postgresql_with": {"toast_tuple_target": 128}},)

    payee_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    payments: Mapped[Any] = mapped_column(RowsOf("payments"))
    # The names the row's payments were paid under (each once, sorted), beside the array: a search by
    # name reads them and takes apart only the rows that hold a match (decision 0035).
    payee_names: Mapped[list[str]] = mapped_column(ARRAY(Text))


class ArchivedPaymentKey(Base):
    """What a payer or a bank finds an archived payment by: the payer's listing order (payer, id) as the
    key, which also finds an id alone (a skip scan over the payers), the payer's reference, unique as in
    the payments table, and the payee, whose year row holds the payment. The ids as 4-byte integers:
    payers and payees number far below 2^31, and every byte is kept for years (decision 0035)."""

    __tablename__ = "archived_payment_keys"
    __table_args__ = (
        PrimaryKeyConstraint("payer_id", "id", name="pk_archived_payment_keys"),
        Index("uq_archived_payment_keys_payer_id_reference", "payer_id", "reference", unique=True),
        Index(
            "ix_archived_payment_keys_payer_id_rare_status_id",
            "payer_id",
            "rare_status",
            "id",
            postgresql_where=text("rare_status IS NOT NULL"),
        ),
    )

    # In this order, so that no column is padded.
    id: Mapped[int] = mapped_column(BigInteger)
    payee_id: Mapped[int] = mapped_column(Integer)
    payer_id: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(64, collation="C"))
    # The status when it is one of RARE_STATUSES, for a listing narrowed to it; null (no byte: the
    # row header has room for the null bitmap) for the others.
    rare_status: Mapped[str | None] = mapped_column(String(9))
    # The payment's history, oldest first, as the moments it went through (decision 0040); null for a
    # payment with no transition (one reported from the start).
    moments: Mapped[list[int] | None] = mapped_column(ARRAY(Integer))


class PaymentEventMoment(Base):
    """One transition as many payments made it at once: from and to which status, under which note,
    when. A payment run's file, an account check or a bank's message moves thousands of payments in
    one transaction, so a year's millions of transitions are a few thousand moments. An archived
    payment keeps its history as its moments' ids (decision 0040); the moments are never changed nor
    removed, so an id keeps its meaning for as long as the archive keeps the payment."""

    __tablename__ = "payment_event_moments"
    __table_args__ = (
        Index(
            "uq_payment_event_moments",
            "to_status",
            "from_status",
            "note_id",
            "occurred_at",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(always=False), primary_key=True)
    note_id: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    from_status: Mapped[str | None] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))


class ArchivedRunTotal(Base):
    """A payment run's archived payments of one payer, status and currency, counted as the run's
    reconciliation counts them: the archive adds to it as it moves a run's payments, and takes away
    what it brings back, in the same statement (decision 0035)."""

    __tablename__ = "archived_run_totals"

    run_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    status: Mapped[str] = mapped_column(String(10), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    payments: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class ArchivedStatusTotal(Base):
    """The archived payments of one status, counted as the archive moves them in and out."""

    __tablename__ = "archived_status_totals"

    status: Mapped[str] = mapped_column(String(10), primary_key=True)
    payments: Mapped[int] = mapped_column(BigInteger)


# The view of the archived payments by payer and id (the payment archive's migration): the payments
# table's columns, each payment's reference from its key and the rest from its person's year row.
# Read-only, and in a MetaData of its own: a view, which Alembic neither compares nor creates.
ARCHIVED_PAYMENTS = Table(
    "archived_payments",
    MetaData(),
    *(Column(c.name, c.type, key=c.key) for c in Payment.__table__.columns),
    Column("rare_status", String),
)
