from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from saldo.accounts.models import AccountChange, Channel
from saldo.kit.account_number import AccountScheme
from saldo.kit.dates import IsoDate
from saldo.kit.name_match import Outcome
from saldo.kit.national_id import IdKind, IdScheme


class HolderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_scheme: IdScheme = Field(default=IdScheme.SE_PERSONNUMMER, description="Scheme of the holder's identifier.")
    identifier: str = Field(max_length=40, description="Personal identity or organisation number.")
    name: str = Field(max_length=140, description="The holder's name as the bank has it.")


class AccountRecordIn(BaseModel):
    """An account as the bank has it now: all its holders. Holders not listed any more stop holding it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "account_scheme": "iban",
                    "account": "SE4550000000058398257466",
                    "opened_on": "2019-04-01",
                    "closed_on": None,
                    "holders": [
                        {"id_scheme": "se_personnummer", "identifier": "198112189876", "name": "Anna Andersson"}
                    ],
                }
            ]
        },
    )

    account_scheme: AccountScheme = AccountScheme.IBAN
    account: str = Field(max_length=64)
    opened_on: IsoDate
    closed_on: IsoDate | None = Field(default=None, description="First day the account is closed.")
    holders: list[HolderIn] = Field(description="One holder, or several for a joint account.")


class AccountRecordsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: IsoDate | None = Field(default=None, description="Date the records describe; default today.")
    accounts: list[AccountRecordIn]


class RegisterSummary(BaseModel):
    accounts: int = Field(description="Accounts in the request or file.")
    opened: int = Field(description="Accounts new to the register.")
    changed: int = Field(description="Known accounts with at least one change.")
    unchanged: int
    closed: int
    reopened: int
    holders_added: int
    holders_removed: int
    holders_renamed: int


class BankFileAccepted(RegisterSummary):
    file_id: int
    rows: int
    already_loaded: bool = Field(description="The same file was loaded before; nothing changed.")


class HolderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id_scheme: IdScheme
    identifier: str
    kind: IdKind
    name: str
    held_from: dt.date
    held_until: dt.date | None


class AccountEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    change: AccountChange
    holder_scheme: str | None
    holder_identifier: str | None
    detail: dict[str, object]
    effective_on: dt.date
    actor: str
    source: str
    recorded_at: dt.datetime


class AccountOut(BaseModel):
    account_scheme: AccountScheme
    account: str
    bank_bic: str
    opened_on: dt.date
    closed_on: dt.date | None
    on: dt.date = Field(description="The date the holders are given for.")
    holders: list[HolderOut]
    history: list[AccountEventOut]


class PartyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_scheme: IdScheme = IdScheme.SE_PERSONNUMMER
    identifier: str = Field(max_length=40)


class VopCheckIn(BaseModel):
    """Does this account belong to this name, or to this identifier? Give a name, an identifier or both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"account_scheme": "iban", "account": "SE4550000000058398257466", "name": "Anna Andersson"}]
        },
    )

    account_scheme: AccountScheme = AccountScheme.IBAN
    account: str = Field(max_length=64)
    name: str | None = Field(default=None, max_length=140)
    party: PartyIn | None = Field(default=None, description="The payee's identifier: the stronger check.")


class VopResult(BaseModel):
    outcome: Outcome
    epc_code: str = Field(description="The EPC VOP code: MTCH, CMTC, NMTC or NOAP.")
    reason: str = Field(description="Why: a name-matching reason or account_unknown, account_closed, …")
    registered_name: str | None = Field(
        default=None, description="The holder's name as registered; given with a close match only."
    )


class VopBulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checks: list[VopCheckIn]


class VopBulkItem(BaseModel):
    index: int = Field(description="0-based position of the check in the request.")
    result: VopResult | None = None
    error: str | None = Field(default=None, description="Why this check could not be made (bad account or input).")


class VopBulkOut(BaseModel):
    results: list[VopBulkItem]
    counts: dict[str, int] = Field(description="Results per outcome, plus `error`.")


class DesignationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payee: PartyIn
    account_scheme: AccountScheme = AccountScheme.IBAN
    account: str = Field(max_length=64)


class DesignationOut(BaseModel):
    payee: PartyIn
    account_scheme: AccountScheme
    account: str
    previous_account: str | None
    channel: Channel
    actor: str
    designated_at: dt.datetime
    changed: bool = Field(description="False when this account was already the designated one.")
    letter_id: int | None = Field(description="The letter that tells the payee about the change.")


class RegisterOverview(BaseModel):
    accounts: int
    open_accounts: int
    designated: int = Field(description="Payees with a designated account.")
    letters_pending: int
