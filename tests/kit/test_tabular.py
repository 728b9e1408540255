"""Checked CSV reading: faults by line, field and reason; a bounded report with the true total."""

from __future__ import annotations

from pathlib import Path

from saldo.kit.tabular import MAX_REPORTED_ERRORS, Column, Kind, read_checked_csv

COLUMNS = (
    Column("when", Kind.DATE),
    Column("month", Kind.MONTH, required=False),
    Column("amount", Kind.INTEGER, minimum=0),
    Column("code", Kind.CODE, choices=frozenset({"A", "B"})),
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_good_rows_come_back_typed(tmp_path: Path) -> None:
    checked = read_checked_csv(write(tmp_path / "f.csv", "when,month,amount,code\n2026-01-31,2026-02,5,A\n"), COLUMNS)
    assert checked.ok
    assert checked.table.to_pylist()[0]["amount"] == 5
    assert str(checked.table.to_pylist()[0]["month"]) == "2026-02-01"


def test_each_fault_names_line_field_and_reason(tmp_path: Path) -> None:
    text = "when,month,amount,code\n2026-02-30,2026-13,1.5,C\n,,,\n"
    checked = read_checked_csv(write(tmp_path / "f.csv", text), COLUMNS)
    assert {(e.line, e.field) for e in checked.errors} == {
        (2, "when"),
        (2, "month"),
        (2, "amount"),
        (2, "code"),
        (3, "when"),
        (3, "amount"),
        (3, "code"),
    }
    assert all(e.reason for e in checked.errors)


def test_the_report_is_bounded_but_the_total_is_true(tmp_path: Path) -> None:
    rows = "".join("2026-01-01,,-1,A\n" for _ in range(MAX_REPORTED_ERRORS + 500))
    checked = read_checked_csv(write(tmp_path / "f.csv", "when,month,amount,code\n" + rows), COLUMNS)
    assert len(checked.errors) == MAX_REPORTED_ERRORS
    assert checked.error_count == MAX_REPORTED_ERRORS + 500


def test_header_faults_stop_before_any_row_is_read(tmp_path: Path) -> None:
    checked = read_checked_csv(
        write(tmp_path / "f.csv", "when,amount,religion,extra\n2026-01-01,1,x,y\n"),
        COLUMNS,
        refused={"religion": "never an analysis input"},
    )
    faults = {(e.field, e.reason.split(":")[0]) for e in checked.errors}
    assert ("religion", "refused") in faults
    assert ("extra", "unknown column; the format has amount, code, month, when") in faults
    assert ("code", "missing column") in faults
    assert checked.table.num_columns == 0


def test_a_file_that_is_not_utf8_is_a_fault_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes("when,month,amount,code\n2026-01-01,,1,\xff\n".encode("latin-1"))
    checked = read_checked_csv(path, COLUMNS)
    assert not checked.ok
