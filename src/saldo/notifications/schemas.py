from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from saldo.kit.dates import IsoDate
from saldo.kit.problem import TEXT_PATTERN
from saldo.notifications.models import OutcomeKind


class OutcomeIn(BaseModel):
    kind: OutcomeKind
    amount_minor: int | None = Field(
        default=None,
        ge=0,
        description="Öre: required for recovery_claim (the amount claimed), optional for payment_stopped.",
    )
    note: str | None = Field(default=None, max_length=2000, pattern=TEXT_PATTERN)
    decided_on: IsoDate | None = Field(default=None, description="When the payer decided; not in the future.")


class OutcomeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    notification_id: int
    kind: OutcomeKind
    amount_minor: int | None
    currency: str
    note: str | None
    decided_on: dt.date | None
    recorded_by: str
    recorded_at: dt.datetime


class NotificationOut(BaseModel):
    id: int
    case_id: int
    created_at: dt.datetime
    content: dict[str, Any] = Field(description="What was found: person, payments, rule, reasons, evidence.")
    outcomes: list[OutcomeOut] = Field(description="Every outcome recorded, oldest first; the last is in force.")


class NotifyIn(BaseModel):
    summary: str = Field(
        min_length=1, max_length=5000, pattern=TEXT_PATTERN, description="The auditor's summary of what was found."
    )
