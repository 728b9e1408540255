"""Readers for the three batch formats. Each yields ``(line, record_number, fields)`` one record at a
time, so a file of millions of payments is read in constant memory."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator, Mapping
from typing import BinaryIO

import orjson

from saldo.kit.text_lines import NotUtf8Error, utf8_lines
from saldo.payments.errors import BatchFormatError
from saldo.payments.models import BatchFormat
from saldo.payments.service.records import FIELD_SET, REQUIRED_FIELDS

# (line in the file, or None for a JSON array; 1-based record number; the record's fields, or a reason
# why the record could not be read at all)
RawRecord = tuple[int | None, int, Mapping[str, object] | str]

CSV_FIELD_LIMIT = 1024  # no payment field is longer; a longer one means a broken quote


def read_records(source: BinaryIO, fmt: BatchFormat, *, max_json_records: int) -> Iterator[RawRecord]:
    """The records of a batch in ``fmt``. Raises BatchFormatError when the whole batch is unreadable."""
    if fmt is BatchFormat.CSV:
        return _read_csv(source)
    if fmt is BatchFormat.NDJSON:
        return _read_ndjson(source)
    return _read_json(source, max_json_records)


def _read_csv(source: BinaryIO) -> Iterator[RawRecord]:
    lines = utf8_lines(source)
    header, delimiter = read_csv_header(lines)
    return _csv_rows(lines, header, delimiter)


def read_csv_header(lines: Iterator[str]) -> tuple[list[str], str]:
    """The column names and delimiter of a payment CSV file (its first line), checked against the format."""
    try:
        header_line = next(lines, "")
    except NotUtf8Error as exc:
        raise BatchFormatError(exc.reason, line=exc.line) from exc
    if not header_line.strip():
        raise BatchFormatError("the file is empty; the first line must name the columns", line=1)
    # Spreadsheets set to Nordic locales save CSV with semicolons.
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    try:
        header = [name.strip() for name in next(csv.reader([header_line], delimiter=delimiter, strict=True))]
    except csv.Error as exc:  # e.g. a stray carriage return inside the line
        raise BatchFormatError(f"malformed CSV header: {exc}", line=1) from exc
    unknown = [name for name in header if name not in FIELD_SET]
    if unknown:
        raise BatchFormatError(f"unknown column(s): {', '.join(unknown)}", line=1)
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        raise BatchFormatError(f"missing column(s): {', '.join(missing)}", line=1)
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise BatchFormatError(f"column(s) named twice: {', '.join(duplicated)}", line=1)
    return header, delimiter


def _csv_rows(lines: Iterator[str], header: list[str], delimiter: str) -> Iterator[RawRecord]:
    width = len(header)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    record = 0
    line = 1
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except NotUtf8Error as exc:
            raise BatchFormatError(exc.reason, line=exc.line) from exc
        except csv.Error as exc:
            raise BatchFormatError(f"malformed CSV: {exc}", line=start) from exc
        line = reader.line_num + 1
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        record += 1
        if len(row) != width:
            yield start, record, f"expected {width} fields as in the header, found {len(row)}"
        elif any(len(value) > CSV_FIELD_LIMIT for value in row):
            yield start, record, f"a field is longer than {CSV_FIELD_LIMIT} characters (unbalanced quote?)"
        else:
            yield start, record, dict(zip(header, row, strict=True))


def _read_ndjson(source: BinaryIO) -> Iterator[RawRecord]:
    decoder = codecs.getincrementaldecoder("utf-8")()
    record = 0
    for line, raw in enumerate(source, start=1):
        if not raw.strip():
            continue
        record += 1
        try:
            decoder.decode(raw, final=False)  # orjson rejects invalid UTF-8 too; this names it clearly
        except UnicodeDecodeError:
            yield line, record, "the line is not UTF-8 text"
            decoder.reset()
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield line, record, f"not valid JSON: {exc}"
            continue
        if not isinstance(value, dict):
            yield line, record, "each line must be one JSON object"
            continue
        yield line, record, value


def _read_json(source: BinaryIO, max_records: int) -> Iterator[RawRecord]:
    try:
        document = orjson.loads(source.read())
    except orjson.JSONDecodeError as exc:
        raise BatchFormatError(f"not valid JSON: {exc}") from exc
    items = document.get("payments") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise BatchFormatError('a JSON batch is an array of payments or an object {"payments": [...]}')
    if len(items) > max_records:
        raise BatchFormatError(
            f"{len(items)} payments in one JSON batch; the limit is {max_records}: send larger batches as NDJSON or CSV"
        )
    return _json_items(items)


def _json_items(items: list[object]) -> Iterator[RawRecord]:
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            yield None, number, item
        else:
            yield None, number, "each payment must be a JSON object"
