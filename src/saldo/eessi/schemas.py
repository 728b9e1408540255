"""What the cross-border API takes and gives."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from saldo.eessi.models import CaseStatus, Direction, DocumentStatus, PersonMatch
from saldo.eessi.service.seds import INSTITUTION_PATTERN, PersonIdentification
from saldo.kit.problem import LINE_PATTERN, TEXT_PATTERN


class CaseIn(BaseModel):
    """Open a case: the BUC, the institution abroad, the person, and the starter SED's fields."""

    model_config = ConfigDict(extra="forbid")

    buc_type: str = Field(pattern=r"^[A-Z]{1,2}_BUC_[0-9]{2}[a-z]?$", examples=["H_BUC_01"])
    partner: str = Field(pattern=INSTITUTION_PATTERN, examples=["FI:KELA01"])
    person_scheme: str | None = Field(default=None, pattern=r"^[a-z_]{2,32}$", examples=["se_personnummer"])
    person_id: str | None = Field(default=None, max_length=20, pattern=LINE_PATTERN)
    person: PersonIdentification | None = Field(
        default=None, description="The person as the SED names them, with the identifiers other institutions use."
    )
    fields: dict[str, Any] = Field(description="The starter SED's fields, by their CDM names (docs/eessi.md).")
    purpose: str = Field(min_length=1, max_length=500, pattern=TEXT_PATTERN, description="Why the case is opened.")


class SedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sed_type: str = Field(pattern=r"^[AHX][0-9]{3}$", examples=["H002"])
    fields: dict[str, Any] = Field(default_factory=dict)
    answers: str | None = Field(default=None, max_length=64, pattern=LINE_PATTERN)
    to: str | None = Field(
        default=None,
        pattern=INSTITUTION_PATTERN,
        examples=["FI:KELA01"],
        description="The case's owner: the one participant it goes to (default: see above).",
    )


class PersonIn(BaseModel):
    """Who an unmatched case is about, as a member of staff has established."""

    model_config = ConfigDict(extra="forbid")

    person_scheme: str = Field(pattern=r"^[a-z_]{2,32}$", examples=["se_personnummer"])
    person_id: str = Field(min_length=1, max_length=20, pattern=LINE_PATTERN)


class UndoLinkIn(BaseModel):
    """Why a case's link to a person is wrong."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, pattern=TEXT_PATTERN, examples=["Another person of that name"])


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    document_id: str
    sed_type: str
    direction: Direction
    sender: str
    receiver: str
    answers: str | None
    status: DocumentStatus
    reason: str | None
    deadline: dt.date | None
    answered_at: dt.datetime | None
    attempts: int
    content: dict[str, Any]
    created_at: dt.datetime
    delivered_at: dt.datetime | None


class MatchCandidate(BaseModel):
    scheme: str
    person_id: str
    registered_name: str = Field(description="The name as the person's bank registered it.")
    outcome: str = Field(description="`match` or `close_match`, as verification of payee compares names.")
    reason: str
    score: float


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: str
    buc_type: str
    owner: str
    counterparty: str
    partner: str
    participants: list[str] = Field(
        description=(
            "The institutions besides the owner that take part now: the counterparty, then those an X005 added and "
            "no X006 removed. On a participant's node: itself and those the owner announced."
        )
    )
    status: CaseStatus
    person_match: PersonMatch | None = Field(
        description=(
            "How the person was found: `identifier` (this country's identification number), `name_and_birth_date` "
            "(the only person with an account here born that day whose full name matches), `confirmed` by staff, "
            "or `unmatched` (waits for staff)."
        )
    )
    match_strength: str | None = Field(
        default=None, description="For `name_and_birth_date`: how the name compared, and with which registered name."
    )

    purpose: str | None
    opened_by: str
    audit_case_id: int | None = Field(
        default=None, description="The audit case it was opened from in the workbench, if it was."
    )
    created_at: dt.datetime
    closed_at: dt.datetime | None


class CaseDetail(CaseOut):
    documents: list[DocumentOut]
    match_candidates: list[MatchCandidate] = Field(
        default=[],
        description=(
            "While `unmatched`: the persons with an account here born that day whose registered name matches or "
            "nearly matches, for staff to confirm one. Each is a read of that person's data, in the access log."
        ),
    )
    undone_links: list[dict[str, Any]] = Field(
        default=[],
        description=(
            "Each link to a person that staff undid: `person_scheme`, `person_id`, `match` (how it was made), "
            "`strength`, `by`, `at`, `reason` and `facts_withdrawn`."
        ),
    )
