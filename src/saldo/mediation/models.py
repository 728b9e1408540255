from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime, str_enum
from saldo.iso20022.messages import MessageType
from saldo.kit.account_number import AccountScheme


class RunStatus(StrEnum):
    PLANNED = "planned"  # created; its job is queued
    SCHEDULED = "scheduled"  # its files are cut: which payments (by payer and id range) each file takes
    SENT = "sent"  # every file is written, validated and handed to the bank
    FAILED = "failed"  # the last attempt stopped with an error; running it again resumes it


class PaymentRun(IdMixin, Base):
    """All verified, due, not-held payments from one debtor account for one execution date."""

    __tablename__ = "payment_runs"
    __table_args__ = (
        Index(
            "uq_payment_runs_execution_date_debtor",
            "execution_date",
            "debtor_account_scheme",
            "debtor_account",
            unique=True,
        ),
    )

    execution_date: Mapped[dt.date]
    debtor_account_scheme: Mapped[AccountScheme] = mapped_column(str_enum(AccountScheme, "debtor_account_scheme"))
    debtor_account: Mapped[str] = mapped_column(String(40))
    # The bank holding the debtor account, which the files go to and which alone may answer them
    # (set when planned, or when the run is resumed once a bank holds the account).
    bank_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("banks.id"))
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus, "status"))
    requested_by: Mapped[str] = mapped_column(String(100))
    max_file_transactions: Mapped[int]
    payments: Mapped[int | None]  # due and verified when the files were cut (known once scheduled)
    # Where each file starts: [payer id, payment id] per file, in (payer, id) order. A file takes
    # the verified, due payments from its start up to the next file's start (at most
    # max_file_transactions), registered no later than last_payment_id.
    file_starts: Mapped[list[list[int]] | None] = mapped_column(JSONB)
    last_payment_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    @property
    def files_planned(self) -> int | None:
        """How many files the run was cut into (progress is how many of them are written)."""
        return len(self.file_starts) if self.file_starts is not None else None


class PaymentFile(IdMixin, Base):
    """One pain.001 file of a run, as written, validated and handed over."""

    __tablename__ = "payment_files"
    __table_args__ = (Index("uq_payment_files_run_id_sequence", "run_id", "sequence", unique=True),)

    run_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payment_runs.id"))
    sequence: Mapped[int]
    message_id: Mapped[str] = mapped_column(String(35), unique=True)  # GrpHdr/MsgId, Max35Text
    path: Mapped[str] = mapped_column(String(400))  # relative to the outbox directory
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    transactions: Mapped[int]
    control_sum: Mapped[str] = mapped_column(String(40))  # GrpHdr/CtrlSum exactly as written
    written_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class BankMessage(IdMixin, Base):
    """A status report, notification or statement a bank sent, read once (its SHA-256 is unique)."""

    __tablename__ = "bank_messages"

    message_type: Mapped[MessageType] = mapped_column(str_enum(MessageType, "message_type"))
    message_id: Mapped[str] = mapped_column(String(35))  # the bank's GrpHdr/MsgId
    bank_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("banks.id"))  # whose runs it answered
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    received_by: Mapped[str] = mapped_column(String(100))
    entries: Mapped[int]  # transactions or entries the message reports on
    applied: Mapped[int]  # payments it moved
    unchanged: Mapped[int]  # entries that confirmed what was already recorded
    unmatched: Mapped[int]  # entries that could not be reconciled (listed in unmatched_entries)
    summary: Mapped[dict[str, object]] = mapped_column(JSONB)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class UnmatchedEntry(IdMixin, Base):
    """An entry of a bank message that Saldo did not apply, and why — reported, never guessed."""

    __tablename__ = "unmatched_entries"
    __table_args__ = (
        Index(
            "ix_unmatched_entries_unattributed",
            "debtor_account_scheme",
            "debtor_account",
            postgresql_where=text("run_id IS NULL"),
        ),
    )

    bank_message_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("bank_messages.id"), index=True)
    line: Mapped[int | None]
    end_to_end_id: Mapped[str | None] = mapped_column(String(35))
    payment_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # The run the entry is about: the run of the file a status report answers, or of the payment a
    # camt entry named when it was sent from the reported account. None: an entry on the account
    # that matches no payment Saldo sent from it, listed with the account and never put in a run.
    run_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("payment_runs.id"), index=True)
    debtor_account_scheme: Mapped[str | None] = mapped_column(String(20))  # a camt entry's account
    debtor_account: Mapped[str | None] = mapped_column(String(40))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    code: Mapped[str | None] = mapped_column(String(35))  # the status or reason code reported
    reason: Mapped[str] = mapped_column(Text)
