from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from saldo.analysis.models import RuleMode
from saldo.kit.problem import TEXT_PATTERN
from saldo.oversight.service.fairness import GroupFigures


class RuleOut(BaseModel):
    rule_id: str
    version: int
    mode: RuleMode
    reason: str | None
    changed_by: str | None
    prior_precision: float
    notified: int
    decided: int
    confirmed: int
    precision: float | None = Field(description="Confirmed / decided, from payers' outcomes.")
    precision_low: float = Field(description="95 % Wilson interval, lower bound.")
    precision_high: float
    selection_precision: float = Field(description="What the next selection weighs the rule's findings by.")


class ModeIn(BaseModel):
    mode: RuleMode
    reason: str = Field(min_length=1, max_length=2000, pattern=TEXT_PATTERN)


class ModeChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rule_id: str
    mode: RuleMode
    reason: str
    changed_by: str
    changed_at: dt.datetime


class FairnessOut(BaseModel):
    run_id: int
    threshold: float
    min_flagged: int
    alerts: list[str]
    groups: list[GroupFigures]


class AccessEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: dt.datetime
    actor: str
    role: str
    channel: str
    action: str
    person_scheme: str | None
    person_id: str | None
    case_id: int | None
    purpose: str
    details: dict[str, Any]
    hash: str


class PurposeOut(BaseModel):
    """A published purpose for which staff may see a person's data."""

    code: str
    text: str
    covers: list[str] = Field(
        description="The accesses it justifies: open_case, read_case, act_for; disclose (naming a person to a "
        "payer that pays them, which Saldo logs itself when a request or notification goes out)."
    )
    needs_role: bool = Field(description="Only for someone assigned to the case or who opened it.")


class VerificationOut(BaseModel):
    entries: int
    head_seq: int
    head_hash: str = Field(description="Publish it outside the database; give it back as an anchor later.")
    intact: bool
    faults: list[str]
    seconds: float
