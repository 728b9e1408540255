from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, LargeBinary, String, column, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime, str_enum
from saldo.kit.account_number import AccountScheme
from saldo.kit.national_id import IdKind, IdScheme


class BankAccount(IdMixin, Base):
    """An account as its bank reported it. Rows are never deleted: a closed account keeps its history."""

    __tablename__ = "bank_accounts"
    __table_args__ = (
        Index("uq_bank_accounts_account_scheme_account_number", "account_scheme", "account_number", unique=True),
        CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="closed_after_opened"),
    )

    account_scheme: Mapped[AccountScheme] = mapped_column(str_enum(AccountScheme, "account_scheme"))
    account_number: Mapped[str] = mapped_column(String(40))
    bank_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("banks.id"))
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)  # the first day the account is closed
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class AccountHolder(IdMixin, Base):
    """One person or organisation holding an account over a period; a joint account has several.

    A holding ends by setting ``held_until`` (the first day no longer held); it is never deleted, so
    the register answers who held an account on any date."""

    __tablename__ = "account_holders"
    __table_args__ = (
        Index("ix_account_holders_holder", "holder_scheme", "holder_identifier"),
        Index(
            "uq_account_holders_current",
            "account_id",
            "holder_scheme",
            "holder_identifier",
            unique=True,
            postgresql_where=column("held_until").is_(None),
        ),
        CheckConstraint("held_until IS NULL OR held_until >= held_from", name="held_in_order"),
    )

    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("bank_accounts.id"))
    holder_scheme: Mapped[IdScheme] = mapped_column(str_enum(IdScheme, "holder_scheme"))
    holder_identifier: Mapped[str] = mapped_column(String(20))
    holder_kind: Mapped[IdKind] = mapped_column(str_enum(IdKind, "holder_kind"))
    holder_name: Mapped[str] = mapped_column(String(140))  # as the bank has it
    held_from: Mapped[dt.date] = mapped_column(Date)
    held_until: Mapped[dt.date | None] = mapped_column(Date)


class AccountChange(StrEnum):
    OPENED = "opened"
    CLOSED = "closed"
    REOPENED = "reopened"
    OPENED_ON_CORRECTED = "opened_on_corrected"
    HOLDER_ADDED = "holder_added"
    HOLDER_REMOVED = "holder_removed"
    HOLDER_RENAMED = "holder_renamed"


class AccountEvent(IdMixin, Base):
    """One change to the register. Append-only: a database trigger refuses UPDATE and DELETE."""

    __tablename__ = "account_events"

    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("bank_accounts.id"), index=True)
    change: Mapped[AccountChange] = mapped_column(str_enum(AccountChange, "change"))
    holder_scheme: Mapped[str | None] = mapped_column(String(32))
    holder_identifier: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict[str, object]] = mapped_column(JSONB)  # values before and after
    effective_on: Mapped[dt.date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(100))  # "bank:<id>"
    source: Mapped[str] = mapped_column(String(100))  # "api", "file:<id>"
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class BankFile(IdMixin, Base):
    """An accepted register file from a bank. Rejected files store nothing; the report goes back."""

    __tablename__ = "bank_files"
    __table_args__ = (Index("uq_bank_files_bank_id_content_sha256", "bank_id", "content_sha256", unique=True),)

    bank_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("banks.id"))
    content_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    filename: Mapped[str | None] = mapped_column(String(255))
    as_of: Mapped[dt.date] = mapped_column(Date)
    rows: Mapped[int]
    summary: Mapped[dict[str, object]] = mapped_column(JSONB)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class Channel(StrEnum):
    """How a designation reached Saldo."""

    BANK = "bank"  # the payee's bank, on the payee's instruction (as with NemKonto)
    CITIZEN = "citizen"  # the payee, logged in with eID
    CASEWORKER = "caseworker"  # staff on the payee's behalf (assisted channel)
    AUTHORITY = "authority"  # the payment authority's own operators (CLI)
    WALLET = "wallet"  # the payee, presenting their bank's account attestation and their PID from the EU wallet


class AccountDesignation(IdMixin, Base):
    """A payee's choice of the account its public payments go to. Append-only: the latest row per
    payee is in force, earlier ones are its history."""

    __tablename__ = "account_designations"
    __table_args__ = (Index("ix_account_designations_payee_id_id", "payee_id", "id"),)

    payee_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payees.id"))
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("bank_accounts.id"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    actor: Mapped[str] = mapped_column(String(100))
    # what the designation rests on beyond the register, when anything: for the wallet channel, the
    # bank's account attestation as presented (re-verifiable) and what was checked against it
    evidence: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    designated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class LetterStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"


class Letter(IdMixin, Base):
    """A letter to a payee's registered address, kept in an outbox until a print service sends it.

    A change of designated account is told to the person through this second channel, so a change
    made by someone else cannot go unnoticed."""

    __tablename__ = "letters"
    __table_args__ = (Index("ix_letters_pending", "id", postgresql_where=column("status") == "pending"),)

    payee_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payees.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, object]] = mapped_column(JSONB)
    status: Mapped[LetterStatus] = mapped_column(str_enum(LetterStatus, "status"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
