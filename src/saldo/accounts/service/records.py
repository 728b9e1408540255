"""Validation of account records, the same for the bank API and bank files: every bad field is
reported with where it is (line, record, field) and why."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from saldo.accounts.errors import RecordError
from saldo.kit.account_number import AccountScheme, InvalidAccountError, normalize_account
from saldo.kit.national_id import IdKind, IdScheme, InvalidIdentifierError, kind_of, normalize_identifier

MAX_HOLDERS = 10  # joint accounts have two or three holders; ten means a broken record
MAX_NAME = 140  # pain.001 Nm is Max140Text: a longer name could never be paid to


@dataclass(frozen=True, slots=True)
class Holder:
    scheme: IdScheme
    identifier: str
    kind: IdKind
    name: str


@dataclass(frozen=True, slots=True)
class AccountRecord:
    scheme: AccountScheme
    number: str
    opened_on: dt.date
    closed_on: dt.date | None
    holders: tuple[Holder, ...]
    line: int | None  # first line of the record in a file
    record: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.scheme.value, self.number)


@dataclass(frozen=True, slots=True)
class HolderFields:
    scheme: str
    identifier: str
    name: str
    line: int | None


def check_name(raw: str, kind: IdKind) -> str:
    """A holder's name, whitespace collapsed; ValueError saying why when it is empty or absurd."""
    name = " ".join(raw.split())
    if not name:
        raise ValueError("the name is empty")
    if len(name) > MAX_NAME:
        raise ValueError(f"the name is longer than {MAX_NAME} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ValueError("the name contains control characters")
    letters = sum(ch.isalpha() for ch in name)
    if letters < 2:
        raise ValueError("the name has no letters")
    if kind is IdKind.PERSON and any(ch.isdigit() for ch in name):
        raise ValueError("a person's name has no digits")
    return name


def check_record(
    *,
    account_scheme: str,
    account: str,
    opened_on: dt.date | None,
    closed_on: dt.date | None,
    holders: list[HolderFields],
    as_of: dt.date,
    line: int | None,
    record: int,
) -> AccountRecord | list[RecordError]:
    """One account record normalised, or every error found in it."""
    errors: list[RecordError] = []

    def fail(field: str, reason: str, at: int | None = line) -> None:
        errors.append(RecordError(line=at, record=record, field=field, reason=reason))

    number = ""
    try:
        scheme = AccountScheme(account_scheme)
        number = normalize_account(scheme, account).number
    except ValueError as exc:
        is_scheme = not isinstance(exc, InvalidAccountError)
        fail("account_scheme" if is_scheme else "account", _scheme_reason(account_scheme) if is_scheme else str(exc))
    if opened_on is None:
        fail("opened_on", "the opening date is missing or not a date (YYYY-MM-DD)")
    elif opened_on > as_of:
        fail("opened_on", f"the account opens after {as_of.isoformat()}, the date the records describe")
    if opened_on is not None and closed_on is not None and closed_on < opened_on:
        fail("closed_on", "the account closes before it opens")
    if not holders:
        fail("holders", "an account has at least one holder")
    if len(holders) > MAX_HOLDERS:
        fail("holders", f"more than {MAX_HOLDERS} holders")
    checked: list[Holder] = []
    seen: set[tuple[str, str]] = set()
    for i, h in enumerate(holders):
        names = _FILE_FIELDS if line is not None else {k: f"holders.{i}.{v}" for k, v in _API_FIELDS.items()}
        holder = _check_holder(h, names, errors, record)
        if holder is None:
            continue
        if (holder.scheme, holder.identifier) in seen:
            errors.append(RecordError(h.line, record, names["identifier"], "the same holder twice"))
        seen.add((holder.scheme, holder.identifier))
        checked.append(holder)
    if errors or opened_on is None:
        return errors
    return AccountRecord(scheme, number, opened_on, closed_on, tuple(checked), line, record)


def _scheme_reason(value: str) -> str:
    return f"unknown account scheme {value!r}; one of {', '.join(s.value for s in AccountScheme)}"


_FILE_FIELDS = {"scheme": "holder_scheme", "identifier": "holder_id", "name": "holder_name"}
_API_FIELDS = {"scheme": "id_scheme", "identifier": "identifier", "name": "name"}


def _check_holder(h: HolderFields, names: dict[str, str], errors: list[RecordError], record: int) -> Holder | None:
    def fail(field: str, reason: str) -> None:
        errors.append(RecordError(h.line, record, names[field], reason))

    try:
        scheme = IdScheme(h.scheme)
    except ValueError:
        fail("scheme", f"unknown identifier scheme {h.scheme!r}")
        return None
    kind = kind_of(scheme)
    before = len(errors)
    identifier = name = ""
    try:
        identifier = normalize_identifier(scheme, h.identifier)
    except InvalidIdentifierError as exc:
        fail("identifier", str(exc))
    try:
        name = check_name(h.name, kind)
    except ValueError as exc:
        fail("name", str(exc))
    return Holder(scheme, identifier, kind, name) if len(errors) == before else None
