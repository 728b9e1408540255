"""What the credentials API takes and gives, and the credential types' attribute sets.

The attribute sets follow the DC4EU "PuB-EAA common block" models (``vct`` ``urn:eudi:pda1:1`` and
``urn:eudi:ehic:1``): what every credential of a type carries is validated here before it is
issued, and their JSON schemas are published (docs/credentials.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from saldo.credentials.models import CredentialState, CredentialType
from saldo.kit.problem import LINE_PATTERN, TEXT_PATTERN

COUNTRY = r"^[A-Z]{2}$"  # ISO 3166-1 alpha-2, as EESSI writes it (EL for Greece, UK)
DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
INSTITUTION = r"^[A-Z]{2}:[A-Za-z0-9]{4,10}$"
# PDA1 status confirmation (DC4EU schema_pda1, from the A009's article): 01 posted employed, 02 employed
# in two or more states, 03 posted self-employed, 04 self-employed in two or more states, 05 civil
# servant, 06 contract staff, 07 mariner, 08 employed and self-employed in different states, 09 civil
# servant in one state and (self-)employed in others, 10 flight or cabin crew, 11 exception,
# 12 (self-)employed in the state whose legislation applies
STATUS_CONFIRMATION = r"^(0[1-9]|1[0-2])$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Authority(_Strict):
    id: str = Field(pattern=INSTITUTION, examples=["SE:FKA01"], description="The institution's EESSI id.")
    name: str = Field(min_length=1, max_length=200, pattern=LINE_PATTERN)


class Employer(_Strict):
    id: str = Field(min_length=1, max_length=40, pattern=LINE_PATTERN, description="Its registration number.")
    name: str = Field(min_length=1, max_length=200, pattern=LINE_PATTERN)
    country: str = Field(pattern=COUNTRY)


class WorkAddress(_Strict):
    formatted: str | None = Field(default=None, max_length=300, pattern=LINE_PATTERN)
    street_address: str | None = Field(default=None, max_length=200, pattern=LINE_PATTERN)
    building_number: str | None = Field(default=None, max_length=20, pattern=LINE_PATTERN)
    postal_code: str | None = Field(default=None, max_length=20, pattern=LINE_PATTERN)
    locality: str = Field(min_length=1, max_length=100, pattern=LINE_PATTERN)
    region: str | None = Field(default=None, max_length=100, pattern=LINE_PATTERN)
    country: str = Field(pattern=COUNTRY)


class CommonClaims(_Strict):
    """The common block of the DC4EU social security attestations."""

    personal_administrative_number: str = Field(min_length=1, max_length=20, pattern=LINE_PATTERN)
    issuing_authority: Authority
    issuing_country: str = Field(pattern=COUNTRY)
    authentic_source: Authority
    date_of_issuance: str = Field(pattern=DATE_TEXT)
    date_of_expiry: str = Field(pattern=DATE_TEXT)
    starting_date: str = Field(pattern=DATE_TEXT)
    ending_date: str = Field(pattern=DATE_TEXT)
    document_number: str = Field(min_length=1, max_length=40, pattern=LINE_PATTERN)

    @model_validator(mode="after")
    def _dates_in_order(self) -> CommonClaims:
        if self.ending_date < self.starting_date:
            raise ValueError("ending_date is before starting_date")
        if self.date_of_expiry < self.date_of_issuance:
            raise ValueError("date_of_expiry is before date_of_issuance")
        for name in ("date_of_issuance", "date_of_expiry", "starting_date", "ending_date"):
            dt.date.fromisoformat(getattr(self, name))
        return self


class Pda1Claims(CommonClaims):
    """``urn:eudi:pda1:1``: which country's legislation applies to a person working across borders."""

    legislation_country: str = Field(pattern=COUNTRY)
    status_confirmation: str = Field(pattern=STATUS_CONFIRMATION)
    employer: Employer
    work_address: WorkAddress


class EhicClaims(CommonClaims):
    """``urn:eudi:ehic:1``: the European Health Insurance Card."""


CLAIMS_MODELS: dict[CredentialType, type[CommonClaims]] = {
    CredentialType.PDA1: Pda1Claims,
    CredentialType.EHIC: EhicClaims,
}

# what a wallet may leave out when presenting (DC4EU type metadata: "sd": "always"); the rest is
# always shown, as the type metadata says ("sd": "never")
ALWAYS_DISCLOSABLE = frozenset({"personal_administrative_number", "document_number"})


class DecisionIn(_Strict):
    """An applicable-legislation decision, as a caseworker records it (Regulation 883/2004 Title II)."""

    person_scheme: str = Field(pattern=r"^[a-z_]{2,32}$", examples=["se_personnummer"])
    person_id: str = Field(min_length=1, max_length=20, pattern=LINE_PATTERN)
    legislation_country: str = Field(pattern=COUNTRY, examples=["SE"])
    status_confirmation: str = Field(pattern=STATUS_CONFIRMATION, examples=["01"])
    starting_date: dt.date
    ending_date: dt.date
    employer: Employer
    work_address: WorkAddress
    eessi_case_id: str | None = Field(
        default=None, max_length=64, pattern=LINE_PATTERN, description="The LA_BUC the decision was reached in."
    )

    @model_validator(mode="after")
    def _period(self) -> DecisionIn:
        if self.ending_date < self.starting_date:
            raise ValueError("ending_date is before starting_date")
        if (self.ending_date - self.starting_date).days > 5 * 366:
            raise ValueError("a decision of applicable legislation covers at most five years")
        return self


class DecisionDraft(BaseModel):
    """A decision as an LA_BUC's SEDs already tell it: the issuer completes what ``missing`` names and
    records it with ``POST /api/v1/staff/credentials/decisions``."""

    person_scheme: str
    person_id: str
    legislation_country: str
    status_confirmation: str
    starting_date: dt.date
    ending_date: dt.date | None
    employer: dict[str, str] = Field(
        description="What the SEDs name of the employer (an A009 names it, not its number)"
    )
    work_address: dict[str, str] = Field(description="What the SEDs say of the place of work (an A009: its country)")
    eessi_case_id: str
    standing: Literal["notified", "accepted", "provisional"] = Field(
        description="notified: a posting (A009); accepted: the other side answered A012; provisional: an A003 "
        "not yet answered (Regulation 987/2009 art. 16: it becomes definitive unless contested)"
    )
    sources: list[str] = Field(description="The SEDs the draft is read from: type and document id")
    missing: list[str] = Field(description="What the issuer must add before the decision can be recorded")


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_scheme: str
    person_id: str
    legislation_country: str
    status_confirmation: str
    starting_date: dt.date
    ending_date: dt.date
    employer: dict[str, Any]
    work_address: dict[str, Any]
    decided_by: str
    decided_at: dt.datetime


class IssueIn(_Strict):
    """Issue a PDA1 from a recorded decision, or an EHIC for an insured person."""

    type: CredentialType
    decision_id: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="PDA1: the applicable-legislation decision."
    )
    person_scheme: str | None = Field(default=None, pattern=r"^[a-z_]{2,32}$", description="EHIC: the insured person.")
    person_id: str | None = Field(default=None, max_length=20, pattern=LINE_PATTERN)
    starting_date: dt.date | None = Field(default=None, description="EHIC: insured from.")
    ending_date: dt.date | None = Field(default=None, description="EHIC: the card's last day.")

    @model_validator(mode="after")
    def _fits_type(self) -> IssueIn:
        if self.type is CredentialType.PDA1:
            if self.decision_id is None:
                raise ValueError("a PDA1 is issued from a decision: give decision_id")
            if self.person_id or self.starting_date or self.ending_date:
                raise ValueError("a PDA1 takes the person and the period from its decision")
        else:
            if self.decision_id is not None:
                raise ValueError("an EHIC is not issued from an applicable-legislation decision")
            if not (self.person_scheme and self.person_id and self.starting_date and self.ending_date):
                raise ValueError("an EHIC needs person_scheme, person_id, starting_date and ending_date")
            if self.ending_date < self.starting_date:
                raise ValueError("ending_date is before starting_date")
        return self


class StatusChangeIn(_Strict):
    reason: str = Field(min_length=3, max_length=500, pattern=TEXT_PATTERN, description="Why, for the history.")


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    actor: str
    reason: str | None
    at: dt.datetime


class OfferOut(BaseModel):
    """A credential offer for the person's wallet; the transaction code is told to the person apart
    from the offer (shown once, never stored in the clear)."""

    credential_offer_uri: str = Field(description="openid-credential-offer://… for a QR code or a link.")
    credential_offer: dict[str, Any]
    tx_code: str
    expires_at: dt.datetime


class CredentialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    document_number: str
    kind: CredentialType
    vct: str
    person_scheme: str
    person_id: str
    state: CredentialState
    valid_from: dt.date
    valid_until: dt.date
    claims: dict[str, Any]
    status_list: str = Field(description="The status list entry verifiers check: its URI and index.")
    issued_by: str
    issued_at: dt.datetime
    collections: int
    collected_at: dt.datetime | None


class CredentialDetail(CredentialOut):
    history: list[EventOut]


class IssuedOut(BaseModel):
    credential: CredentialOut
    offer: OfferOut


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 — the OAuth token type, not a secret
    expires_in: int


class NonceOut(BaseModel):
    c_nonce: str


class CredentialRequestIn(BaseModel):
    """OpenID4VCI 1.0 credential request: which configuration, and the wallet's key proof(s)."""

    model_config = ConfigDict(extra="allow")

    credential_configuration_id: str | None = None
    credential_identifier: str | None = None
    proofs: dict[str, list[str]] | None = None
    proof: dict[str, str] | None = None
