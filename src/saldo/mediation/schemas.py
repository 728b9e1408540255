from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from saldo.iso20022.messages import MessageType
from saldo.kit.account_number import AccountScheme
from saldo.mediation.models import RunStatus
from saldo.payments.models import PaymentStatus


class RunRequest(BaseModel):
    execution_date: dt.date = Field(description="The day the bank is to execute the transfers.")


class Totals(BaseModel):
    payments: int = 0
    amounts: dict[str, int] = Field(default_factory=dict, description="Minor units per ISO 4217 currency.")


class Reconciliation(BaseModel):
    """Where the run's payments are: with the bank, paid, refused or returned, and what did not match."""

    by_status: dict[PaymentStatus, Totals] = Field(description="Payments taken into the run, by current status.")
    outstanding: Totals = Field(description="Scheduled or sent and not yet settled, rejected or returned.")
    settled: Totals
    rejected: Totals
    returned: Totals
    unmatched_entries: int = Field(description="Bank entries about these payments that could not be applied.")
    reconciled: bool = Field(description="Every payment has its final bank answer and no entry is unmatched.")


class PayerReconciliation(BaseModel):
    payer_id: int
    reconciliation: Reconciliation


class PaymentFileOut(BaseModel):
    sequence: int
    message_id: str
    path: str = Field(description="Relative to the outbox directory.")
    sha256: str
    size_bytes: int
    transactions: int
    control_sum: str
    written_at: dt.datetime


class RunOut(BaseModel):
    id: int
    execution_date: dt.date
    debtor_account_scheme: AccountScheme
    debtor_account: str
    status: RunStatus
    requested_by: str
    payments: int | None = Field(description="Payments due when the run was cut into files (known once scheduled).")
    files_planned: int | None
    files_written: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None = Field(description="Why the last attempt stopped; running the run again resumes it.")
    files: list[PaymentFileOut]
    reconciliation: Reconciliation
    by_payer: list[PayerReconciliation] = Field(description="The same, for each payer paying from the account.")
    unattributed_on_account: int | None = Field(
        default=None,
        description="Bank entries on the run's debtor account that match no payment Saldo sent from it: they "
        "belong to no run and are listed for the payment authority to investigate. Null in a payer's view.",
    )


class RunPage(BaseModel):
    items: list[RunOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null on the last page.")


class UnmatchedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line: int | None
    run_id: int | None = Field(
        default=None, description="The run the entry is about; null when it matches no payment of any run."
    )
    end_to_end_id: str | None
    payment_id: int | None
    amount_minor: int | None
    currency: str | None
    code: str | None
    reason: str


class UnattributedOut(BaseModel):
    """An entry on a debtor account that matches no payment Saldo sent from it, with the message it came in."""

    debtor_account_scheme: str
    debtor_account: str
    bank_message_id: int = Field(description="Saldo's id of the message.")
    message_type: MessageType
    message_id: str = Field(description="The bank's message id (GrpHdr/MsgId).")
    filename: str | None
    received_at: dt.datetime
    line: int | None
    end_to_end_id: str | None
    amount_minor: int | None
    currency: str | None
    code: str | None
    reason: str


class BankMessageOut(BaseModel):
    id: int
    message_type: MessageType
    message_id: str
    filename: str | None
    already_read: bool = Field(description="The same file was read before; nothing changed this time.")
    entries: int
    applied: int = Field(description="Payments this message moved (settled, rejected, returned).")
    unchanged: int = Field(description="Entries that confirmed what was already recorded.")
    unmatched: int
    summary: dict[str, object]
    unmatched_entries: list[UnmatchedOut] = Field(description="The first unmatched entries, with reasons.")
    received_at: dt.datetime


class FileManifest(BaseModel):
    """What the manifest beside each payment file says (docs/formats/iso20022.md)."""

    model_config = ConfigDict(extra="forbid")

    message_type: MessageType
    message_id: str
    file: str
    sha256: str = Field(description="Of the file's bytes, hex.")
    size_bytes: int
    transactions: int
    control_sum: str = Field(description="GrpHdr/CtrlSum exactly as written.")
    payment_run: int
    sequence: int
    written_at: str | None = Field(description="When it was written, ISO 8601 in UTC (+00:00).")
