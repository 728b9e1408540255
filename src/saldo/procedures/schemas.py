"""What a person gives when they apply, what the caseworker gives when they decide, and what the API
shows of an application."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from saldo.credentials.schemas import COUNTRY, STATUS_CONFIRMATION, Employer, WorkAddress
from saldo.eessi.service.seds import COUNTRIES
from saldo.kit.problem import LINE_PATTERN, TEXT_PATTERN
from saldo.procedures.models import ApplicationKind, ApplicationState, RefusalGround

MAX_PDA1_YEARS = 5  # a decision of applicable legislation covers at most five years
MAX_POSTING_MONTHS = 24  # Article 12 of Regulation 883/2004: a posting of up to 24 months
# what a person can say of their own work (the PDA1 status confirmations a person applies under;
# the others are decided by the caseworker): posted employed, employed in two or more states,
# posted self-employed, self-employed in two or more states
Situation = Literal["01", "02", "03", "04"]
POSTINGS = frozenset({"01", "03"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Pda1Application(_Strict):
    """A person working across borders asks which country's social security covers them."""

    situation: Situation = Field(description="01 posted employed, 02 employed in two or more states, "
                                 "03 posted self-employed, 04 self-employed in two or more states.")  # fmt: skip
    employer: Employer = Field(description="The employer, or the person's own business when self-employed.")
    work_places: Annotated[list[WorkAddress], Field(min_length=1, max_length=5)]
    starting_date: dt.date
    ending_date: dt.date
    family_name: str = Field(min_length=1, max_length=100, pattern=LINE_PATTERN)
    given_names: str = Field(min_length=1, max_length=100, pattern=LINE_PATTERN)
    note: str | None = Field(default=None, max_length=1000, pattern=TEXT_PATTERN)

    @model_validator(mode="after")
    def _period(self) -> Pda1Application:
        if self.ending_date < self.starting_date:
            raise PydanticCustomError("ends_before_start", "ending_date: the period ends before it starts")
        if _months(self.starting_date, self.ending_date) > 12 * MAX_PDA1_YEARS:
            raise PydanticCustomError("too_long", f"ending_date: a PDA1 covers at most {MAX_PDA1_YEARS} years")
        if self.situation in POSTINGS and _months(self.starting_date, self.ending_date) > MAX_POSTING_MONTHS:
            raise PydanticCustomError(
                "posting_too_long", f"ending_date: a posting lasts at most {MAX_POSTING_MONTHS} months"
            )
        for n, place in enumerate(self.work_places):
            if place.country not in COUNTRIES:
                raise PydanticCustomError(
                    "not_coordination_state",
                    f"work_places.{n}.country: {place.country} is not a state of the EU social security coordination",
                )
        return self


class EhicApplication(_Strict):
    """An insured person asks for a European Health Insurance Card."""

    reason: Literal["first", "expired", "lost"] = Field(description="A first card, one that expired, or one lost.")
    starting_date: dt.date = Field(description="Needed from.")
    note: str | None = Field(default=None, max_length=1000, pattern=TEXT_PATTERN)


def _months(start: dt.date, end: dt.date) -> int:
    """Whole months from ``start`` to the day after ``end`` (a period of 1 Jan to 31 Dec is 12)."""
    after = end + dt.timedelta(days=1)
    return (after.year - start.year) * 12 + after.month - start.month - (after.day < start.day)


class Grant(_Strict):
    """A caseworker grants: the period and, for a PDA1, what the decision says (the application's
    values are the defaults the pages fill in)."""

    starting_date: dt.date
    ending_date: dt.date
    legislation_country: str | None = Field(
        default=None, pattern=COUNTRY, description="PDA1: whose legislation applies."
    )
    status_confirmation: str | None = Field(default=None, pattern=STATUS_CONFIRMATION, description="PDA1: 01-12.")
    work_place: int = Field(default=0, ge=0, le=4, description="PDA1: which of the places of work the PDA1 names.")
    notify: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}:[A-Za-z0-9]{4,10}$",
        description="PDA1 for a posting: the institution of the state of work told by an A009 (LA_BUC_04).",
    )
    explanation: str | None = Field(default=None, max_length=2000, pattern=TEXT_PATTERN)

    @model_validator(mode="after")
    def _period(self) -> Grant:
        if self.ending_date < self.starting_date:
            raise ValueError("ending_date is before starting_date")
        return self


class Refusal(_Strict):
    ground: RefusalGround
    explanation: str = Field(
        min_length=10,
        max_length=2000,
        pattern=TEXT_PATTERN,
        description="What the person reads beside the ground: why, and what they can do.",
    )


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reference: str
    kind: ApplicationKind
    person_scheme: str
    person_id: str
    state: ApplicationState
    details: dict[str, object]
    language: str
    submitted_by: str
    submitted_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    refusal_ground: RefusalGround | None
    explanation: str | None
    credential: str | None = Field(default=None, description="The document number of the credential a grant issued.")
    eessi_case_id: str | None = Field(default=None, description="The LA_BUC_04 that told the state of work.")
    withdrawn_at: dt.datetime | None
