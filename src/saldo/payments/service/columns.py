"""Columnar validation of CSV payment files: the fast path of batch ingestion.

A nightly file of millions of payments is read by Arrow's multi-threaded CSV reader and checked a
column at a time. A row is accepted here only when every vectorised check proves it valid under the
same rules as the record validator (records.py); every other row goes to that validator, which
accepts it or names each fault. So the verdict on each row is the record validator's, and this
module only makes the common case fast. tests/payments/test_columns.py holds the two to the same
verdict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from saldo.kit.national_id import IdKind, birth_date_valid
from saldo.payments.service.records import (
    EARLIEST_DATE,
    FIELDS,
    MAX_DECISION_REFERENCE,
    MAX_NAME,
    MAX_PERIOD_DAYS,
    MAX_REMITTANCE,
    PAYEE_KIND_FOR_BENEFIT,
    RecordValidator,
    ValidPayment,
)

BLOCK_BYTES = 8 << 20  # Arrow parses the file in blocks of this size, in parallel
_PRINTABLE = r"[ -~\x{A1}-\x{AC}\x{AE}-\x{17F}]"  # a subset of what str.isprintable accepts
_PRINTABLE_EDGE = r"[!-~\x{A1}-\x{AC}\x{AE}-\x{17F}]"
TRIMMED_PRINTABLE = f"^{_PRINTABLE_EDGE}(?:{_PRINTABLE}*{_PRINTABLE_EDGE})?$"
REFERENCE_RE2 = r"^[A-Za-z0-9][A-Za-z0-9._:/\-]{0,63}$"
SE_PERSON_SCHEMES = {"se_personnummer": False, "se_samordningsnummer": True}  # scheme -> coordination

CANONICAL_SCHEMA = pa.schema(
    [
        ("line", pa.int64()),
        ("reference", pa.string()),
        ("payee_scheme", pa.string()),
        ("payee_identifier", pa.string()),
        ("payee_name", pa.string()),
        ("benefit_id", pa.int64()),
        ("amount_minor", pa.int64()),
        ("currency", pa.string()),
        ("decision_reference", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("due_date", pa.date32()),
        ("account_scheme", pa.string()),
        ("account_number", pa.string()),
        ("remittance_info", pa.string()),
    ]
)


class FastPathUnavailableError(Exception):
    """The file is not plain enough for the columnar reader (blank lines, quoted line breaks,
    broken quoting, bad UTF-8): the record-at-a-time reader takes it and reports precisely."""


@dataclass
class CheckedBatch:
    """One block of the file after checking: canonical rows, and the rows for the record validator."""

    accepted: pa.Table  # CANONICAL_SCHEMA
    others: list[tuple[int, dict[str, object]]]  # (line, raw record) needing the record validator
    rows: int


def read_blocks(path: Path, header: list[str], delimiter: str) -> Iterator[tuple[int, pa.RecordBatch]]:
    """(line of the first row, block) for every block of a CSV file whose header was checked."""
    read = pacsv.ReadOptions(block_size=BLOCK_BYTES, use_threads=True, encoding="utf8")
    parse = pacsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False, newlines_in_values=False)
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False, check_utf8=True
    )
    line = 2
    try:
        with pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert) as reader:
            if reader.schema.names != header:
                raise FastPathUnavailableError("header differs")
            for block in reader:
                yield line, block
                line += block.num_rows
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise FastPathUnavailableError(str(exc)) from exc


class ColumnChecker:
    def __init__(self, validator: RecordValidator) -> None:
        self.validator = validator
        permitted = sorted(validator.permitted)
        self.permitted_codes = pa.array(permitted, pa.string())
        self.permitted_ids = pa.array([validator.catalogue[c].id for c in permitted], pa.int64())
        self.to_persons = pa.array(
            [PAYEE_KIND_FOR_BENEFIT[validator.catalogue[c].kind] is IdKind.PERSON for c in permitted], pa.bool_()
        )
        self.currencies = pa.array(sorted(validator.currencies), pa.string())
        self.dates: dict[str, dt.date | None] = {}

    def check(self, first_line: int, block: pa.RecordBatch) -> CheckedBatch:
        """Split a block into rows proven valid (canonical) and rows for the record validator."""
        n = block.num_rows
        col = {name: block.column(name) if name in block.schema.names else None for name in FIELDS}
        ok = np.ones(n, dtype=bool)

        def require(mask: pa.Array | npt.NDArray[np.bool_]) -> None:
            nonlocal ok
            values = mask if isinstance(mask, np.ndarray) else pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
            ok &= values

        require(pc.match_substring_regex(col["reference"], REFERENCE_RE2))
        for name, limit in (("payee_name", MAX_NAME), ("decision_reference", MAX_DECISION_REFERENCE)):
            require(pc.less_equal(pc.utf8_length(col[name]), limit))
            require(pc.match_substring_regex(col[name], TRIMMED_PRINTABLE))

        coordination = pc.equal(col["payee_scheme"], "se_samordningsnummer")
        person_scheme = pc.is_in(col["payee_scheme"], value_set=pa.array(list(SE_PERSON_SCHEMES)))
        require(person_scheme)
        require(pc.match_substring_regex(col["payee_id"], r"^[0-9]{12}$"))
        require(self._se_person_numbers(col["payee_id"], coordination, ok))

        benefit_index = pc.index_in(col["benefit"], value_set=self.permitted_codes)
        require(pc.is_valid(benefit_index))
        require(pc.take(self.to_persons, benefit_index))  # these schemes name persons

        require(pc.match_substring_regex(col["amount_minor"], r"^[0-9]{1,18}$"))
        amount = pc.cast(pc.if_else(pa.array(ok), col["amount_minor"], "0"), pa.int64())
        require(pc.and_(pc.greater(amount, 0), pc.less_equal(amount, self.validator.max_amount_minor)))
        require(pc.is_in(col["currency"], value_set=self.currencies))

        start, end, due = (self._dates(col[name]) for name in ("period_start", "period_end", "due_date"))
        for value in (start, end, due):
            require(pc.is_valid(value))
        require(pc.greater_equal(start, pa.scalar(EARLIEST_DATE)))
        require(pc.less_equal(start, end))
        span = pc.subtract(pc.cast(end, pa.int32()), pc.cast(start, pa.int32()))
        require(pc.less(span, MAX_PERIOD_DAYS))
        require(pc.less_equal(start, pa.scalar(self.validator.latest_period)))
        require(pc.greater_equal(due, pa.scalar(self.validator.due_from)))
        require(pc.less_equal(due, pa.scalar(self.validator.due_until)))

        require(pc.equal(col["account_scheme"], "iban"))
        require(pc.match_substring_regex(col["account"], r"^SE[0-9]{22}$"))
        require(self._se_iban_checksum(col["account"], ok))

        remittance = col["remittance_info"]
        if remittance is not None:
            empty = pc.equal(remittance, "")
            fits = pc.and_(
                pc.less_equal(pc.utf8_length(remittance), MAX_REMITTANCE),
                pc.match_substring_regex(remittance, TRIMMED_PRINTABLE),
            )
            require(pc.or_(empty, fits))
            remittance = pc.if_else(empty, pa.scalar(None, pa.string()), remittance)
        else:
            remittance = pa.nulls(n, pa.string())

        keep = pa.array(ok)
        lines = pa.array(np.arange(first_line, first_line + n, dtype=np.int64))
        accepted = pa.table(
            [
                lines,
                col["reference"],
                col["payee_scheme"],
                col["payee_id"],
                col["payee_name"],
                pc.take(self.permitted_ids, benefit_index),
                amount,
                col["currency"],
                col["decision_reference"],
                start,
                end,
                due,
                col["account_scheme"],
                col["account"],
                remittance,
            ],
            schema=CANONICAL_SCHEMA,
        ).filter(keep)
        others = [(first_line + int(i), block.slice(int(i), 1).to_pylist()[0]) for i in np.flatnonzero(~ok)]
        return CheckedBatch(accepted=accepted, others=others, rows=n)

    def _dates(self, column: pa.Array) -> pa.Array:
        """Dates parsed by the record validator's own rule, once per distinct text."""
        distinct = pc.unique(column)
        for text in distinct.to_pylist():
            if text not in self.dates:
                self.dates[text] = self.validator.parse_date_or_none(text)
        values = pa.array([self.dates[t] for t in distinct.to_pylist()], pa.date32())
        return pc.take(values, pc.index_in(column, value_set=distinct))

    @staticmethod
    def _se_person_numbers(ids: pa.Array, coordination: pa.Array, ok: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Birth date real (day + 60 for samordningsnummer) and Luhn over the last ten digits."""
        digits = pc.if_else(pa.array(ok), ids, "190001010000")  # harmless filler where already failed
        numbers = pc.cast(digits, pa.int64()).to_numpy()
        coordinated = pc.fill_null(coordination, False).to_numpy(zero_copy_only=False)
        day = (numbers // 10**4) % 100
        right_form = np.where(coordinated, day > 60, day <= 31)
        dates, inverse = np.unique(numbers // 10**4, return_inverse=True)
        real = np.array([birth_date_valid(str(d), d % 100 > 60) for d in dates.tolist()], dtype=bool)
        ten = numbers % 10**10
        total = np.zeros_like(ten)
        for position in range(10):
            digit = ten % 10
            ten //= 10
            if position % 2:
                digit = digit * 2
                digit -= 9 * (digit > 9)
            total += digit
        result: npt.NDArray[np.bool_] = right_form & real[inverse.reshape(-1)] & (total % 10 == 0)
        return result

    @staticmethod
    def _se_iban_checksum(accounts: pa.Array, ok: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """ISO 7064 mod 97-10 over a Swedish IBAN (SE + 2 check digits + 20-digit BBAN)."""
        text = pc.if_else(pa.array(ok), accounts, "SE000000000000000000000000")
        check = pc.cast(pc.utf8_slice_codeunits(text, 2, 4), pa.int64()).to_numpy()
        high = pc.cast(pc.utf8_slice_codeunits(text, 4, 14), pa.int64()).to_numpy()
        low = pc.cast(pc.utf8_slice_codeunits(text, 14, 24), pa.int64()).to_numpy()
        remainder = high % 97
        remainder = (remainder * 10**10 + low) % 97
        remainder = (remainder * 10**6 + 281400 + check) % 97  # "SE" is 28 14, then the check digits
        result: npt.NDArray[np.bool_] = (remainder == 1) & (check >= 2) & (check <= 98)  # ISO 13616
        return result


def canonical_rows(valid: list[tuple[int, ValidPayment]]) -> pa.Table:
    """Rows the record validator accepted, in the canonical schema."""
    return pa.Table.from_pylist(
        [
            {
                "line": line,
                "reference": v.reference,
                "payee_scheme": v.payee_scheme,
                "payee_identifier": v.payee_identifier,
                "payee_name": v.payee_name,
                "benefit_id": v.benefit_id,
                "amount_minor": v.amount_minor,
                "currency": v.currency,
                "decision_reference": v.decision_reference,
                "period_start": v.period_start,
                "period_end": v.period_end,
                "due_date": v.due_date,
                "account_scheme": v.account_scheme,
                "account_number": v.account_number,
                "remittance_info": v.remittance_info,
            }
            for line, v in valid
        ],
        schema=CANONICAL_SCHEMA,
    )
