from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from saldo.kit.account_number import AccountScheme
from saldo.kit.dates import IsoDate
from saldo.kit.national_id import IdScheme
from saldo.kit.problem import ErrorItem
from saldo.payments.models import AccountCheck, BatchFormat, PaymentStatus


class PaymentIn(BaseModel):
    """One payment as a payer sends it. The same fields are the columns of a CSV batch."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reference": "FK-2026-000001",
                    "payee_scheme": "se_personnummer",
                    "payee_id": "19811228-9874",
                    "payee_name": "Anna Andersson",
                    "benefit": "BB",
                    "amount_minor": 125000,
                    "currency": "SEK",
                    "decision_reference": "BESLUT-2026-4711",
                    "period_start": "2026-12-01",
                    "period_end": "2026-12-31",
                    "due_date": "2026-12-20",
                    "account_scheme": "iban",
                    "account": "SE4550000000058398257466",
                    "remittance_info": "Barnbidrag december 2026",
                }
            ]
        },
    )

    reference: str = Field(max_length=64, description="The payer's own id of the payment; unique per payer.")
    payee_scheme: IdScheme = Field(description="Scheme of the payee's national identifier.")
    payee_id: str = Field(max_length=32, description="The payee's national identifier (check digit validated).")
    payee_name: str = Field(max_length=140, description="The payee's name as the payer has it.")
    benefit: str = Field(max_length=32, description="Benefit code from the catalogue (GET /api/v1/benefits).")
    amount_minor: int = Field(strict=True, description="Amount in minor units (öre): 125000 is SEK 1 250.00.")
    currency: str = Field(max_length=3, description="ISO 4217 currency code.")
    decision_reference: str = Field(max_length=64, description="Reference of the decision behind the payment.")
    period_start: IsoDate = Field(description="First day the payment is for.")
    period_end: IsoDate = Field(description="Last day the payment is for.")
    due_date: IsoDate = Field(description="Day the money should reach the payee.")
    account_scheme: AccountScheme = Field(description="iban, se_clearing (clearing + account) or se_bankgiro.")
    account: str = Field(max_length=50, description="Destination account in that scheme.")
    remittance_info: str | None = Field(default=None, max_length=140, description="Text shown to the payee.")

    def as_record(self) -> dict[str, object]:
        """The fields as the shared record validator reads them (text, like a file)."""
        values = self.model_dump(exclude_none=True)
        for name in ("period_start", "period_end", "due_date"):
            values[name] = values[name].isoformat()
        values["payee_scheme"] = self.payee_scheme.value
        values["account_scheme"] = self.account_scheme.value
        return values


class HoldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    held_by: str = Field(description='"payer:<id>" or "staff:<name>".')
    reason: str
    held_at: dt.datetime


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="Why the payment is stopped (or released).")


class PaymentOut(BaseModel):
    id: int
    reference: str
    status: PaymentStatus
    payee_scheme: IdScheme = Field(description="As sent (the same field names in and out).")
    payee_id: str = Field(description="The payee's identifier in its canonical form, e.g. 198112289874.")
    payee_name: str
    benefit: str
    amount_minor: int
    currency: str
    decision_reference: str
    period_start: dt.date
    period_end: dt.date
    due_date: dt.date
    account_scheme: AccountScheme
    account: str
    remittance_info: str | None
    batch_id: int | None
    account_check: AccountCheck | None = Field(
        default=None,
        description="Result of checking the account against the account register; null until checked. "
        "A payment that fails the check is held, and this says why.",
    )
    run_id: int | None = Field(default=None, description="The payment run that took it, once scheduled.")
    hold: HoldOut | None = Field(default=None, description="The human hold in force, if the payment is held by one.")
    registered_at: dt.datetime
    updated_at: dt.datetime


class PaymentPage(BaseModel):
    items: list[PaymentOut]
    next_after: int | None = Field(description="Pass as `after` to get the next page; null on the last page.")
    read_limit_reached: bool = Field(
        default=False,
        description=(
            "True when a filter no index narrows (status other than held, returned, rejected, cancelled or "
            "verified; benefit; due dates; a part of the payee's name), or a batch, was tried on as many of "
            "the payer's payments as one page reads: the page may hold fewer payments than `limit`, or none, and "
            "`next_after` goes on with the search."
        ),
    )


class PaymentEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: PaymentStatus | None
    to_status: PaymentStatus
    actor: str
    reason: str | None
    occurred_at: dt.datetime


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="Why the payer withdraws the payment.")


class BatchAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    batch_id: int
    records: int
    registered: int = Field(description="New payments created by this batch.")
    already_registered: int = Field(description="Identical payments that were registered before (idempotent).")
    replayed: bool = Field(default=False, description="True when this exact batch was received before.")
    visible: bool = Field(
        default=True,
        description=(
            "False for a moment after a large batch was accepted, while the last of its payments are made visible "
            "(the process that stored them ended before committing every part; a running Saldo process commits them "
            "within seconds). Accepted payments are never lost; until then some may not yet be listed."
        ),
    )


class BatchRejected(BaseModel):
    status: Literal["rejected"] = "rejected"
    records: int = Field(description="Records read before the batch was rejected.")
    errors_total: int
    errors: list[ErrorItem]
    truncated: bool = Field(description="True when more errors exist than are listed.")


class UploadOut(BaseModel):
    """A payment file sent in the browser and how far its check has come."""

    id: int
    filename: str
    format: BatchFormat
    size_bytes: int
    state: Literal["checking", "accepted", "rejected", "failed", "interrupted"]
    records_checked: int
    expected_records: int | None = Field(description="About how many payments the file holds; null for JSON.")
    percent: int | None
    result: BatchAccepted | BatchRejected | None
    error: str | None
    sent_by: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
