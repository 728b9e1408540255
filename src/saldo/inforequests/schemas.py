from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from saldo.inforequests.models import RequestStatus
from saldo.kit.dates import IsoDate
from saldo.kit.problem import LINE_PATTERN, TEXT_PATTERN, json_text_fault


class CategoryOut(BaseModel):
    code: str
    name_sv: str
    name_en: str
    description: str
    patient_confidential: bool = Field(description="Exempt: a request for it is refused.")


class PersonRef(BaseModel):
    scheme: str = Field(max_length=32, pattern=LINE_PATTERN)
    identifier: str = Field(max_length=20, pattern=LINE_PATTERN)


class RequestIn(BaseModel):
    payer_id: int = Field(ge=1, le=2**63 - 1)
    person: PersonRef
    categories: list[Annotated[str, Field(max_length=48, pattern=LINE_PATTERN)]] = Field(min_length=1, max_length=20)
    question: str = Field(min_length=1, max_length=5000, pattern=TEXT_PATTERN)
    deadline: IsoDate


class RequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    payer_id: int = Field(ge=1, le=2**63 - 1)
    person_scheme: str
    person_id: str
    categories: list[str]
    question: str
    deadline: dt.date
    status: RequestStatus
    created_at: dt.datetime
    reminded_at: dt.datetime | None
    answered_at: dt.datetime | None


class AnswerIn(BaseModel):
    data: dict[str, Any] = Field(description="Per requested category code, what the payer has.")

    @field_validator("data")
    @classmethod
    def _storable(cls, value: dict[str, Any]) -> dict[str, Any]:
        fault = json_text_fault(value)
        if fault:
            raise ValueError(f"{fault}: holds a NUL character")
        return value


class AnswerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    request_id: int
    data: dict[str, Any]
    filename: str | None
    received_by: str
    received_at: dt.datetime


class WithdrawIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, pattern=TEXT_PATTERN)


class RequestWithAnswers(BaseModel):
    request: RequestOut
    answers: list[AnswerOut]
