"""Applying banks' account records to the register: new accounts, closings, holders coming and
going, every change appended to the account's history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy.orm import Session

from saldo.accounts.errors import RecordError, RecordsRejectedError
from saldo.accounts.models import AccountChange
from saldo.accounts.repository import AccountKey, AccountRepository, StoredAccount, StoredHolder
from saldo.accounts.schemas import AccountRecordIn, AccountRecordsIn, RegisterSummary
from saldo.accounts.service.records import AccountRecord, HolderFields, check_record
from saldo.banks.schemas import BankPrincipal
from saldo.banks.service import bank_ranges, holder_of
from saldo.kit.account_number import AccountNumber
from saldo.kit.account_ranges import AccountRange, range_key
from saldo.kit.clock import today

_TWICE = "the account appears twice (a file lists all rows of an account together)"
APPLY_CHUNK = 5_000  # records per round of statements: bounded memory, few round trips

Event = tuple[int, str, str | None, str | None, dict[str, object], dt.date]


def bank_actor(bank: BankPrincipal) -> str:
    return f"bank:{bank.bank_id}"


@dataclass
class Counts:
    accounts: int = 0
    opened: int = 0
    changed: int = 0
    unchanged: int = 0
    closed: int = 0
    reopened: int = 0
    holders_added: int = 0
    holders_removed: int = 0
    holders_renamed: int = 0
    errors: list[RecordError] = field(default_factory=list)
    error_total: int = 0

    def summary(self) -> RegisterSummary:
        return RegisterSummary(
            accounts=self.accounts,
            opened=self.opened,
            changed=self.changed,
            unchanged=self.unchanged,
            closed=self.closed,
            reopened=self.reopened,
            holders_added=self.holders_added,
            holders_removed=self.holders_removed,
            holders_renamed=self.holders_renamed,
        )


@dataclass
class _Changes:
    new_accounts: list[AccountRecord] = field(default_factory=list)
    account_updates: list[tuple[int, dt.date, dt.date | None]] = field(default_factory=list)
    holders: list[tuple[int, str, str, str, str, dt.date]] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    renamed: list[tuple[int, str]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def _chunks(
    records: Iterable[AccountRecord | list[RecordError]], size: int
) -> Iterator[list[AccountRecord | list[RecordError]]]:
    it = iter(records)
    while chunk := list(islice(it, size)):
        yield chunk


def apply_records(
    session: Session,
    *,
    bank: BankPrincipal,
    records: Iterable[AccountRecord | list[RecordError]],
    as_of: dt.date,
    source: str,
    max_errors: int,
) -> Counts:
    """Apply a bank's records chunk by chunk; stops writing at the first error but goes on checking,
    so the caller gets every error (and rolls back its savepoint)."""
    repository = AccountRepository(session)
    counts = Counts()
    seen: set[AccountKey] = set()
    held = bank_ranges(session, bank.bank_id)
    for chunk in _chunks(records, APPLY_CHUNK):
        valid: list[AccountRecord] = []
        for item in chunk:
            if isinstance(item, list):
                _add_errors(counts, item, max_errors)
                continue
            counts.accounts += 1
            if item.key in seen:
                _add_errors(counts, [RecordError(item.line, item.record, "account", _TWICE)], max_errors)
                continue
            seen.add(item.key)
            key = range_key(AccountNumber(item.scheme, item.number))
            if not any(r.holds(item.scheme, key) for r in held):
                _add_errors(counts, [_outside_ranges(session, item, held)], max_errors)
                continue
            valid.append(item)
        existing = repository.find_accounts([r.key for r in valid])
        foreign = [r for r in valid if r.key in existing and existing[r.key].bank_id != bank.bank_id]
        _add_errors(
            counts,
            [RecordError(r.line, r.record, "account", "the account is registered by another bank") for r in foreign],
            max_errors,
        )
        if counts.error_total:
            continue  # nothing more is written; the caller rolls back
        _apply_chunk(repository, bank, valid, existing, as_of, source, counts)
    return counts


def _outside_ranges(session: Session, record: AccountRecord, held: list[AccountRange]) -> RecordError:
    """Why a bank may not report this account: it lies outside the ranges the bank holds."""
    holder = holder_of(session, AccountNumber(record.scheme, record.number))
    whose = f"; it is in the range of {holder.name} ({holder.bic})" if holder is not None else ""
    mine = ", ".join(str(r) for r in held if r.scheme is record.scheme) or f"no {record.scheme.value} range"
    reason = f"the account is outside the account ranges your bank holds ({mine}){whose}"
    return RecordError(record.line, record.record, "account", reason)


def _add_errors(counts: Counts, errors: list[RecordError], max_errors: int) -> None:
    counts.error_total += len(errors)
    counts.errors.extend(errors[: max(0, max_errors - len(counts.errors))])


def _apply_chunk(
    repository: AccountRepository,
    bank: BankPrincipal,
    records: list[AccountRecord],
    existing: dict[AccountKey, StoredAccount],
    as_of: dt.date,
    source: str,
    counts: Counts,
) -> None:
    changes = _Changes()
    known = [r for r in records if r.key in existing]
    holders = repository.current_holders([existing[r.key].id for r in known])
    for record in records:
        row = existing.get(record.key)
        if row is None:
            changes.new_accounts.append(record)
            continue
        if _diff_account(record, row, holders.get(row.id, []), as_of, changes, counts):
            counts.changed += 1
        else:
            counts.unchanged += 1
    new_ids = repository.insert_accounts(
        bank.bank_id, [(r.scheme.value, r.number, r.opened_on, r.closed_on) for r in changes.new_accounts]
    )
    for record in changes.new_accounts:
        _open_account(record, new_ids[record.key], changes, counts)
    repository.update_accounts(changes.account_updates)
    repository.end_holders(changes.ended, as_of)
    repository.rename_holders(changes.renamed)
    repository.insert_holders(changes.holders)
    repository.insert_events(changes.events, actor=bank_actor(bank), source=source)


def _open_account(record: AccountRecord, account_id: int, changes: _Changes, counts: Counts) -> None:
    counts.opened += 1
    changes.events.append(
        (account_id, AccountChange.OPENED, None, None, {"opened_on": record.opened_on}, record.opened_on)
    )
    for h in record.holders:
        # First reported now: as far as the register knows, the holder has held it since it opened.
        changes.holders.append((account_id, h.scheme.value, h.identifier, h.kind.value, h.name, record.opened_on))
        changes.events.append(
            (account_id, AccountChange.HOLDER_ADDED, h.scheme.value, h.identifier, {"name": h.name}, record.opened_on)
        )
        counts.holders_added += 1
    if record.closed_on is not None:
        changes.events.append(
            (account_id, AccountChange.CLOSED, None, None, {"closed_on": record.closed_on}, record.closed_on)
        )
        counts.closed += 1


def _diff_account(
    record: AccountRecord,
    stored_account: StoredAccount,
    current: list[StoredHolder],
    as_of: dt.date,
    changes: _Changes,
    counts: Counts,
) -> bool:
    """Queue the changes between the stored account and the record; whether there were any."""
    before = len(changes.events)
    account_id, opened_on, closed_on = stored_account.id, stored_account.opened_on, stored_account.closed_on
    if record.opened_on != opened_on or record.closed_on != closed_on:
        changes.account_updates.append((account_id, record.opened_on, record.closed_on))
    if record.opened_on != opened_on:
        detail: dict[str, object] = {"before": opened_on, "after": record.opened_on}
        changes.events.append((account_id, AccountChange.OPENED_ON_CORRECTED, None, None, detail, as_of))
    if record.closed_on != closed_on:
        if record.closed_on is None:
            changes.events.append((account_id, AccountChange.REOPENED, None, None, {"closed_on": closed_on}, as_of))
            counts.reopened += 1
        else:
            detail = {"closed_on": record.closed_on, "before": closed_on}
            changes.events.append((account_id, AccountChange.CLOSED, None, None, detail, record.closed_on))
            counts.closed += 1
    stored = {(h.scheme, h.identifier): h for h in current}
    wanted = {(h.scheme.value, h.identifier): h for h in record.holders}
    for key, h in wanted.items():
        old = stored.get(key)
        if old is None:
            changes.holders.append((account_id, key[0], key[1], h.kind.value, h.name, as_of))
            changes.events.append((account_id, AccountChange.HOLDER_ADDED, key[0], key[1], {"name": h.name}, as_of))
            counts.holders_added += 1
        elif old.name != h.name:
            changes.renamed.append((old.id, h.name))
            detail = {"before": old.name, "after": h.name}
            changes.events.append((account_id, AccountChange.HOLDER_RENAMED, key[0], key[1], detail, as_of))
            counts.holders_renamed += 1
    for key, old in stored.items():
        if key not in wanted:
            changes.ended.append(old.id)
            changes.events.append((account_id, AccountChange.HOLDER_REMOVED, key[0], key[1], {}, as_of))
            counts.holders_removed += 1
    return len(changes.events) > before


def _from_api(item: AccountRecordIn, index: int, as_of: dt.date) -> AccountRecord | list[RecordError]:
    checked = check_record(
        account_scheme=item.account_scheme.value,
        account=item.account,
        opened_on=item.opened_on,
        closed_on=item.closed_on,
        holders=[HolderFields(h.id_scheme.value, h.identifier, h.name, None) for h in item.holders],
        as_of=as_of,
        line=None,
        record=index + 1,
    )
    if isinstance(checked, list):
        return [RecordError(None, e.record, f"accounts.{index}.{e.field}", e.reason) for e in checked]
    return checked


def register_accounts(
    session: Session, *, bank: BankPrincipal, request: AccountRecordsIn, max_records: int, max_errors: int
) -> RegisterSummary:
    """Apply accounts a bank sends through the API, all or none (RecordsRejectedError lists every
    bad field, and nothing of the request is kept)."""
    if len(request.accounts) > max_records:
        error = RecordError(
            None, None, "accounts", f"{len(request.accounts)} accounts; at most {max_records} per request"
        )
        raise RecordsRejectedError("too many accounts in one request", [error], 1)
    as_of = request.as_of or today()
    records = (_from_api(item, i, as_of) for i, item in enumerate(request.accounts))
    with session.begin_nested():  # a rejected request leaves nothing behind, whatever the caller does next
        counts = apply_records(session, bank=bank, records=records, as_of=as_of, source="api", max_errors=max_errors)
        if counts.error_total:
            raise RecordsRejectedError(
                f"nothing was registered: {counts.error_total} bad fields or records", counts.errors, counts.error_total
            )
    return counts.summary()
