from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from saldo.cases.models import CaseEventKind, CaseStatus, Triage
from saldo.kit.dates import IsoDate
from saldo.kit.problem import LINE_PATTERN, TEXT_PATTERN


class FindingOut(BaseModel):
    """A finding as triage sees it: pseudonymous; who it is about is not known until a case is opened."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    run_id: int
    snapshot_id: int
    rule_id: str
    rule_version: int
    subject_kind: str
    subject_key: str
    payment_ids: list[int]
    amount_at_risk_minor: int
    currency: str
    facts: dict[str, Any]
    reason_sv: str
    reason_en: str
    expected_value_minor: int


class DismissIn(BaseModel):
    reason: str = Field(
        min_length=1, max_length=2000, pattern=TEXT_PATTERN, description="Why the finding needs no case."
    )


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    finding_id: int
    decision: Triage
    reason: str
    case_id: int | None
    reviewed_by: str
    reviewed_at: dt.datetime


class OpenCaseIn(BaseModel):
    finding_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(
        min_length=1, max_length=100, description="Findings about one subject."
    )
    purpose: str = Field(
        min_length=1,
        max_length=2000,
        pattern=TEXT_PATTERN,
        description="Why the subject is re-identified (logged): suspected_error or a sentence.",
    )


class CaseOut(BaseModel):
    """A case without the persons it is about (lists reveal nobody)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    status: CaseStatus
    rule_id: str
    subject_kind: str
    amount_at_risk_minor: int
    currency: str
    purpose: str
    opened_by: str
    opened_at: dt.datetime
    assigned_to: str | None
    deadline: dt.date | None
    closed_at: dt.datetime | None
    closing_reason: str | None


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    person_scheme: str
    person_id: str
    subject: bool


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: CaseEventKind
    actor: str
    body: dict[str, Any]
    at: dt.datetime


class CasePaymentOut(BaseModel):
    payment_id: int
    payer_id: int
    scheme: str
    identifier: str
    amount_minor: int
    currency: str
    period_start: dt.date
    period_end: dt.date
    reference: str
    status: str


class CaseDetail(BaseModel):
    case: CaseOut
    persons: list[PersonOut]
    findings: list[FindingOut]
    payments: list[CasePaymentOut]
    events: list[EventOut]


class AssignIn(BaseModel):
    to: str = Field(min_length=2, max_length=64, pattern=LINE_PATTERN, description="Username of the staff member.")


class DeadlineIn(BaseModel):
    deadline: IsoDate


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=10_000, pattern=TEXT_PATTERN)


class EvidenceIn(BaseModel):
    description: str = Field(min_length=1, max_length=2000, pattern=TEXT_PATTERN)
    source: str = Field(
        min_length=1, max_length=200, pattern=LINE_PATTERN, description="Where it came from (register, payer, bank)."
    )
    reference: str | None = Field(
        default=None, max_length=500, pattern=LINE_PATTERN, description="Where it is kept (document id)."
    )


class StatusIn(BaseModel):
    status: CaseStatus
    reason: str | None = Field(
        default=None, max_length=2000, pattern=TEXT_PATTERN, description="Required when closing."
    )
