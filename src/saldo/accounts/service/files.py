"""Bank files: a bank's daily register file, one row per account holder, read as a stream and
applied whole or not at all. The format is in docs/formats/bank-account-file.md."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from saldo.accounts.errors import BankFileUnreadableError, RecordError, RecordsRejectedError
from saldo.accounts.models import BankFile
from saldo.accounts.repository import AccountRepository
from saldo.accounts.schemas import BankFileAccepted
from saldo.accounts.service.records import AccountRecord, HolderFields, check_record
from saldo.accounts.service.register import apply_records
from saldo.banks.schemas import BankPrincipal
from saldo.kit.digest import sha256_of_file
from saldo.kit.text_lines import NotUtf8Error, utf8_lines

REQUIRED_COLUMNS = ("account", "opened_on", "holder_id", "holder_name")
OPTIONAL_COLUMNS = ("account_scheme", "closed_on", "holder_scheme")
DEFAULTS = {"account_scheme": "iban", "closed_on": "", "holder_scheme": "se_personnummer"}
CSV_FIELD_LIMIT = 1024  # no column is longer; a longer one means a broken quote


@dataclass(frozen=True, slots=True)
class BankFileSource:
    """A bank file on disk, read as a stream: memory does not grow with its size."""

    path: Path
    sha256: bytes
    filename: str | None
    as_of: dt.date

    @classmethod
    def from_path(cls, path: Path, as_of: dt.date, filename: str | None = None) -> BankFileSource:
        """A source for a file on disk, its SHA-256 computed as it is read."""
        return cls(path, sha256_of_file(path), filename or path.name, as_of)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def _rows(source: BinaryIO) -> Iterator[tuple[int, dict[str, str] | str]]:
    try:
        yield from _decoded_rows(utf8_lines(source))
    except NotUtf8Error as exc:
        raise BankFileUnreadableError(str(exc)) from exc


def _decoded_rows(lines: Iterator[str]) -> Iterator[tuple[int, dict[str, str] | str]]:
    header_line = next(lines, "")
    if not header_line.strip():
        raise BankFileUnreadableError("line 1: the file is empty; the first line must name the columns")
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    try:
        header = [h.strip() for h in next(csv.reader([header_line], delimiter=delimiter))]
    except csv.Error as exc:  # a bare carriage return in the header, say
        raise BankFileUnreadableError(f"line 1: the header cannot be read ({_csv_problem(exc)})") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        parts = [f"missing {', '.join(missing)}" if missing else "", f"unknown {', '.join(unknown)}" if unknown else ""]
        detail = "; ".join(p for p in parts if p) or "a column is named twice"
        raise BankFileUnreadableError(f"line 1: the header does not match the format ({detail})")
    reader = csv.reader(lines, delimiter=delimiter)
    line = 1
    try:
        for values in reader:
            line = reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                yield line, f"{len(values)} columns where the header has {len(header)}"
                continue
            if any(len(v) > CSV_FIELD_LIMIT for v in values):
                yield line, f"a field is longer than {CSV_FIELD_LIMIT} characters (unbalanced quote?)"
                continue
            yield line, {**DEFAULTS, **dict(zip(header, values, strict=True))}
    except csv.Error as exc:  # raised while reading the row after the last one read
        raise BankFileUnreadableError(f"line {line + 1}: {_csv_problem(exc)}") from exc


def _csv_problem(exc: csv.Error) -> str:
    if "new-line character" in str(exc):
        return "a carriage return or line break inside a field that is not in quotes"
    return str(exc)


class BankFileReader:
    """The file's accounts, each checked: the rows of one account (one per holder) must be adjacent
    and agree on the account's dates. ``rows`` counts the data rows read so far."""

    def __init__(self, source: BinaryIO, as_of: dt.date) -> None:
        self.source = source
        self.as_of = as_of
        self.rows = 0

    def __iter__(self) -> Iterator[AccountRecord | list[RecordError]]:
        group: list[tuple[int, dict[str, str]]] = []
        record = 0
        for line, row in _rows(self.source):
            self.rows += 1
            if isinstance(row, str):
                if group:  # report in file order: the account before this row first
                    record += 1
                    yield _check_group(group, self.as_of, record)
                    group = []
                record += 1
                yield [RecordError(line=line, record=record, field=None, reason=row)]
                continue
            if group and (row["account_scheme"], row["account"].strip()) != _group_key(group):
                record += 1
                yield _check_group(group, self.as_of, record)
                group = []
            group.append((line, row))
        if group:
            record += 1
            yield _check_group(group, self.as_of, record)


def _group_key(group: list[tuple[int, dict[str, str]]]) -> tuple[str, str]:
    first = group[0][1]
    return (first["account_scheme"], first["account"].strip())


def _check_group(
    group: list[tuple[int, dict[str, str]]], as_of: dt.date, record: int
) -> AccountRecord | list[RecordError]:
    first_line, first = group[0]
    errors: list[RecordError] = []
    for line, row in group[1:]:
        for column in ("opened_on", "closed_on"):
            if row[column].strip() != first[column].strip():
                reason = f"the account's {column} differs from line {first_line}"
                errors.append(RecordError(line=line, record=record, field=column, reason=reason))
    closed_text = first["closed_on"].strip()
    closed_on = _date(closed_text) if closed_text else None
    if closed_text and closed_on is None:
        errors.append(RecordError(first_line, record, "closed_on", "not a date (YYYY-MM-DD)"))
    checked = check_record(
        account_scheme=first["account_scheme"].strip(),
        account=first["account"],
        opened_on=_date(first["opened_on"]),
        closed_on=closed_on,
        holders=[HolderFields(r["holder_scheme"].strip(), r["holder_id"], r["holder_name"], line) for line, r in group],
        as_of=as_of,
        line=first_line,
        record=record,
    )
    if isinstance(checked, list) or errors:
        return (checked if isinstance(checked, list) else []) + errors
    return checked


def load_bank_file(
    session: Session, *, bank: BankPrincipal, source: BankFileSource, max_errors: int
) -> BankFileAccepted:
    """Apply a bank's register file whole, or raise RecordsRejectedError with every bad row and
    keep nothing of it. Loading the same file again changes nothing."""
    digest = source.sha256
    repository = AccountRepository(session)
    previous = repository.file_by_hash(bank.bank_id, digest)
    if previous is not None:
        return BankFileAccepted.model_validate({**previous.summary, "file_id": previous.id, "already_loaded": True})
    # A savepoint of its own: a rejected file leaves nothing behind, whatever the caller does next.
    with session.begin_nested():
        bank_file = repository.add_file(
            BankFile(
                bank_id=bank.bank_id,
                content_sha256=digest,
                filename=source.filename,
                as_of=source.as_of,
                rows=0,
                summary={},
            )
        )
        with source.path.open("rb") as handle:
            reader = BankFileReader(handle, source.as_of)
            counts = apply_records(
                session,
                bank=bank,
                records=reader,
                as_of=source.as_of,
                source=f"file:{bank_file.id}",
                max_errors=max_errors,
            )
        if counts.error_total:
            raise RecordsRejectedError(
                f"the file was not loaded: {counts.error_total} bad records", counts.errors, counts.error_total
            )
    summary = BankFileAccepted(
        **counts.summary().model_dump(), file_id=bank_file.id, rows=reader.rows, already_loaded=False
    )
    bank_file.rows = reader.rows
    bank_file.summary = summary.model_dump(mode="json", exclude={"file_id", "already_loaded"})
    session.flush()
    return summary
