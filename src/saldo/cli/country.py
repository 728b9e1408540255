"""Loading a generated country folder (docs/formats/synthetic-country.md) the way payers, banks and
registers deliver it: used by the demo, the benchmarks and the tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from saldo.cli.accounts import connect_country_banks
from saldo.cli.ingest import ingest_file
from saldo.cli.payers import import_payers_file
from saldo.db.engine import unit_of_work
from saldo.decisions.service import ingest_decisions
from saldo.payers.service import list_payers
from saldo.registers.models import RegisterKind
from saldo.registers.service import load_register
from saldo.settings import Settings


def load_analysis_inputs(session: Session, folder: Path, *, loaded_by: str) -> None:
    """The country's registers and every connected payer's decisions."""
    for kind in RegisterKind:
        path = folder / "registers" / f"{kind.value}.csv"
        if kind is RegisterKind.REPRESENTATION and not path.exists():
            continue  # a country without trustees or guardians on record
        load_register(session, kind, path, loaded_by=loaded_by)
    for payer in list_payers(session):
        decisions = folder / "decisions" / f"{payer.organisation_number}.csv"
        if decisions.exists():
            ingest_decisions(session, organisation_number=payer.organisation_number, path=decisions)


def load_country(sessions: sessionmaker[Session], settings: Settings, folder: Path, *, loaded_by: str) -> None:
    """Payers, each payer's payment file in a transaction of its own, then the analysis inputs."""
    with unit_of_work(sessions) as session:
        if (folder / "banks.csv").exists():
            connect_country_banks(session, folder)  # the payers' banks, before the payers that name them
        import_payers_file(session, folder / "payers.csv")
        payers = list_payers(session)
    for payer in payers:
        payments = folder / "payments" / f"{payer.organisation_number}.csv"
        if payments.exists():
            with unit_of_work(sessions) as session:
                ingest_file(
                    session, settings, organisation_number=payer.organisation_number, path=payments, show_progress=False
                )
    with unit_of_work(sessions) as session:
        load_analysis_inputs(session, folder, loaded_by=loaded_by)
