"""Checked reading of register and decision files: a CSV file against a declared list of columns,
every fault named by line, field and reason, the good rows returned as typed Arrow columns.

Checks run a column at a time over Arrow arrays; identifiers are validated once per distinct value.
Line numbers count the header as line 1 and assume no line breaks inside quoted fields."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from saldo.kit.national_id import IdScheme, InvalidIdentifierError, normalize_identifier
from saldo.kit.problem import ErrorItem, ProblemError

MAX_REPORTED_ERRORS = 1_000
SCHEME_NAMES = frozenset(s.value for s in IdScheme)
INTEGER = r"^-?[0-9]{1,18}$"
EARLIEST = dt.date(1800, 1, 1)
LATEST = dt.date(2199, 12, 31)

BoolArray = npt.NDArray[np.bool_]


class FileRejectedError(ProblemError):
    """A file failed its checks; nothing of it was stored."""

    status = 422
    error = "file_rejected"

    def __init__(self, filename: str, errors: list[CellError], error_count: int) -> None:
        first = "; ".join(f"line {e.line}, {e.field}: {e.reason}" for e in errors[:3])
        super().__init__(f"{filename} was rejected with {error_count} error(s), nothing stored: {first}")
        self.filename = filename
        self.errors = errors
        self.error_count = error_count

    def problem_items(self) -> list[ErrorItem]:
        return [ErrorItem(line=e.line, record=None, field=e.field, reason=e.reason) for e in self.errors]

    def problem_extra(self) -> dict[str, Any]:
        return {"error_total": self.error_count}


class Kind(StrEnum):
    TEXT = "text"
    DATE = "date"
    MONTH = "month"  # YYYY-MM, read as the first day of the month
    INTEGER = "integer"
    CODE = "code"  # one of a fixed set
    SCHEME = "scheme"  # an identifier scheme (kit.national_id.IdScheme)
    IDENTIFIER = "identifier"  # validated under the scheme in ``scheme_column``


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True
    max_length: int = 140
    choices: frozenset[str] = frozenset()
    scheme_column: str = ""
    minimum: int | None = None


@dataclass(frozen=True)
class CellError:
    line: int
    field: str
    reason: str


@dataclass
class CheckedTable:
    table: pa.Table  # the typed columns of every row, in file order; a faulty cell is null
    rows: int  # data rows read
    errors: list[CellError] = field(default_factory=list)  # the first MAX_REPORTED_ERRORS faults
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0


def read_checked_csv(
    path: Path, columns: Sequence[Column], *, refused: Mapping[str, str] | None = None
) -> CheckedTable:
    """Read ``path`` and check it against ``columns``; ``refused`` maps column names that must never
    be accepted to the reason (excluded data categories)."""
    try:
        raw = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=8 << 20),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(_header(path), pa.string()), strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError, ValueError) as exc:
        return _fatal(0, "file", f"not a readable UTF-8 CSV file: {exc}")
    header_errors = _check_header(raw.column_names, columns, refused or {})
    if header_errors:
        return CheckedTable(pa.table({}), raw.num_rows, header_errors, len(header_errors))
    checker = _Checker(raw)
    typed = {column.name: checker.check(column) for column in columns}
    return CheckedTable(pa.table(typed), raw.num_rows, checker.errors[:MAX_REPORTED_ERRORS], checker.error_count)


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader([handle.readline()]), [])


def _fatal(line: int, name: str, reason: str) -> CheckedTable:
    return CheckedTable(pa.table({}), 0, [CellError(line, name, reason)], 1)


def _check_header(names: list[str], columns: Sequence[Column], refused: Mapping[str, str]) -> list[CellError]:
    errors = [CellError(1, n, f"refused: {refused[n.lower()]}") for n in names if n.lower() in refused]
    known = {c.name for c in columns}
    errors += [
        CellError(1, n, f"unknown column; the format has {', '.join(sorted(known))}")
        for n in names
        if n not in known and n.lower() not in refused
    ]
    errors += [CellError(1, c.name, "missing column") for c in columns if c.name not in names]
    if len(set(names)) != len(names):
        errors.append(CellError(1, "header", "a column name appears twice"))
    return errors


class _Checker:
    def __init__(self, raw: pa.Table) -> None:
        self.raw = raw
        self.bad = np.zeros(raw.num_rows, dtype=bool)
        self.errors: list[CellError] = []
        self.error_count = 0
        self.schemes: dict[str, pa.Array] = {}

    def fail(self, mask: BoolArray, name: str, reason: str | list[str]) -> None:
        count = int(mask.sum())
        if not count:
            return
        self.bad |= mask
        self.error_count += count
        room = MAX_REPORTED_ERRORS - len(self.errors)
        if room > 0:
            rows = np.flatnonzero(mask)[:room]
            for row in rows.tolist():
                text = reason if isinstance(reason, str) else reason[row]
                self.errors.append(CellError(row + 2, name, text))
            self.errors.sort(key=lambda e: (e.line, e.field))

    def check(self, column: Column) -> pa.Array:
        values = self.raw[column.name].combine_chunks()
        if isinstance(values, pa.ChunkedArray):  # pragma: no cover — combine_chunks of a column
            values = values.combine_chunks()
        empty = pc.equal(pc.utf8_length(values), 0).to_numpy(zero_copy_only=False)
        if column.required:
            self.fail(empty, column.name, "required")
        kinds = {
            Kind.TEXT: self._text,
            Kind.DATE: self._date,
            Kind.MONTH: self._month,
            Kind.INTEGER: self._integer,
            Kind.CODE: self._code,
            Kind.SCHEME: self._scheme,
            Kind.IDENTIFIER: self._identifier,
        }
        return kinds[column.kind](column, values, empty)

    def _text(self, column: Column, values: pa.Array, empty: BoolArray) -> pa.Array:
        too_long = pc.greater(pc.utf8_length(values), column.max_length).to_numpy(zero_copy_only=False)
        self.fail(too_long, column.name, f"longer than {column.max_length} characters")
        return pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), values)

    def _date(self, column: Column, values: pa.Array, empty: BoolArray, suffix: str = "") -> pa.Array:
        text = pc.binary_join_element_wise(values, suffix, "") if suffix else values
        parsed = pc.cast(pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True), pa.date32())
        # strptime rolls 2026-02-30 over to March: a date is valid only if it prints back as written.
        back = pc.strftime(pc.cast(parsed, pa.timestamp("s")), format="%Y-%m-%d")
        parsed = pc.if_else(pc.equal(back, text), parsed, pa.scalar(None, pa.date32()))
        wrong = pc.is_null(parsed).to_numpy(zero_copy_only=False) & ~empty
        form = "YYYY-MM" if suffix else "YYYY-MM-DD"
        self.fail(wrong, column.name, f"not a date of the form {form}")
        outside = pc.fill_null(
            pc.or_(pc.less(parsed, pa.scalar(EARLIEST)), pc.greater(parsed, pa.scalar(LATEST))), False
        ).to_numpy(zero_copy_only=False)
        self.fail(outside, column.name, f"outside {EARLIEST.year}-{LATEST.year}")
        return parsed

    def _month(self, column: Column, values: pa.Array, empty: BoolArray) -> pa.Array:
        return self._date(column, values, empty, suffix="-01")

    def _integer(self, column: Column, values: pa.Array, empty: BoolArray) -> pa.Array:
        form = pc.match_substring_regex(values, INTEGER).to_numpy(zero_copy_only=False)
        self.fail(~form & ~empty, column.name, "not a whole number")
        safe = pc.if_else(pa.array(form), values, "0")
        numbers = pc.cast(safe, pa.int64())
        if column.minimum is not None:
            low = pc.less(numbers, column.minimum).to_numpy(zero_copy_only=False) & form
            self.fail(low, column.name, f"less than {column.minimum}")
        return pc.if_else(pa.array(form), numbers, pa.scalar(None, pa.int64()))

    def _code(self, column: Column, values: pa.Array, empty: BoolArray) -> pa.Array:
        known = pc.is_in(values, value_set=pa.array(sorted(column.choices))).to_numpy(zero_copy_only=False)
        choices = ", ".join(sorted(column.choices))
        self.fail(~known & ~empty, column.name, f"not one of {choices}")
        return pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), values)

    def _scheme(self, column: Column, values: pa.Array, empty: BoolArray) -> pa.Array:
        known = pc.is_in(values, value_set=pa.array(sorted(SCHEME_NAMES))).to_numpy(zero_copy_only=False)
        self.fail(~known & ~empty, column.name, "not a known identifier scheme")
        self.schemes[column.name] = values
        return values

    def _identifier(self, column: Column, values: pa.Array, empty: BoolArray) -> pa.Array:
        schemes = self.schemes[column.scheme_column]
        pairs = pc.binary_join_element_wise(schemes, values, "\x1f")
        distinct = pc.unique(pairs)
        canonical: list[str | None] = []
        reasons: list[str] = []
        for pair in distinct.to_pylist():
            scheme, _, number = pair.partition("\x1f")
            try:
                canonical.append(normalize_identifier(IdScheme(scheme), number) if number else None)
                reasons.append("")
            except (InvalidIdentifierError, ValueError) as exc:
                canonical.append(None)
                reasons.append(str(exc) if scheme in SCHEME_NAMES else "")  # a bad scheme is its own fault
        position = pc.index_in(pairs, value_set=distinct)
        reason = pa.array(reasons).take(position)
        faulty = pc.not_equal(reason, "").to_numpy(zero_copy_only=False)
        self.fail(faulty, column.name, reason.to_pylist() if faulty.any() else "")
        return pa.array(canonical, pa.string()).take(position)


def check_unique(checked: CheckedTable, keys: list[str]) -> None:
    """Name every row whose ``keys`` (all present) repeat another row's."""
    table = present = checked.table
    for key in keys:
        present = present.filter(pc.is_valid(present[key]))
    counts = present.group_by(keys).aggregate([([], "count_all")]).filter(pc.greater(pc.field("count_all"), 1))
    if counts.num_rows:
        repeated = pc.is_in(  # over every row of the file, so that positions are lines
            pc.binary_join_element_wise(*[pc.cast(table[k], pa.string()) for k in keys], "|"),
            value_set=pc.binary_join_element_wise(*[pc.cast(counts[k], pa.string()) for k in keys], "|"),
        )
        fail_rows(checked, repeated, keys[-1], "appears more than once in the file")


def fail_rows(checked: CheckedTable, mask: pa.ChunkedArray | pa.Array, name: str, reason: str) -> None:
    """Record a fault of field ``name`` on every row where ``mask`` is true."""
    rows = np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False)).tolist()
    checked.error_count += len(rows)
    # Positions are the file's rows: line = row + 2 (the header is line 1).
    checked.errors.extend(
        CellError(r + 2, name, reason) for r in rows[: max(0, MAX_REPORTED_ERRORS - len(checked.errors))]
    )
    checked.errors.sort(key=lambda e: (e.line, e.field))
