"""What the cross-border citizen's domain hands on: the letter that carries a code to link a
foreign eID, and the letter that tells the person a caseworker linked one (docs/cross-border-citizen.md,
"Asking for more"), for the print service."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DocumentKind = Literal["passport", "identity_card", "residence_permit"]  # what a caseworker may have seen


class LinkLetter(BaseModel):
    """The payload of a ``foreign_eid_link`` letter in the ``letters`` outbox."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^\d{4}-\d{4}$", description="the code to enter, as printed")
    eid_country: str = Field(pattern=r"^[A-Z]{2}$", description="the country of the eID that asked")
    eid_name: str = Field(max_length=401, description="the name the eID gave")
    eid_birth_date: dt.date = Field(description="the birth date the eID gave")
    expires_on: dt.date = Field(description="the last day the code works")
    reference: int = Field(ge=1, description="the foreign login that asked: what the person quotes if it was not them")


class LinkedLetter(BaseModel):
    """The payload of a ``foreign_eid_linked`` letter: a caseworker at a service office linked an eID
    of another country to the person, having seen an identity document."""

    model_config = ConfigDict(extra="forbid")

    eid_country: str = Field(pattern=r"^[A-Z]{2}$", description="the country of the eID linked")
    eid_name: str = Field(max_length=401, description="the name the eID gave")
    eid_birth_date: dt.date = Field(description="the birth date the eID gave")
    linked_on: dt.date = Field(description="the day it was linked")
    document_kind: DocumentKind = Field(description="the kind of identity document the caseworker saw")
    reference: int = Field(ge=1, description="the foreign login linked: what the person quotes if it was not them")
