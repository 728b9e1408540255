"""The synthetic country's partner abroad: Kela (FI:KELA01) telling this node, in the SEDs it would
send, of the deaths, benefits and residences in Finland listed in ``cross_border.csv``: an H070
(H_BUC_07), an H001 notifying a benefit paid (H_BUC_01), an H003 determining residence (H_BUC_02c),
each signed by the partner's own key."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

from saldo.eessi.service import seds, signatures
from saldo.eessi.service.keys import NodeKeys

COUNTRY = "FI"
BUC = {"death": ("H_BUC_07", "H070"), "benefit_abroad": ("H_BUC_01", "H001"), "residence_abroad": ("H_BUC_02c", "H003")}


def _content(row: dict[str, str]) -> seds.Content:
    start = dt.date.fromisoformat(row["start_date"])
    if row["kind"] == "death":
        return seds.H070(date_death=start, country_death=COUNTRY)
    if row["kind"] == "residence_abroad":
        return seds.H003(country_residence=COUNTRY, since=start)
    end = dt.date.fromisoformat(row["end_date"]) if row["end_date"] else None
    period = seds.Period(start_date=start, end_date=end)
    return seds.H001(benefit_type=row["benefit_type"], period=period, paid=True)


def foreign_seds(folder: Path, *, receiver: str, partner: NodeKeys) -> Iterator[tuple[str, bytes]]:
    """(message id, signed SED) for each row of ``cross_border.csv``, addressed to ``receiver``."""
    path = folder / "cross_border.csv"
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows):
            buc_type, sed_type = BUC[row["kind"]]
            person = seds.PersonIdentification(
                family_name=row["family_name"],
                forename=row["forename"],
                date_birth=dt.date.fromisoformat(row["birth_date"]),
                pins=(seds.Pin(personal_identification_number=row["person_id"], country="SE"),),
            )
            document_id = uuid.uuid4().hex
            sed = seds.Sed(
                sed=sed_type,
                sed_g_ver="4",
                sed_ver="2",
                document_id=document_id,
                case_id=f"{row['institution']}-{document_id[:16]}",
                buc_type=buc_type,
                sender=row["institution"],
                receiver=receiver,
                person=person,
                content=_content(row),
            )
            yield (
                f"{document_id}@synthetic.{row['institution'].replace(':', '.').lower()}",
                signatures.sign(seds.to_element(sed), partner),
            )
