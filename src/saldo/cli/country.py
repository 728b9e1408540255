"""Loading a generated country folder (docs/formats/synthetic-country.md) the way payers, banks and
registers deliver it: used by the demo, the benchmarks and the tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from saldo.settings import Settings

SYNTHETIC_NODE = "SE:FKA01"  # who the synthetic country's SEDs are addressed to when this node has no EESSI id


def load_analysis_inputs(session: Session, folder: Path, *, loaded_by: str) -> None:
    """The country's registers and every connected payer's decisions."""
    from saldo.decisions.service import ingest_decisions
    from saldo.payers.service import list_payers
    from saldo.registers.models import RegisterKind
    from saldo.registers.service import load_register

    for kind in RegisterKind:
        path = folder / "registers" / f"{kind.value}.csv"
        if kind is RegisterKind.REPRESENTATION and not path.exists():
            continue  # a country without trustees or guardians on record
        load_register(session, kind, path, loaded_by=loaded_by)
    for payer in list_payers(session):
        decisions = folder / "decisions" / f"{payer.organisation_number}.csv"
        if decisions.exists():
            ingest_decisions(session, organisation_number=payer.organisation_number, path=decisions)


def load_country(
    sessions: sessionmaker[Session], settings: Settings, folder: Path, *, loaded_by: str, payments: bool = True
) -> None:
    """Payers, each payer's payment file in a transaction of its own (unless ``payments`` is False: the
    caller brings them in, as a year's months do), then the analysis inputs."""
    from saldo.cli.accounts import connect_country_banks
    from saldo.cli.ingest import ingest_file
    from saldo.cli.payers import import_payers_file
    from saldo.db.engine import unit_of_work
    from saldo.payers.service import list_payers

    with unit_of_work(sessions) as session:
        if (folder / "banks.csv").exists():
            connect_country_banks(session, folder)  # the payers' banks, before the payers that name them
        import_payers_file(session, folder / "payers.csv")
        payers = list_payers(session)
    for payer in payers if payments else []:
        path = folder / "payments" / f"{payer.organisation_number}.csv"
        if path.exists():
            with unit_of_work(sessions) as session:
                ingest_file(
                    session, settings, organisation_number=payer.organisation_number, path=path, show_progress=False
                )
    with unit_of_work(sessions) as session:
        load_analysis_inputs(session, folder, loaded_by=loaded_by)
    with unit_of_work(sessions) as session:
        take_in_from_abroad(session, settings, folder)


def take_in_from_abroad(session: Session, settings: Settings, folder: Path) -> dict[str, int]:
    """What the synthetic partner abroad tells (``cross_border.csv``), taken in as the SEDs it sends:
    each signed by the partner and checked and applied as a received SED is. The node is this
    installation's when it takes part in the exchange; otherwise a node of the load's own."""
    from saldo.eessi.service import Node, node_from_settings, take_in_many
    from saldo.eessi.service.keys import issue_authority, issue_node
    from saldo.synthetic.abroad import foreign_seds
    from saldo.synthetic.anomalies import FOREIGN_INSTITUTION

    authority = issue_authority("Synthetic country CA")
    partner = issue_node(authority, FOREIGN_INSTITUTION)
    if settings.eessi_institution and settings.eessi_key and settings.eessi_certificate and settings.eessi_directory:
        node = node_from_settings(settings)
    else:
        node = Node(SYNTHETIC_NODE, issue_node(authority, SYNTHETIC_NODE), settings.data_dir / "no-directory.json")
    signed = foreign_seds(folder, receiver=node.institution, partner=partner)
    return take_in_many(session, node, signed, [partner.certificate])
