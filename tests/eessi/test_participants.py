"""A case with more than one institution abroad: the owner (SE) adds a participant with an X005 and
removes one with an X006. Three nodes, each with its own database, exchange the real AS4 messages:
the owner's SEDs go to the participant named, or to those they concern; each participant deals
with the owner alone; one removed closes the case on its side, is awaited for nothing more, and
whatever it still sends is refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from saldo.eessi import service
from saldo.eessi.errors import SedNotAllowedError
from saldo.eessi.models import CaseStatus, CrossBorderDocument, Direction, DocumentStatus
from saldo.eessi.service import Node, seds
from saldo.kit.clock import utcnow
from tests.conftest import create_database
from tests.eessi.conftest import DE, FI, SE, Pki
from tests.eessi.test_exchange import H001, deliver_all, from_de, open_h_buc_01, queue_unchecked, to
from tests.payments.test_event_notes import migrate

BEFORE_PARTICIPANTS = "e2a7c5d9f314"

ANSWER = {
    "receivesBenefit": True,
    "benefitType": "old_age",
    "period": {"startDate": "2026-01-01"},
    "amount": "312.00",
    "currency": "EUR",
    "frequency": "monthly",
}


def to_each(nodes: dict[str, tuple[Node, Any]]) -> Any:
    """A post that hands each message to the node it is addressed to (by the directory's endpoint),
    as ``to`` hands it to one; the receivers are kept in order."""
    posts = {node.directory().get(name).endpoint: (node, to(node, made)) for name, (node, made) in nodes.items()}

    def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        node, handed = posts[url]
        post.reached.append(node.institution)  # type: ignore[attr-defined]
        return handed(url, headers, body)

    post.reached = []  # type: ignore[attr-defined]
    return post


def deliver(session: Session, node: Node, post: Any) -> list[str]:
    """Every due SED of ``node`` delivered; the outcomes."""
    return [d.outcome for d in deliver_all(session, node, post)]


def sent(documents: list[CrossBorderDocument]) -> list[tuple[str, str]]:
    return [(d.sed_type, d.receiver) for d in documents]


def test_the_owner_adds_a_participant_asks_it_too_and_removes_it(
    session: Session,
    sessions: sessionmaker[Session],
    se_node: Node,
    fi_node: Node,
    de_node: Node,
    fi_sessions: sessionmaker[Session],
    de_sessions: sessionmaker[Session],
) -> None:
    post = to_each({FI: (fi_node, fi_sessions), DE: (de_node, de_sessions)})
    case = open_h_buc_01(session, se_node)
    assert case.participants == [FI]
    assert deliver(session, se_node, post) == ["delivered"]

    # X005: DE joins. The X005 tells the participants there already (FI), not DE, which knows no case yet.
    added = service.send_sed(session, se_node, case, "X005", {"institutionID": DE}, by="anna")
    assert sent(added) == [("X005", FI)]
    assert case.participants == [FI, DE]
    # The question goes to the one just added; FI has been asked already. DE is then told, after the
    # question that opens the case on its side, of the participant there before it (an X005 naming FI).
    asked_de, announced = service.send_sed(session, se_node, case, "H001", H001, by="anna")
    assert (asked_de.receiver, asked_de.deadline) == (DE, utcnow().date() + dt.timedelta(days=30))
    assert (announced.sed_type, announced.receiver, announced.content["fields"]) == ("X005", DE, {"institutionID": FI})
    assert deliver(session, se_node, post) == ["delivered", "delivered", "delivered"]
    assert post.reached == [FI, FI, DE, DE]

    with fi_sessions() as fi:
        fi_case = service.get_case(fi, case.case_id)
        assert fi_case.participants == [FI, DE]  # announced by the owner
        assert [d.sed_type for d in service.documents(fi, fi_case)] == ["H001", "X005"]
        # A participant deals with the owner alone, and adds no one.
        with pytest.raises(SedNotAllowedError, match=f"sends to its owner, {SE}, alone"):
            service.send_sed(fi, fi_node, fi_case, "H002", ANSWER, to=DE, by="kela")
        with pytest.raises(SedNotAllowedError, match="X005 is sent by the owner"):
            service.send_sed(fi, fi_node, fi_case, "X005", {"institutionID": "DE:DRV01"}, by="kela")
        fi.rollback()
    with de_sessions() as de:
        de_case = service.get_case(de, case.case_id)
        assert (de_case.owner, de_case.partner, de_case.participants) == (SE, SE, [DE, FI])
        question, told = service.documents(de, de_case)
        assert (question.sed_type, question.sender, question.status) == ("H001", SE, DocumentStatus.ACCEPTED)
        assert (told.sed_type, told.status) == ("X005", DocumentStatus.ACCEPTED)
        # DE answers its own question; FI does not answer yet.
        [answer] = service.send_sed(de, de_node, de_case, "H002", ANSWER, by="drv")
        assert (answer.receiver, answer.answers) == (SE, None)
        de.commit()
        assert deliver(de, de_node, to(se_node, sessions)) == ["delivered"]
        de.commit()

    session.expire_all()
    by_receiver = {d.receiver: d for d in service.documents(session, case) if d.sed_type == "H001"}
    assert by_receiver[DE].answered_at is not None  # DE's answer answers the question put to DE
    assert by_receiver[FI].answered_at is None  # and not the one put to FI
    [fact] = service.facts_about(session, "se_personnummer", "195203041230")
    assert (fact.institution, fact.values["country"], fact.values["amount"]) == (DE, "DE", "312.00")

    # Refused at the owner, with nothing queued: each says why.
    before = len(service.documents(session, case))
    with pytest.raises(SedNotAllowedError, match=f"{FI} takes part in case .* already"):
        service.send_sed(session, se_node, case, "X005", {"institutionID": FI}, by="anna")
    with pytest.raises(SedNotAllowedError, match=r"takes part in case .* already"):
        service.send_sed(session, se_node, case, "X005", {"institutionID": SE}, by="anna")
    with pytest.raises(SedNotAllowedError, match="NO:NAV01"):
        service.send_sed(session, se_node, case, "X005", {"institutionID": "NO:NAV01"}, by="anna")
    reminder = {"documentID": by_receiver[FI].document_id}
    with pytest.raises(SedNotAllowedError, match=f"NO:NAV01 takes no part in case .* participants: {FI}, {DE}"):
        service.send_sed(session, se_node, case, "X009", reminder, to="NO:NAV01", by="anna")
    with pytest.raises(SedNotAllowedError, match="X005 goes to every participant"):
        service.send_sed(session, se_node, case, "X005", {"institutionID": "NO:NAV01"}, to=FI, by="anna")
    with pytest.raises(SedNotAllowedError, match="NO:NAV01 takes no part"):
        service.send_sed(session, se_node, case, "X006", {"institutionID": "NO:NAV01"}, by="anna")
    assert len(service.documents(session, case)) == before

    # A reminder goes to the institution the request went to, alone.
    [reminded] = service.send_sed(session, se_node, case, "X009", reminder, by="anna")
    assert reminded.receiver == FI

    # X006: DE leaves. Both are told; DE's case closes on its side.
    removed = service.send_sed(session, se_node, case, "X006", {"institutionID": DE}, by="anna")
    assert sorted(sent(removed)) == [("X006", DE), ("X006", FI)]
    assert case.participants == [FI]
    post.reached.clear()
    assert deliver(session, se_node, post) == ["delivered", "delivered", "delivered"]
    assert sorted(post.reached) == [DE, FI, FI]
    with fi_sessions() as fi:
        assert service.get_case(fi, case.case_id).participants == [FI]
    with de_sessions() as de:
        de_case = service.get_case(de, case.case_id)
        assert (de_case.status, de_case.participants) == (CaseStatus.CLOSED, [FI])
        with pytest.raises(SedNotAllowedError, match="the case is closed"):
            service.send_sed(de, de_node, de_case, "X009", {"documentID": question.document_id}, by="drv")

    # The last participant cannot be removed: the case is closed instead, and X001 tells FI.
    with pytest.raises(SedNotAllowedError, match=f"{FI} is the only participant .* close it with X001"):
        service.send_sed(session, se_node, case, "X006", {"institutionID": FI}, by="anna")
    [closing] = service.send_sed(session, se_node, case, "X001", {"reason": "answered"}, by="anna")
    assert closing.receiver == FI
    assert case.status is CaseStatus.CLOSED


def test_a_removed_participant_is_refused_and_no_longer_awaited(
    session: Session,
    pki: Pki,
    se_node: Node,
    fi_node: Node,
    de_node: Node,
    fi_sessions: sessionmaker[Session],
    de_sessions: sessionmaker[Session],
) -> None:
    post = to_each({FI: (fi_node, fi_sessions), DE: (de_node, de_sessions)})
    case = open_h_buc_01(session, se_node)
    service.send_sed(session, se_node, case, "X005", {"institutionID": DE}, by="anna")
    asked_de, _announced_fi = service.send_sed(session, se_node, case, "H001", H001, to=DE, by="anna")
    deliver(session, se_node, post)
    service.send_sed(session, se_node, case, "X006", {"institutionID": DE}, by="anna")
    deliver(session, se_node, post)

    # DE's question is awaited no more: it is not listed as waiting, and no reminder goes to DE.
    assert asked_de.deadline is None
    assert service.remind_overdue(session, se_node, utcnow().date() + dt.timedelta(days=60)) == 1
    [reminder] = [d for d in service.documents(session, case) if d.sed_type == "X009"]
    assert reminder.receiver == FI

    # Whatever DE still sends in the case is refused at the AS4 door, and nothing of it is stored.
    headers, body = from_de(pki, case.case_id, answers=asked_de.document_id, document_id="d-late")
    answer = service.receive(session, se_node, headers, body)
    assert (answer.status, answer.outcome) == (400, f"refused: {DE} takes no part in case {case.case_id}")
    assert "d-late" not in {d.document_id for d in service.documents(session, case)}
    assert service.facts_about(session, "se_personnummer", "195203041230") == []


def test_an_x006_from_a_participant_is_rejected_and_changes_no_one(
    session: Session, sessions: sessionmaker[Session], se_node: Node, fi_node: Node, fi_sessions: sessionmaker[Session]
) -> None:
    """Only the owner adds or removes. In a case FI owns, an X006 that SE (a participant) signs and
    sends past its own node's checks is rejected by FI with an X011, and FI's case is unchanged."""
    with fi_sessions() as fi:
        case = service.open_case(
            fi, fi_node, buc_type="H_BUC_01", partner=SE, content=H001, person=None, purpose="asked", by="kela"
        )
        case_id, case_pk = case.case_id, case.id
        fi.commit()
        deliver(fi, fi_node, to(se_node, sessions))
        fi.commit()
    session.expire_all()
    se_case = service.get_case(session, case_id)
    forged = seds.Sed(
        sed="X006", sed_g_ver="4", sed_ver="2", document_id="forged-x006", case_id=case_id, buc_type="H_BUC_01",
        sender=SE, receiver=FI, content=seds.X006(institution_id=SE),
    )  # fmt: skip
    queue_unchecked(session, se_case.id, forged, se_node)
    deliver(session, se_node, to_each({FI: (fi_node, fi_sessions)}))
    with fi_sessions() as fi:
        fi_case = service.get_case(fi, case_id)
        assert (fi_case.status, fi_case.participants) == (CaseStatus.OPEN, [SE])
        rejected = next(d for d in service.documents(fi, fi_case) if d.document_id == "forged-x006")
        assert (rejected.status, rejected.reason) == (DocumentStatus.REJECTED, "X006 is sent by the owner")
        [x011] = [d for d in service.documents(fi, fi_case) if d.sed_type == "X011"]
        assert (x011.direction, x011.receiver, x011.case_pk) == (Direction.OUT, SE, case_pk)


def test_a_participant_that_is_not_competent_forwards_the_case(
    session: Session,
    sessions: sessionmaker[Session],
    se_node: Node,
    fi_node: Node,
    de_node: Node,
    fi_sessions: sessionmaker[Session],
    de_sessions: sessionmaker[Session],
) -> None:
    """Kela is asked, but the pension is Deutsche Rentenversicherung's: Kela forwards the case with an
    X007. The owner's node then adds DE, removes FI (whose case closes) and puts FI's question to DE,
    whose answer answers it; FI's question is awaited no more."""
    post = to_each({FI: (fi_node, fi_sessions), DE: (de_node, de_sessions)})
    case = open_h_buc_01(session, se_node)
    deliver(session, se_node, post)
    with fi_sessions() as fi:
        fi_case = service.get_case(fi, case.case_id)
        # Refused at Kela's own node, each with its reason, nothing queued.
        with pytest.raises(SedNotAllowedError, match=f"{SE} takes part in case .* already"):
            service.send_sed(fi, fi_node, fi_case, "X007", {"institutionID": SE}, by="kela")
        with pytest.raises(SedNotAllowedError, match="NO:NAV01"):
            service.send_sed(fi, fi_node, fi_case, "X007", {"institutionID": "NO:NAV01"}, by="kela")
        forward = {"institutionID": DE, "reason": "The old-age pension is paid by Deutsche Rentenversicherung."}
        [forwarded] = service.send_sed(fi, fi_node, fi_case, "X007", forward, by="kela")
        assert (forwarded.receiver, [d.sed_type for d in service.documents(fi, fi_case)]) == (SE, ["H001", "X007"])
        fi.commit()
        assert deliver(fi, fi_node, to(se_node, sessions)) == ["delivered"]
        fi.commit()

    session.expire_all()
    by = f"saldo (forwarded by {FI})"
    assert case.participants == [DE]
    asked_fi, x007, *out = service.documents(session, case)
    assert (x007.sed_type, x007.status, x007.content["fields"]) == ("X007", DocumentStatus.ACCEPTED, forward)
    assert [(d.sed_type, d.receiver, d.created_by) for d in out] == [
        ("X005", FI, by),  # DE joins: told to those in the case, FI
        ("X006", FI, by),  # FI leaves, and is told so
        ("H001", DE, by),  # the question FI was asked, put to DE
    ]
    asked_de = out[-1]
    assert asked_fi.deadline is None  # FI is awaited no more
    assert asked_de.deadline == utcnow().date() + dt.timedelta(days=30)
    assert asked_de.content == asked_fi.content
    assert deliver(session, se_node, post) == ["delivered"] * 3

    with fi_sessions() as fi:
        assert service.get_case(fi, case.case_id).status is CaseStatus.CLOSED
    with de_sessions() as de:
        de_case = service.get_case(de, case.case_id)
        assert (de_case.owner, de_case.participants, de_case.status) == (SE, [DE], CaseStatus.OPEN)
        [question] = service.documents(de, de_case)
        assert (question.sed_type, question.content["fields"]) == ("H001", asked_fi.content["fields"])
        service.send_sed(de, de_node, de_case, "H002", ANSWER, by="drv")
        de.commit()
        assert deliver(de, de_node, to(se_node, sessions)) == ["delivered"]
        de.commit()
    session.expire_all()
    assert asked_de.answered_at is not None
    assert asked_fi.answered_at is None


def test_a_forward_the_owner_cannot_follow_is_rejected_and_changes_no_one(
    session: Session, sessions: sessionmaker[Session], se_node: Node, fi_node: Node, fi_sessions: sessionmaker[Session]
) -> None:
    """An X007 naming an institution the owner's directory does not list for the BUC, signed and sent
    past FI's own checks, is rejected by SE with an X011 and leaves the case as it was."""
    case = open_h_buc_01(session, se_node)
    deliver(session, se_node, to(fi_node, fi_sessions))
    forged = seds.Sed(
        sed="X007", sed_g_ver="4", sed_ver="2", document_id="forward-nowhere", case_id=case.case_id,
        buc_type="H_BUC_01", sender=FI, receiver=SE, content=seds.X007(institution_id="NO:NAV01"),
    )  # fmt: skip
    with fi_sessions() as fi:
        queue_unchecked(fi, service.get_case(fi, case.case_id).id, forged, fi_node)
        fi.commit()
        assert deliver(fi, fi_node, to(se_node, sessions)) == ["delivered"]
        fi.commit()
    session.expire_all()
    assert case.participants == [FI]
    asked, rejected, x011 = service.documents(session, case)
    assert asked.deadline == utcnow().date() + dt.timedelta(days=30)  # FI is still awaited
    assert (rejected.status, rejected.reason) == (
        DocumentStatus.REJECTED,
        "NO:NAV01 is not in the institution directory",
    )
    assert (x011.sed_type, x011.receiver, x011.answers) == ("X011", FI, "forward-nowhere")


def test_the_migration_gives_each_existing_case_its_counterparty_as_its_participant(worker_id: str) -> None:
    engine = create_engine(create_database(f"saldo_test_participants_{worker_id}"))
    try:
        migrate(engine, BEFORE_PARTICIPANTS)
        with engine.begin() as connection:
            for case_id, owner, counterparty, partner in (("SE-1", SE, FI, FI), ("FI-1", FI, SE, FI)):
                connection.execute(
                    text(
                        "INSERT INTO eessi_cases (case_id, buc_type, owner, counterparty, partner, status, opened_by) "
                        "VALUES (:case_id, 'H_BUC_01', :owner, :counterparty, :partner, 'open', 'test')"
                    ),
                    {"case_id": case_id, "owner": owner, "counterparty": counterparty, "partner": partner},
                )
        migrate(engine, "head")
        with engine.connect() as connection:
            found = connection.execute(text("SELECT case_id, participants FROM eessi_cases ORDER BY id")).all()
        assert [tuple(r) for r in found] == [("SE-1", [FI]), ("FI-1", [SE])]
        migrate(engine, BEFORE_PARTICIPANTS, down=True)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM eessi_cases")).scalar_one() == 2
    finally:
        engine.dispose()
