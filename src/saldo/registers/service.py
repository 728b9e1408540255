"""Reading the population and income registers into Saldo (docs/formats/analysis-inputs.md).

A file is checked whole before anything is written; a file read before (same SHA-256) changes
nothing. The population file is a full extract and replaces the previous one; the income file adds
or corrects months."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from saldo.kit.data_categories import EXCLUDED_CATEGORIES
from saldo.kit.digest import sha256_of_file
from saldo.kit.tabular import CheckedTable, Column, FileRejectedError, Kind, check_unique, fail_rows, read_checked_csv
from saldo.registers.models import RegisterKind, RegisterLoad
from saldo.registers.repository import RegisterRepository

PERSON_SCHEMES = frozenset({"se_personnummer", "se_samordningsnummer"})
POPULATION_COLUMNS = (
    Column("person_scheme", Kind.SCHEME),
    Column("person_id", Kind.IDENTIFIER, scheme_column="person_scheme"),
    Column("sex", Kind.CODE, choices=frozenset({"F", "M"})),
    Column("birth_date", Kind.DATE),
    Column("death_date", Kind.DATE, required=False),
    Column("emigration_date", Kind.DATE, required=False),
    Column("immigration_date", Kind.DATE, required=False),
    Column("household_id", Kind.INTEGER, required=False, minimum=0),
    Column("street_address", Kind.TEXT, required=False),
    Column("postal_code", Kind.TEXT, required=False, max_length=10),
    Column("municipality_code", Kind.TEXT, max_length=4),
    Column("residence_permit_until", Kind.DATE, required=False),
    Column("previous_id", Kind.TEXT, required=False, max_length=20),
)
INCOME_COLUMNS = (
    Column("person_scheme", Kind.SCHEME),
    Column("person_id", Kind.IDENTIFIER, scheme_column="person_scheme"),
    Column("employer_id", Kind.TEXT, max_length=20),
    Column("month", Kind.MONTH),
    Column("amount_minor", Kind.INTEGER, minimum=0),
)


@dataclass(frozen=True)
class RegisterLoaded:
    load_id: int
    kind: RegisterKind
    rows: int
    already_loaded: bool


def load_register(session: Session, kind: RegisterKind, path: Path, *, loaded_by: str) -> RegisterLoaded:
    """Check and store one register file; raises FileRejectedError and stores nothing on any fault."""
    repository = RegisterRepository(session)
    digest = sha256_of_file(path)
    existing = repository.load_by_digest(kind, digest)
    if existing is not None:
        return RegisterLoaded(existing.id, kind, existing.rows, already_loaded=True)
    columns = POPULATION_COLUMNS if kind is RegisterKind.POPULATION else INCOME_COLUMNS
    checked = read_checked_csv(path, columns, refused=EXCLUDED_CATEGORIES)
    if checked.table.num_columns:  # the header was right: check across fields too
        _check_rows(kind, checked)
    if not checked.ok:
        raise FileRejectedError(path.name, checked.errors, checked.error_count)
    load = repository.add_load(
        RegisterLoad(kind=kind, filename=path.name, content_sha256=digest, rows=checked.rows, loaded_by=loaded_by)
    )
    if kind is RegisterKind.POPULATION:
        repository.stage("population_register", checked.table)
        repository.replace_population(load.id)
    else:
        repository.stage("income_register", checked.table)
        repository.upsert_income(load.id)
    return RegisterLoaded(load.id, kind, checked.rows, already_loaded=False)


def _check_rows(kind: RegisterKind, checked: CheckedTable) -> None:
    """Faults across columns: persons only, one row per key, dates in order."""
    table = checked.table
    schemes = table["person_scheme"]
    not_person = pc.invert(pc.is_in(schemes, value_set=pa.array(sorted(PERSON_SCHEMES))))
    fail_rows(checked, not_person, "person_scheme", "a register names persons: se_personnummer or se_samordningsnummer")
    keys = (
        ["person_scheme", "person_id"]
        if kind is RegisterKind.POPULATION
        else ["person_scheme", "person_id", "employer_id", "month"]
    )
    check_unique(checked, keys)
    if kind is RegisterKind.POPULATION:
        birth = table["birth_date"]
        for name in ("death_date", "emigration_date", "immigration_date"):
            early = pc.fill_null(pc.less(table[name], birth), False)
            fail_rows(checked, early, name, "before the birth date")
