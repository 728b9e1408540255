"""Decisions from payers: the circumstances behind their payments (docs/formats/analysis-inputs.md).

A file is checked whole before anything is written: every fault is named by line, field and
reason, and one fault rejects the file. A decision re-sent unchanged changes nothing; one sent with
the same reference and other content is an amendment and raises its version."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from saldo.benefits.repository import BenefitRepository
from saldo.decisions.repository import STAGED, DecisionRepository
from saldo.decisions.schemas import DecisionsStored
from saldo.kit.data_categories import EXCLUDED_CATEGORIES
from saldo.kit.tabular import Column, FileRejectedError, Kind, check_unique, fail_rows, read_checked_csv
from saldo.payers.repository import PayerRepository
from saldo.payers.service import find_payer

DECISION_COLUMNS = (
    Column("decision_reference", Kind.TEXT, max_length=64),
    Column("payee_scheme", Kind.SCHEME),
    Column("payee_id", Kind.IDENTIFIER, scheme_column="payee_scheme"),
    Column("benefit", Kind.TEXT, max_length=32),
    Column("period_start", Kind.DATE),
    Column("period_end", Kind.DATE),
    Column("amount_minor", Kind.INTEGER, minimum=0),
    Column("currency", Kind.CODE, choices=frozenset({"SEK", "EUR", "DKK", "NOK", "ISK"})),
    Column("household_size", Kind.INTEGER, required=False, minimum=1),
    Column("declared_income_minor", Kind.INTEGER, required=False, minimum=0),
)


def ingest_decisions(session: Session, *, organisation_number: str, path: Path) -> DecisionsStored:
    """Check and store a payer's decision file; raises FileRejectedError and stores nothing on any fault."""
    payer = find_payer(session, organisation_number)
    return store_decisions(session, payer_id=payer.id, payer_name=payer.name, path=path)


def store_decisions(session: Session, *, payer_id: int, payer_name: str, path: Path) -> DecisionsStored:
    """As ingest_decisions, for a payer known by id (the payer API)."""
    checked = read_checked_csv(path, DECISION_COLUMNS, refused=EXCLUDED_CATEGORIES)
    if not checked.table.num_columns:  # the header itself is wrong: no row could be read
        raise FileRejectedError(path.name, checked.errors, checked.error_count)
    table = checked.table
    allowed = PayerRepository(session).benefit_codes(payer_id)
    benefit_ids = {b.code: b.id for b in BenefitRepository(session).by_codes(allowed)}
    known = pc.is_in(table["benefit"], value_set=pa.array(sorted(benefit_ids), pa.string()))
    not_allowed = pc.and_(pc.is_valid(table["benefit"]), pc.invert(known))
    fail_rows(checked, not_allowed, "benefit", f"not a benefit {payer_name} pays ({', '.join(sorted(allowed))})")
    fail_rows(checked, pc.less(table["period_end"], table["period_start"]), "period_end", "before period_start")
    check_unique(checked, ["decision_reference"])
    if not checked.ok:
        raise FileRejectedError(path.name, checked.errors, checked.error_count)
    ids = pa.array([benefit_ids[c] for c in table["benefit"].to_pylist()], pa.int64())
    rows = table.drop_columns(["benefit"]).append_column("benefit_id", ids)
    rows = rows.rename_columns([("reference" if n == "decision_reference" else n) for n in rows.column_names])
    rows = rows.select([c.strip() for c in STAGED.split(",")])
    new, amended = DecisionRepository(session).upsert(payer_id, rows)
    return DecisionsStored(records=checked.rows, new=new, amended=amended, unchanged=checked.rows - new - amended)
