"""Register and decision files: checked whole, every fault named, nothing stored on any fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saldo.decisions.models import Decision
from saldo.decisions.service import ingest_decisions
from saldo.kit.tabular import FileRejectedError
from saldo.registers.models import IncomeRecord, PopulationRecord, RegisterKind, RepresentationRecord
from saldo.registers.service import load_register
from tests.factories import OTHER_PNR, VALID_PNR, VALID_SAMORDNING, make_payer

POPULATION_HEADER = (
    "person_scheme,person_id,sex,birth_date,death_date,emigration_date,immigration_date,household_id,"
    "street_address,postal_code,municipality_code,residence_permit_until,previous_id"
)
DECISION_HEADER = (
    "decision_reference,payee_scheme,payee_id,benefit,period_start,period_end,amount_minor,currency,"
    "household_size,declared_income_minor"
)


def write(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def people(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(PopulationRecord)) or 0)


class TestPopulationRegister:
    def test_an_extract_is_loaded_and_a_second_one_replaces_it(self, session: Session, tmp_path: Path) -> None:
        first = write(
            tmp_path / "a.csv",
            POPULATION_HEADER,
            f"se_personnummer,{VALID_PNR},M,1981-12-28,,,,7,Storgatan 1,11122,0180,,",
            f"se_personnummer,{OTHER_PNR},F,1949-07-13,2026-02-01,,,8,,,1480,,{VALID_SAMORDNING}",
        )
        loaded = load_register(session, RegisterKind.POPULATION, first, loaded_by="staff:test")
        assert (loaded.rows, loaded.already_loaded, people(session)) == (2, False, 2)
        again = load_register(session, RegisterKind.POPULATION, first, loaded_by="staff:test")
        assert again.already_loaded
        assert again.load_id == loaded.load_id
        second = write(tmp_path / "b.csv", POPULATION_HEADER, f"se_personnummer,{VALID_PNR},M,1981-12-28,,,,7,,,0180,,")
        load_register(session, RegisterKind.POPULATION, second, loaded_by="staff:test")
        assert people(session) == 1

    def test_every_fault_is_named_by_line_and_field_and_nothing_is_stored(
        self, session: Session, tmp_path: Path
    ) -> None:
        path = write(
            tmp_path / "bad.csv",
            POPULATION_HEADER,
            f"se_personnummer,{VALID_PNR},M,1981-12-28,,,,7,,,0180,,",
            "se_personnummer,198112289875,M,1981-12-28,,,,7,,,0180,,",
            f"se_personnummer,{OTHER_PNR},X,1949-13-13,,,,8,,,1480,,",
            f"se_samordningsnummer,{VALID_PNR},F,1949-07-13,,,,,,,,,",
        )
        with pytest.raises(FileRejectedError) as caught:
            load_register(session, RegisterKind.POPULATION, path, loaded_by="staff:test")
        faults = {(e.line, e.field) for e in caught.value.errors}
        assert {(3, "person_id"), (4, "sex"), (4, "birth_date"), (5, "person_id"), (5, "municipality_code")} <= faults
        assert all(e.reason for e in caught.value.errors)
        assert people(session) == 0

    @pytest.mark.parametrize("column", ["citizenship", "country_of_birth", "religion", "diagnosis"])
    def test_an_excluded_category_is_refused_before_anything_is_read(
        self, session: Session, tmp_path: Path, column: str
    ) -> None:
        path = write(
            tmp_path / "c.csv",
            f"{POPULATION_HEADER},{column}",
            f"se_personnummer,{VALID_PNR},M,1981-12-28,,,,7,,,0180,,,X",
        )
        with pytest.raises(FileRejectedError) as caught:
            load_register(session, RegisterKind.POPULATION, path, loaded_by="staff:test")
        assert caught.value.errors[0].field == column
        assert caught.value.errors[0].reason.startswith("refused:")
        assert people(session) == 0

    def test_a_person_twice_or_dying_before_birth_is_a_fault(self, session: Session, tmp_path: Path) -> None:
        path = write(
            tmp_path / "d.csv",
            POPULATION_HEADER,
            f"se_personnummer,{VALID_PNR},M,1981-12-28,,,,7,,,0180,,",
            f"se_personnummer,{VALID_PNR},M,1981-12-28,1970-01-01,,,7,,,0180,,",
        )
        with pytest.raises(FileRejectedError) as caught:
            load_register(session, RegisterKind.POPULATION, path, loaded_by="staff:test")
        faults = {(e.line, e.field, e.reason) for e in caught.value.errors}
        assert (3, "death_date", "before the birth date") in faults
        assert (2, "person_id", "appears more than once in the file") in faults


class TestIncomeRegister:
    def test_months_are_added_and_a_corrected_month_replaces_the_amount(self, session: Session, tmp_path: Path) -> None:
        header = "person_scheme,person_id,employer_id,month,amount_minor"
        load_register(
            session,
            RegisterKind.INCOME,
            write(tmp_path / "m1.csv", header, f"se_personnummer,{VALID_PNR},5560000001,2026-01,3200000"),
            loaded_by="staff:test",
        )
        load_register(
            session,
            RegisterKind.INCOME,
            write(tmp_path / "m2.csv", header, f"se_personnummer,{VALID_PNR},5560000001,2026-01,3300000"),
            loaded_by="staff:test",
        )
        amounts = session.scalars(select(IncomeRecord.amount_minor)).all()
        assert amounts == [3_300_000]

    def test_a_month_that_is_not_a_month_is_a_fault(self, session: Session, tmp_path: Path) -> None:
        header = "person_scheme,person_id,employer_id,month,amount_minor"
        path = write(tmp_path / "bad.csv", header, f"se_personnummer,{VALID_PNR},5560000001,2026-13,-5")
        with pytest.raises(FileRejectedError) as caught:
            load_register(session, RegisterKind.INCOME, path, loaded_by="staff:test")
        assert {(e.line, e.field) for e in caught.value.errors} == {(2, "month"), (2, "amount_minor")}


class TestDecisions:
    def test_new_unchanged_and_amended_decisions(self, session: Session, tmp_path: Path) -> None:
        payer = make_payer(session, benefits=("EKB", "BB"))
        row = f"EKB-1,se_personnummer,{VALID_PNR},EKB,2026-03-01,2026-03-31,800000,SEK,2,"
        first = ingest_decisions(
            session, organisation_number=payer.organisation_number, path=write(tmp_path / "a.csv", DECISION_HEADER, row)
        )
        assert (first.new, first.amended, first.unchanged) == (1, 0, 0)
        same = ingest_decisions(
            session, organisation_number=payer.organisation_number, path=write(tmp_path / "b.csv", DECISION_HEADER, row)
        )
        assert (same.new, same.amended, same.unchanged) == (0, 0, 1)
        amended = ingest_decisions(
            session,
            organisation_number=payer.organisation_number,
            path=write(tmp_path / "c.csv", DECISION_HEADER, row.replace("800000", "850000")),
        )
        assert (amended.new, amended.amended) == (0, 1)
        stored = session.scalars(select(Decision).where(Decision.payer_id == payer.id)).one()
        assert (stored.amount_minor, stored.version) == (850_000, 2)

    def test_a_benefit_the_payer_does_not_pay_and_a_reversed_period_are_faults(
        self, session: Session, tmp_path: Path
    ) -> None:
        payer = make_payer(session, benefits=("EKB",))
        path = write(
            tmp_path / "bad.csv",
            DECISION_HEADER,
            f"IP-1,se_personnummer,{VALID_PNR},IP,2026-03-01,2026-03-31,800000,SEK,,",
            f"EKB-2,se_personnummer,{VALID_PNR},EKB,2026-03-31,2026-03-01,800000,SEK,,",
            f"EKB-2,se_personnummer,{VALID_PNR},EKB,2026-03-01,2026-03-31,800000,SEK,,",
        )
        with pytest.raises(FileRejectedError) as caught:
            ingest_decisions(session, organisation_number=payer.organisation_number, path=path)
        faults = {(e.line, e.field) for e in caught.value.errors}
        assert {(2, "benefit"), (3, "period_end"), (3, "decision_reference"), (4, "decision_reference")} <= faults
        assert session.scalar(select(func.count()).select_from(Decision).where(Decision.payer_id == payer.id)) == 0


REPRESENTATION_HEADER = (
    "representative_scheme,representative_id,represented_scheme,represented_id,basis,valid_from,valid_until"
)


class TestRepresentationRegister:
    def test_an_extract_of_who_acts_for_whom_is_loaded_and_replaced_by_the_next(
        self, session: Session, tmp_path: Path
    ) -> None:
        first = write(
            tmp_path / "a.csv",
            REPRESENTATION_HEADER,
            f"se_personnummer,{VALID_PNR},se_personnummer,{OTHER_PNR},god_man,2024-03-01,",
            f"se_personnummer,{VALID_PNR},se_samordningsnummer,{VALID_SAMORDNING},forvaltare,2025-01-01,2026-06-30",
        )
        loaded = load_register(session, RegisterKind.REPRESENTATION, first, loaded_by="staff:test")
        assert (loaded.rows, loaded.already_loaded) == (2, False)
        assert session.scalar(select(func.count()).select_from(RepresentationRecord)) == 2
        second = write(
            tmp_path / "b.csv",
            REPRESENTATION_HEADER,
            f"se_personnummer,{VALID_PNR},se_personnummer,{OTHER_PNR},god_man,2024-03-01,",
        )
        load_register(session, RegisterKind.REPRESENTATION, second, loaded_by="staff:test")
        assert session.scalar(select(func.count()).select_from(RepresentationRecord)) == 1  # a full extract

    def test_a_bad_extract_is_refused_whole_with_every_fault(self, session: Session, tmp_path: Path) -> None:
        bad = write(
            tmp_path / "bad.csv",
            REPRESENTATION_HEADER,
            f"se_personnummer,{VALID_PNR},se_personnummer,{VALID_PNR},god_man,2024-03-01,",
            f"se_personnummer,{VALID_PNR},se_personnummer,{OTHER_PNR},uncle,2024-03-01,",
            f"se_personnummer,{VALID_PNR},se_personnummer,{OTHER_PNR},god_man,2024-03-01,2023-12-31",
            f"se_organisationsnummer,5562659549,se_personnummer,{OTHER_PNR},god_man,2024-03-01,",
        )
        with pytest.raises(FileRejectedError) as refused:
            load_register(session, RegisterKind.REPRESENTATION, bad, loaded_by="staff:test")
        faults = {(e.line, e.field) for e in refused.value.errors}
        assert {(2, "represented_id"), (3, "basis"), (4, "valid_until"), (5, "representative_scheme")} <= faults
        assert session.scalar(select(func.count()).select_from(RepresentationRecord)) == 0
