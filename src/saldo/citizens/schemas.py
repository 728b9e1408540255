"""What a citizen sees: the page renders these, and ``GET /api/v1/me/overview`` returns them as JSON."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field


class PaymentGroup(StrEnum):
    """How a citizen thinks of a payment's status."""

    UPCOMING = "upcoming"  # registered, verified or in a payment run: on its way
    HELD = "held"  # stopped for now, by a person's decision or a failed account check
    PAID = "paid"  # sent to the bank or settled; or paid by the payer directly (reported)
    NOT_PAID = "not_paid"  # returned by the receiving bank or rejected: the payer will act
    CANCELLED = "cancelled"  # withdrawn by the payer before it was sent


class PaymentLine(BaseModel):
    id: int
    payer: str
    benefit_code: str
    benefit_sv: str
    benefit_en: str
    period_start: dt.date
    period_end: dt.date
    due_date: dt.date
    amount_minor: int
    currency: str
    status: str
    group: PaymentGroup
    account_scheme: str
    account: str
    account_check: str | None
    decision_reference: str


class Total(BaseModel):
    group: PaymentGroup
    currency: str
    amount_minor: int
    payments: int


class Account(BaseModel):
    account_scheme: str
    account: str
    bank: str


class Designation(Account):
    designated_at: dt.datetime
    channel: str


class RuleRun(BaseModel):
    """A published rule that ran over the analysis snapshot holding the citizen's payments."""

    id: str
    version: int
    title_sv: str
    title_en: str
    legal_basis: str


class ChecksRan(BaseModel):
    """The automated checks on the citizen's payments: every payment's account check is in its line;
    the analysis ran these rules over a snapshot taken at ``snapshot_at``."""

    analysis_finished_at: dt.datetime | None
    snapshot_at: dt.datetime | None
    rules: list[RuleRun]


class AccessLine(BaseModel):
    """One time someone at the authority looked at the citizen's data, and why."""

    at: dt.datetime
    role: str
    channel: str
    action: str
    purpose: str
    case_reference: str | None
    payer: str | None = Field(default=None, description="The payer the person was named to, for disclose_to_payer.")
    authority: str | None = Field(
        default=None,
        description="The authority abroad evidence went to or came from, for release_evidence and receive_evidence.",
    )


class ExchangedSed(BaseModel):
    sed_type: str = Field(description="The SED, e.g. H001 (a question), H070 (a death notification).")
    direction: str = Field(description="`sent` from here, or `received` from the institution abroad.")
    at: dt.datetime
    institution: str = Field(
        description="The institution it went to or came from (a case may have more than one participant abroad)."
    )


class CrossBorderExchange(BaseModel):
    """One exchange with a social security institution in another country about the person."""

    case_id: str
    buc_type: str = Field(description="What the exchange is about (EESSI BUC), e.g. H_BUC_01.")
    institution: str = Field(
        description="The institution abroad (EESSI id, e.g. FI:KELA01) the case began with; each SED names its own."
    )
    country: str = Field(description="Its country (EESSI code: EL for Greece, UK for the United Kingdom).")
    started_here: bool = Field(description="Whether the payment authority started it (else the institution abroad).")
    purpose: str | None = Field(description="Why the authority started it; null when the other institution did.")
    opened_at: dt.datetime
    closed: bool
    seds: list[ExchangedSed]


class IssuedCredential(BaseModel):
    """A PDA1 or an EHIC issued to the person, and whether it still holds."""

    document_number: str
    kind: str = Field(description="`pda1` (applicable legislation) or `ehic` (European Health Insurance Card).")
    state: str = Field(description="`valid`, `suspended` or `revoked`, as verifiers see it.")
    valid_from: dt.date
    valid_until: dt.date
    issued_at: dt.datetime
    in_wallet_since: dt.datetime | None = Field(description="When a wallet last collected it; null: not yet.")


class CitizenOverview(BaseModel):
    person_scheme: str
    person_id: str
    year: int
    years: list[int]
    payments: list[PaymentLine]
    totals: list[Total]
    designation: Designation | None
    held_accounts: list[Account]
    checks: ChecksRan
    access: list[AccessLine]
    exchanges: list[CrossBorderExchange] = Field(
        default_factory=list,
        description="Each exchange with a social security institution in another country about the person, newest "
        "first.",
    )
    credentials: list[IssuedCredential] = Field(
        default_factory=list, description="The PDA1 and EHIC credentials issued to the person, newest first."
    )
