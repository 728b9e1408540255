"""A case linked to the wrong person is unlinked by staff: the facts its SEDs gave are withdrawn (kept,
marked, read by neither the analysis nor the procedures), the case waits for staff again, a later
SED in it does not link it back to the same person by name, and the right person's facts are
learned once staff say who it is."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from saldo.analysis.repository import EXPORTS
from saldo.db.engine import unit_of_work
from saldo.eessi import service
from saldo.eessi.errors import InvalidSedError, SedNotAllowedError
from saldo.eessi.models import FactKind, PersonMatch
from saldo.eessi.service import Node
from tests.eessi.test_exchange import hold_accounts, named_only, notify_death, open_h_buc_01, to
from tests.factories import pnr

WRONG = "The bank's Aino Virtanen is alive: she called the customer service on 3 December"


def facts_in_snapshot(session: Session) -> list[tuple[str, str]]:
    sql = EXPORTS["cross_border_facts"][0]
    return [(str(r.person_id), str(r.kind)) for r in session.execute(text(sql))]


def test_a_wrong_link_is_undone_its_facts_withdrawn_and_the_right_person_confirmed(
    client: TestClient, bank_token: str, session: Session, sessions: sessionmaker[Session], se_node: Node,
    fi_node: Node, fi_sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    aino, right = pnr(1, born="19520304"), pnr(2, born="19520304")
    hold_accounts(client, bank_token, (aino, "VIRTANEN AINO"))
    case = service.get_case(
        session, notify_death(named_only("Virtanen", "Aino"), se_node, fi_node, fi_sessions, sessions)
    )
    assert (case.person_match, case.person_id) == (PersonMatch.NAME_AND_BIRTH_DATE, aino)
    assert facts_in_snapshot(session) == [(aino, "death")]

    assert service.undo_link(session, se_node, case, reason=f"  {WRONG}\n", by="anna") == 1
    assert (case.person_match, case.person_id, case.person_scheme) == (PersonMatch.UNMATCHED, None, None)
    assert [c["person_id"] for c in case.match_candidates or []] == [aino]  # found again, for staff to judge
    [undone] = case.undone_links or []
    assert {k: undone[k] for k in ("by", "reason", "person_id", "match", "facts_withdrawn")} == {
        "by": "anna",
        "reason": WRONG,
        "person_id": aino,
        "match": "name_and_birth_date",
        "facts_withdrawn": 1,
    }
    assert service.facts_about(session, "se_personnummer", aino) == []  # the procedures read none
    assert facts_in_snapshot(session) == []  # nor does the analysis
    [kept] = service.facts_from(session, [d.id for d in service.documents(session, case)])
    assert (kept.person_id, kept.withdrawn_by, kept.withdrawn_reason) == (aino, "anna", WRONG)
    assert kept.withdrawn_at is not None

    # Kela corrects the notification in the same case: it still names only name and birth date, and
    # the case is not linked back to the person staff unlinked.
    with unit_of_work(fi_sessions) as fi:
        fi_case = service.get_case(fi, case.case_id)
        service.send_sed(fi, fi_node, fi_case, "H070", {"dateDeath": "2026-10-03", "countryDeath": "FI"}, by="kela")
    with fi_sessions() as fi:
        while service.deliver_one(fi, fi_node, to(se_node, sessions)) is not None:
            fi.commit()
    session.expire_all()
    assert (case.person_match, case.person_id) == (PersonMatch.UNMATCHED, None)
    assert service.facts_about(session, "se_personnummer", aino) == []

    # Staff find who it is: both notifications are learned about the right person.
    assert service.confirm_person(session, se_node, case, "se_personnummer", right, by="anna") == 2
    assert [f.kind for f in service.facts_about(session, "se_personnummer", right)] == [FactKind.DEATH] * 2
    assert sorted(facts_in_snapshot(session)) == [(right, "death"), (right, "death")]

    # Confirmed by staff, the link can be undone too; each undoing is kept.
    assert service.undo_link(session, se_node, case, reason="mistyped number", by="bo") == 2
    assert [(u["person_id"], u["match"], u["by"]) for u in case.undone_links or []] == [
        (aino, "name_and_birth_date", "anna"),
        (right, "confirmed", "bo"),
    ]
    assert facts_in_snapshot(session) == []


def test_a_link_by_this_countrys_number_stands_and_a_reason_is_required(
    client: TestClient, bank_token: str, session: Session, sessions: sessionmaker[Session], se_node: Node,
    fi_node: Node, fi_sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    asked = open_h_buc_01(session, se_node)  # opened here for a person known by their personnummer
    with pytest.raises(SedNotAllowedError, match="is identifier: only a link by birth date and name"):
        service.undo_link(session, se_node, asked, reason=WRONG, by="anna")
    aino = pnr(1, born="19520304")
    hold_accounts(client, bank_token, (aino, "VIRTANEN AINO"))
    case = service.get_case(
        session, notify_death(named_only("Virtanen", "Aino"), se_node, fi_node, fi_sessions, sessions)
    )
    with pytest.raises(InvalidSedError, match="say why the link is wrong"):
        service.undo_link(session, se_node, case, reason=" \n ", by="anna")
    assert (case.person_match, case.person_id) == (PersonMatch.NAME_AND_BIRTH_DATE, aino)
    service.undo_link(session, se_node, case, reason=WRONG, by="anna")
    with pytest.raises(SedNotAllowedError, match="is unmatched"):
        service.undo_link(session, se_node, case, reason=WRONG, by="anna")
