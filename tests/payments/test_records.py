"""The record validator, and the two shortcuts that must agree with it: the plain-record path and
the columnar CSV path."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saldo.benefits.models import BenefitKind
from saldo.kit.clock import today
from saldo.payments.service.columns import ColumnChecker, read_blocks
from saldo.payments.service.records import (
    FIELDS,
    BenefitRule,
    RecordRejectedError,
    RecordValidator,
    ValidPayment,
)
from tests.factories import payment_body

TODAY = today()
CATALOGUE = {
    "EKB": BenefitRule(1, BenefitKind.ECONOMIC_SUPPORT),
    "FOB": BenefitRule(2, BenefitKind.ASSOCIATION_GRANT),
    "BB": BenefitRule(3, BenefitKind.ECONOMIC_BENEFIT),
    "IP": BenefitRule(4, BenefitKind.ECONOMIC_BENEFIT),
}


def validator() -> RecordValidator:
    return RecordValidator(
        catalogue=CATALOGUE,
        permitted=frozenset({"EKB", "FOB", "BB"}),
        currencies=frozenset({"SEK"}),
        max_amount_minor=10_000_000_00,
        today=TODAY,
    )


def as_text(record: dict[str, object]) -> dict[str, object]:
    return {k: ("" if v is None else str(v)) for k, v in record.items()}


def verdict(record: dict[str, object]) -> ValidPayment | frozenset[tuple[str | None, str]]:
    try:
        return validator()._check_all(record)
    except RecordRejectedError as exc:
        return frozenset((e.field, e.reason) for e in exc.errors)


# Alternatives per field: valid in other forms, invalid in many ways, and odd characters.
ALTERNATIVES: dict[str, list[object]] = {
    "reference": ["A-1", "a.b:c/d_e", " X", "", "x" * 65, "é", "-lead", "A B"],
    "payee_scheme": ["se_samordningsnummer", "se_organisationsnummer", "fi_hetu", "nope", ""],
    "payee_id": ["19811228-9874", "811228-9874", "198112289875", "197010632391", "2120000142", "", "12345678901x"],
    "payee_name": ["Åsa Öberg", " Anna", "Anna ", "A\u00a0B", "A\tB", "x" * 141, "Łukasz Żółć", "", "李"],
    "benefit": ["FOB", "IP", "XX", "", "BB"],
    "amount_minor": ["1", "0", "-1", "1.5", "\uff11\uff12", "99999999999", "1000000000", " 12", "00012"],
    "currency": ["EUR", "sek", "", "SEKK"],
    "decision_reference": ["", "d" * 65, "Beslut 1", " x"],
    "period_start": [
        "2026-02-30",
        "1999-12-31",
        "20260101",
        "",
        (TODAY.replace(day=1) - dt.timedelta(days=400)).isoformat(),
    ],
    "period_end": ["2020-01-01", "", (TODAY + dt.timedelta(days=500)).isoformat()],
    "due_date": ["2099-01-01", "1990-01-01", "", (TODAY - dt.timedelta(days=300)).isoformat()],
    "account_scheme": ["se_bankgiro", "se_clearing", "x", ""],
    "account": [
        "SE45 5000 0000 0583 9825 7466",
        "SE0150000000058398257466",
        "50501055",
        "5491-0000003",
        "",
        "se4550000000058398257466",
    ],
    "remittance_info": ["", "r" * 141, " lead", "ok text"],
}


@st.composite
def records(draw: st.DrawFn) -> dict[str, object]:
    record = as_text(payment_body())
    for name in draw(st.lists(st.sampled_from(list(ALTERNATIVES)), max_size=3, unique=True)):
        record[name] = draw(st.sampled_from(ALTERNATIVES[name]))
    return record


class TestValidator:
    def test_valid_record_is_normalised(self) -> None:
        valid = validator().validate(
            as_text(payment_body(payee_id="811228-9874", account="SE45 5000 0000 0583 9825 7466"))
        )
        assert (valid.payee_identifier, valid.account_number) == ("198112289874", "SE4550000000058398257466")

    def test_unknown_field_is_named(self) -> None:
        with pytest.raises(RecordRejectedError) as caught:
            validator().validate({**as_text(payment_body()), "colour": "blue"})
        assert [(e.field, e.reason) for e in caught.value.errors] == [("colour", "unknown field")]

    def test_missing_fields_are_each_required(self) -> None:
        with pytest.raises(RecordRejectedError) as caught:
            validator().validate({})
        required = {e.field for e in caught.value.errors if e.reason == "required"}
        assert required == set(FIELDS) - {"remittance_info"}

    @settings(max_examples=1500, deadline=None)
    @given(record=records())
    def test_plain_path_never_disagrees_with_the_full_checklist(self, record: dict[str, object]) -> None:
        plain = validator()._accept_plain(record)
        if plain is not None:
            assert verdict(record) == plain


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(records(), min_size=1, max_size=60))
def test_columnar_path_never_accepts_what_the_validator_refuses(tmp_path: Path, batch: list[dict[str, object]]) -> None:
    path = tmp_path / "batch.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(FIELDS))
        writer.writeheader()
        writer.writerows(batch)
    checker = ColumnChecker(validator())
    seen = 0
    for first_line, block in read_blocks(path, list(FIELDS), ","):
        checked = checker.check(first_line, block)
        seen += checked.rows
        for row in checked.accepted.to_pylist():
            expected = verdict(batch[row["line"] - 2])
            assert isinstance(expected, ValidPayment), (row, expected)
            assert row["payee_identifier"] == expected.payee_identifier
            assert (row["amount_minor"], row["benefit_id"], row["due_date"]) == (
                expected.amount_minor,
                expected.benefit_id,
                expected.due_date,
            )
            assert row["remittance_info"] == expected.remittance_info
        assert {line for line, _ in checked.others}.isdisjoint(checked.accepted.column("line").to_pylist())
    assert seen == len(batch)


def test_columnar_path_takes_plain_rows_itself(tmp_path: Path) -> None:
    rows = [as_text(payment_body()) for _ in range(50)]
    path = tmp_path / "plain.csv"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(FIELDS))
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    checked = next(
        ColumnChecker(validator()).check(line, block) for line, block in read_blocks(path, list(FIELDS), ",")
    )
    assert (checked.accepted.num_rows, checked.others) == (50, [])
    assert checked.accepted.schema.field("period_start").type == pa.date32()
