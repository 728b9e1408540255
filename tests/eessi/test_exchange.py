"""Two nodes, each with its own database, playing BUCs through the real AS4 messages: SE works in
the test's transaction, FI in a database of its own; a delivery is the SE node's outbox posting the
AS4 message it built to the FI node's receive, and back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from as4.errors import PayloadPartNotFoundException, SoapPartNotFoundException
from as4.profiles.peppol.profile import PeppolAS4Profile
from as4.utils.mime_handler import MIMEHandler
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from saldo.db.engine import unit_of_work
from saldo.eessi import repository, service
from saldo.eessi.errors import InvalidSedError, SedNotAllowedError
from saldo.eessi.models import (
    CaseStatus,
    CrossBorderCase,
    CrossBorderDocument,
    Direction,
    DocumentStatus,
    FactKind,
    PersonMatch,
)
from saldo.eessi.service import Node, seds, signatures, transport
from saldo.eessi.service.keys import issue_node
from saldo.kit.clock import utcnow
from tests.eessi.conftest import DE, FI, SE, Pki, person
from tests.factories import account_record, auth, pnr, se_iban


def to(node: Node, sessions: Callable[[], Any]) -> Callable[[str, dict[str, str], bytes], tuple[int, bytes]]:
    """A post that hands the message to ``node``'s receive, committed as the endpoint commits."""

    def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        with unit_of_work(sessions) as session:
            answer = service.receive(session, node, headers, body)
        return answer.status, answer.body

    return post


def deliver_all(session: Session, node: Node, post: Any) -> list[service.Delivery]:
    done = []
    while (delivery := service.deliver_one(session, node, post)) is not None:
        session.flush()  # as the worker commits each step: the next one sees it
        if delivery.outcome != "built":
            done.append(delivery)
    return done


def from_de(pki: Pki, case_id: str, *, answers: str, document_id: str) -> tuple[dict[str, str], bytes]:
    """An H002 that DE signs and sends to SE in ``case_id`` answering ``answers``, past any node's
    own checks: AS4 headers and body."""
    sed = seds.Sed(
        sed="H002", sed_g_ver="4", sed_ver="2", document_id=document_id, case_id=case_id, buc_type="H_BUC_01",
        sender=DE, receiver=SE, answers=answers, person=person(),
        content=seds.H002(receives_benefit=True, benefit_type="sickness"),
    )  # fmt: skip
    _, headers, body = transport.build(
        transport.local_party(DE, pki.de), transport.remote_party(SE, pki.se.certificate),
        signatures.sign(seds.to_element(sed), pki.de), case_id=case_id, sed_type="H002",
        message_id=f"m-{document_id}@test",
    )  # fmt: skip
    return headers, body


def queue_unchecked(session: Session, case_pk: int, sed: seds.Sed, node: Node) -> None:
    """``sed`` signed by ``node`` and put in its outbox past its own checks, as a faulty or hostile
    sender would: the receiver's checks are what the test is about."""
    session.add(
        CrossBorderDocument(
            case_pk=case_pk,
            document_id=sed.document_id,
            message_id=f"{sed.document_id}@test",
            sed_type=sed.sed,
            direction=Direction.OUT,
            sender=sed.sender,
            receiver=sed.receiver,
            content={},
            attempts=0,
            created_by="test",
            xml=signatures.sign(seds.to_element(sed), node.keys),
            status=DocumentStatus.QUEUED,
        )
    )
    session.flush()


H001 = {"benefitType": "old_age", "period": {"startDate": "2026-01-01"}, "question": "Paid for 2026?"}


def open_h_buc_01(session: Session, se_node: Node) -> Any:
    return service.open_case(
        session,
        se_node,
        buc_type="H_BUC_01",
        partner=FI,
        content=H001,
        person=service.PersonRef("se_personnummer", "195203041230", person()),
        purpose="a finding",
        by="anna",
    )


def test_h_buc_01_request_and_answer_between_two_nodes(
    session: Session, sessions: sessionmaker[Session], se_node: Node, fi_node: Node, fi_sessions: sessionmaker[Session]
) -> None:
    case = open_h_buc_01(session, se_node)
    [request] = service.documents(session, case)
    assert (request.sed_type, request.status, request.deadline) == (
        "H001",
        DocumentStatus.QUEUED,
        utcnow().date() + dt.timedelta(days=30),
    )

    assert [d.outcome for d in deliver_all(session, se_node, to(fi_node, fi_sessions))] == ["delivered"]
    assert request.status is DocumentStatus.DELIVERED
    assert request.receipt

    with fi_sessions() as fi:
        fi_case = service.get_case(fi, case.case_id)
        assert (fi_case.owner, fi_case.counterparty, fi_case.partner) == (SE, FI, SE)
        [received] = service.documents(fi, fi_case)
        assert (received.sed_type, received.direction, received.status) == (
            "H001",
            Direction.IN,
            DocumentStatus.ACCEPTED,
        )
        assert received.content["fields"]["question"] == "Paid for 2026?"
        assert received.deadline is not None
        answer = {
            "receivesBenefit": True,
            "benefitType": "old_age",
            "period": {"startDate": "2026-01-01"},
            "amount": "712.40",
            "currency": "EUR",
            "frequency": "monthly",
        }
        service.send_sed(fi, fi_node, fi_case, "H002", answer, by="kela")
        fi.commit()
        while service.deliver_one(fi, fi_node, to(se_node, sessions)) is not None:
            fi.commit()
        fi.commit()

    session.expire_all()
    documents = service.documents(session, case)
    assert [(d.sed_type, d.direction) for d in documents] == [("H001", Direction.OUT), ("H002", Direction.IN)]
    assert documents[0].answered_at is not None  # the request is answered: no reminder will go
    [fact] = service.facts_about(session, "se_personnummer", "195203041230")
    assert fact.kind is FactKind.BENEFIT_ABROAD
    assert fact.institution == FI
    assert fact.values["country"] == "FI"
    assert fact.values["amount"] == "712.40"


def test_a_resent_message_is_taken_in_once_and_gets_the_same_receipt(
    session: Session, se_node: Node, fi_node: Node, fi_sessions: sessionmaker[Session]
) -> None:
    open_h_buc_01(session, se_node)
    answers: list[tuple[int, bytes]] = []
    fi_post = to(fi_node, fi_sessions)

    def twice(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        answers.append(fi_post(url, headers, body))
        answers.append(fi_post(url, headers, body))  # the sender died before recording the first receipt
        return answers[-1]

    assert [d.outcome for d in deliver_all(session, se_node, twice)] == ["delivered"]
    assert answers[0] == answers[1]
    assert answers[0][0] == 200
    with fi_sessions() as fi:
        assert len(service.documents(fi, service.list_cases(fi)[0])) == 1


def test_a_sed_that_does_not_fit_the_case_is_answered_with_an_x011(
    session: Session, se_node: Node, fi_node: Node, fi_sessions: sessionmaker[Session]
) -> None:
    case = open_h_buc_01(session, se_node)
    deliver_all(session, se_node, to(fi_node, fi_sessions))
    # SE sends an H002 in its own case: only the counterparty answers an H001. The SE node's own
    # check refuses it, so it is forged past that check, signed as SE would sign it.
    with pytest.raises(SedNotAllowedError, match="H002 is sent by the counterparty institution"):
        service.send_sed(session, se_node, case, "H002", {"receivesBenefit": False}, by="anna")
    forged = seds.Sed(
        sed="H002",
        sed_g_ver="4",
        sed_ver="2",
        document_id="forged-1",
        case_id=case.case_id,
        buc_type="H_BUC_01",
        sender=SE,
        receiver=FI,
        content=seds.H002(receives_benefit=False),
    )
    queue_unchecked(session, case.id, forged, se_node)
    assert [d.outcome for d in deliver_all(session, se_node, to(fi_node, fi_sessions))] == ["delivered"]
    with fi_sessions() as fi:
        fi_case = service.get_case(fi, case.case_id)
        rejected = next(d for d in service.documents(fi, fi_case) if d.document_id == "forged-1")
        assert rejected.status is DocumentStatus.REJECTED
        assert rejected.reason == "H002 is sent by the counterparty institution"
        [x011] = [d for d in service.documents(fi, fi_case) if d.sed_type == "X011"]
        assert (x011.direction, x011.answers, x011.content["fields"]["reason"]) == (
            Direction.OUT,
            "forged-1",
            "H002 is sent by the counterparty institution",
        )


def test_a_version_other_than_the_bucs_is_rejected_with_the_reason(
    session: Session, se_node: Node, fi_node: Node, fi_sessions: sessionmaker[Session]
) -> None:
    old = seds.Sed(
        sed="H070",
        sed_g_ver="4",
        sed_ver="1",
        document_id="old-1",
        case_id="SE:FKA01-old",
        buc_type="H_BUC_07",
        sender=SE,
        receiver=FI,
        content=seds.H070(date_death=dt.date(2026, 5, 1), country_death="SE"),
    )
    case = CrossBorderCase(
        case_id="SE:FKA01-old",
        buc_type="H_BUC_07",
        owner=SE,
        counterparty=FI,
        partner=FI,
        status=CaseStatus.OPEN,
        opened_by="test",
    )
    session.add(case)
    session.flush()
    queue_unchecked(session, case.id, old, se_node)
    deliver_all(session, se_node, to(fi_node, fi_sessions))
    with fi_sessions() as fi:
        [doc, x011] = service.documents(fi, service.get_case(fi, "SE:FKA01-old"))
        assert doc.reason == "H070 version 4.1 does not match the version of H_BUC_07, 4.2"
        assert x011.sed_type == "X011"


def test_a_death_notified_from_abroad_becomes_a_fact_about_the_person(
    session: Session, sessions: sessionmaker[Session], se_node: Node, fi_node: Node, fi_sessions: sessionmaker[Session]
) -> None:
    with unit_of_work(fi_sessions) as fi:
        case = service.open_case(
            fi,
            fi_node,
            buc_type="H_BUC_07",
            partner=SE,
            content={"dateDeath": "2026-10-02", "countryDeath": "FI"},
            person=service.PersonRef(None, None, person()),
            purpose="death registered in Finland",
            by="kela",
        )
        case_id = case.case_id
    with fi_sessions() as fi:
        outcomes = []
        while (d := service.deliver_one(fi, fi_node, to(se_node, sessions))) is not None:
            outcomes.append(d.outcome)
            fi.commit()
        outcomes.remove("built")
    assert outcomes == ["delivered"]
    [fact] = service.facts_about(session, "se_personnummer", "195203041230")
    assert (fact.kind, fact.values, fact.institution) == (FactKind.DEATH, {"date": "2026-10-02", "country": "FI"}, FI)
    se_case = service.get_case(session, case_id)
    assert (se_case.person_scheme, se_case.person_id) == ("se_personnummer", "195203041230")


def test_the_state_machine_refuses_with_the_reason(session: Session, se_node: Node) -> None:
    case = open_h_buc_01(session, se_node)
    with pytest.raises(SedNotAllowedError, match="H001 starts H_BUC_01; the case has started"):
        service.send_sed(session, se_node, case, "H001", H001, by="anna")
    with pytest.raises(SedNotAllowedError, match="H070 is not part of H_BUC_01"):
        service.send_sed(session, se_node, case, "H070", {"dateDeath": "2026-01-01", "countryDeath": "SE"}, by="anna")
    with pytest.raises(InvalidSedError, match=r"H002/receivesBenefit: Field required"):
        service.send_sed(session, se_node, case, "H002", {}, by="anna")
    service.send_sed(session, se_node, case, "X001", {"reason": "answered by telephone"}, by="anna")
    assert case.status is CaseStatus.CLOSED
    with pytest.raises(SedNotAllowedError, match="the case is closed"):
        service.send_sed(session, se_node, case, "X009", {"documentID": "x"}, by="anna")


def test_an_unknown_partner_or_one_outside_the_buc_is_refused(session: Session, se_node: Node) -> None:
    with pytest.raises(SedNotAllowedError, match="DE:NOSUCH01 is not in the institution directory"):
        service.open_case(
            session,
            se_node,
            buc_type="H_BUC_01",
            partner="DE:NOSUCH01",
            content=H001,
            person=None,
            purpose="p",
            by="anna",
        )
    with pytest.raises(SedNotAllowedError, match="'P_BUC_01' is not a BUC this node plays"):
        service.open_case(
            session, se_node, buc_type="P_BUC_01", partner=FI, content=H001, person=None, purpose="p", by="anna"
        )


def test_a_partner_that_is_down_is_retried_with_backoff(session: Session, se_node: Node) -> None:
    open_h_buc_01(session, se_node)

    def down(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        raise OSError("connection refused")

    [first] = deliver_all(session, se_node, down)  # built, then tried
    assert first.outcome == "retry"
    assert "could not be reached: connection refused" in first.detail
    assert repository.queued_count(session) == 1
    assert service.deliver_one(session, se_node, down) is None  # not due again until its backoff has passed


def test_a_sed_without_this_countrys_identifier_links_no_one_until_staff_confirm(
    session: Session, sessions: sessionmaker[Session], se_node: Node, fi_node: Node, fi_sessions: sessionmaker[Session]
) -> None:
    """No identifier of this country and nobody here with that birth date and name: the case waits,
    and a member of staff says who it is."""
    only_finnish = person().model_copy(update={"pins": (person().pins[1],)})
    case = service.get_case(session, notify_death(only_finnish, se_node, fi_node, fi_sessions, sessions))
    assert (case.person_match, case.person_id) == (PersonMatch.UNMATCHED, None)
    assert service.facts_about(session, "se_personnummer", "195203041230") == []

    assert service.confirm_person(session, se_node, case, "se_personnummer", "19520304-1230", by="anna") == 1
    assert (case.person_match, case.person_id) == (PersonMatch.CONFIRMED, "195203041230")
    [fact] = service.facts_about(session, "se_personnummer", "195203041230")
    assert fact.kind is FactKind.DEATH
    with pytest.raises(SedNotAllowedError, match="linked already"):
        service.confirm_person(session, se_node, case, "se_personnummer", "195203041230", by="anna")


def test_an_answer_about_a_different_person_than_asked_is_refused(
    session: Session, sessions: sessionmaker[Session], se_node: Node, fi_node: Node, fi_sessions: sessionmaker[Session]
) -> None:
    case = open_h_buc_01(session, se_node)
    session.commit()
    deliver_all(session, se_node, to(fi_node, fi_sessions))
    someone_else = seds.PersonIdentification(
        family_name="Virtanen", forename="Aino", date_birth=dt.date(1952, 3, 4),
        pins=(seds.Pin(personal_identification_number="19811218-9876", country="SE"),),
    )  # fmt: skip
    with fi_sessions() as fi:
        fi_case = service.get_case(fi, case.case_id)
        service.send_sed(fi, fi_node, fi_case, "H002", {"receivesBenefit": True, "benefitType": "sickness",
                         "period": {"startDate": "2026-01-01"}}, person=service.PersonRef(None, None, someone_else),
                         by="kela")  # fmt: skip
        fi.commit()
        while service.deliver_one(fi, fi_node, to(se_node, sessions)) is not None:
            fi.commit()
    session.expire_all()
    documents = service.documents(session, case)
    h002 = next(d for d in documents if d.sed_type == "H002")
    assert (h002.status, h002.reason) == (
        DocumentStatus.REJECTED,
        "the SED names a different person than the case is about",
    )
    assert documents[0].answered_at is None  # the question stays open
    assert [d.sed_type for d in documents if d.direction is Direction.OUT][-1] == "X011"
    assert service.facts_about(session, "se_personnummer", "198112189876") == []


def test_a_message_in_flight_when_the_receiver_rotates_its_key_is_still_delivered(
    session: Session, se_node: Node, fi_node: Node, fi_sessions: sessionmaker[Session], pki: Pki
) -> None:
    """SE built its message for FI's old certificate; FI then moved to a new key. FI, keeping the
    old key as a previous one, still reads it and signs the receipt with the key it was encrypted to."""
    open_h_buc_01(session, se_node)
    assert [d.outcome for d in [service.deliver_one(session, se_node, None)] if d] == ["built"]
    rotated = Node(FI, issue_node(pki.authority, FI), fi_node.directory_path)
    refused = deliver_all(session, se_node, to(rotated, fi_sessions))
    assert refused[0].outcome == "undeliverable"  # without the old key: a signed refusal, nothing stored
    assert "Could not decrypt" in refused[0].detail

    open_h_buc_01(session, se_node)
    service.deliver_one(session, se_node, None)  # built for the old certificate, as before
    keeping = Node(FI, rotated.keys, fi_node.directory_path, previous=(fi_node.keys,))
    assert [d.outcome for d in deliver_all(session, se_node, to(keeping, fi_sessions))] == ["delivered"]


def test_a_message_stamped_ahead_of_the_receivers_clock_is_refused(
    session: Session, se_node: Node, fi_node: Node, fi_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Ahead(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Ahead:  # type: ignore[override]
            return cls.fromtimestamp(dt.datetime.now(dt.UTC).timestamp() + 3600, tz)

    monkeypatch.setattr("saldo.eessi.service.transport.datetime", Ahead)  # the sender's clock, an hour fast
    open_h_buc_01(session, se_node)
    [refused] = deliver_all(session, se_node, to(fi_node, fi_sessions))
    assert refused.outcome == "undeliverable"
    assert "ahead of this node's clock" in refused.detail
    with fi_sessions() as fi:
        assert service.list_cases(fi) == []


def test_a_message_reusing_the_id_of_one_this_node_sent_is_refused(
    session: Session, se_node: Node, fi_node: Node, pki: Pki
) -> None:
    case = open_h_buc_01(session, se_node)
    [ours] = service.documents(session, case)
    sed = seds.Sed(
        sed="H070", sed_g_ver="4", sed_ver="2", document_id="d-reuse", case_id="FI:KELA01-reuse", buc_type="H_BUC_07",
        sender=FI, receiver=SE, content=seds.H070(date_death=dt.date(2026, 5, 1), country_death="FI"),
    )  # fmt: skip
    _, headers, body = transport.build(
        fi_node.party(), transport.remote_party(SE, pki.se.certificate), signatures.sign(seds.to_element(sed), pki.fi),
        case_id="FI:KELA01-reuse", sed_type="H070", message_id=ours.message_id,
    )  # fmt: skip
    answer = service.receive(session, se_node, headers, body)
    assert answer.status == 400
    assert answer.outcome == f"refused: the message id {ours.message_id} is already used by another message"
    assert service.list_cases(session) == [case]


def test_an_institution_acts_only_in_its_own_cases(session: Session, se_node: Node, pki: Pki) -> None:
    """DE is in the directory and signs correctly, but the case is SE's with FI: its answer in that
    case is refused, and nothing of it is stored or learned."""
    case = open_h_buc_01(session, se_node)
    [request] = service.documents(session, case)
    headers, body = from_de(pki, case.case_id, answers=request.document_id, document_id="d-intruder")
    answer = service.receive(session, se_node, headers, body)
    assert answer.status == 400
    assert answer.outcome == f"refused: {DE} takes no part in case {case.case_id}"
    assert [d.sed_type for d in service.documents(session, case)] == ["H001"]
    assert request.answered_at is None
    assert service.facts_about(session, "se_personnummer", "195203041230") == []


def test_the_mime_envelope_is_read_as_the_as4_library_reads_it(fi_node: Node, pki: Pki) -> None:
    sed = seds.Sed(
        sed="H070", sed_g_ver="4", sed_ver="2", document_id="d-mime", case_id="FI:KELA01-mime", buc_type="H_BUC_07",
        sender=FI, receiver=SE, content=seds.H070(date_death=dt.date(2026, 5, 1), country_death="FI"),
    )  # fmt: skip
    _, headers, body = transport.build(
        fi_node.party(), transport.remote_party(SE, pki.se.certificate), signatures.sign(seds.to_element(sed), pki.fi),
        case_id="FI:KELA01-mime", sed_type="H070", message_id="m-mime@test",
    )  # fmt: skip
    payload = MIMEHandler.payload_from_request(headers, body)
    assert transport.EessiProfile.unpack_message(payload) == PeppolAS4Profile.unpack_message(payload)
    soap_only = payload.split(b"Content-Type: application/octet-stream")[0]
    with pytest.raises(PayloadPartNotFoundException):
        transport.EessiProfile.unpack_message(soap_only)
    with pytest.raises(SoapPartNotFoundException):
        transport.EessiProfile.unpack_message(payload.replace(b"application/soap+xml", b"text/plain"))


def notify_death(
    identification: seds.PersonIdentification, se_node: Node, fi_node: Node, fi_sessions: Any, sessions: Any
) -> str:
    """Kela tells the SE node of a death (H_BUC_07), naming the person as ``identification`` does."""
    with unit_of_work(fi_sessions) as fi:
        case_id = service.open_case(
            fi, fi_node, buc_type="H_BUC_07", partner=SE, content={"dateDeath": "2026-10-02", "countryDeath": "FI"},
            person=service.PersonRef(None, None, identification), purpose="death", by="kela",
        ).case_id  # fmt: skip
    with fi_sessions() as fi:
        while service.deliver_one(fi, fi_node, to(se_node, sessions)) is not None:
            fi.commit()
    return str(case_id)


def hold_accounts(client: TestClient, bank_token: str, *holders: tuple[str, str], first: int = 1) -> None:
    """An account of its own for each holder (numbered from ``first``), as their bank registers it."""
    records = [account_record(se_iban(first + n), holder) for n, holder in enumerate(holders)]
    answer = client.post("/api/v1/bank/accounts", json={"accounts": records}, headers=auth(bank_token))
    assert answer.status_code == 200, answer.text


def named_only(family_name: str, forename: str) -> seds.PersonIdentification:
    """The person by name and birth date, with a Finnish identifier only."""
    return person().model_copy(update={"family_name": family_name, "forename": forename, "pins": (person().pins[1],)})


def test_a_sed_naming_no_identifier_links_by_birth_date_and_full_name_with_the_strength(
    client: TestClient, bank_token: str, session: Session, sessions: sessionmaker[Session], se_node: Node,
    fi_node: Node, fi_sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    aino, other = pnr(1, born="19520304"), pnr(2, born="19520304")
    hold_accounts(client, bank_token, (aino, "VIRTANEN AINO"), (other, "Bengt Karlsson"))
    case = service.get_case(
        session, notify_death(named_only("Virtanen", "Aino"), se_node, fi_node, fi_sessions, sessions)
    )
    assert (case.person_match, case.person_id) == (PersonMatch.NAME_AND_BIRTH_DATE, aino)
    assert case.match_strength == "birth date and name: match (token_order, 100) with 'VIRTANEN AINO'"
    [fact] = service.facts_about(session, "se_personnummer", aino)
    assert fact.kind is FactKind.DEATH


def test_a_weak_or_ambiguous_name_match_waits_for_staff_with_the_candidates(
    client: TestClient, bank_token: str, session: Session, sessions: sessionmaker[Session], se_node: Node,
    fi_node: Node, fi_sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    aino, namesake, other = pnr(1, born="19520304"), pnr(2, born="19520304"), pnr(3, born="19520305")
    hold_accounts(client, bank_token, (aino, "Aino Maria Virtanen"), (other, "Aino Virtanen"))
    weak = service.get_case(
        session, notify_death(named_only("Virtanen", "Aino"), se_node, fi_node, fi_sessions, sessions)
    )
    assert (weak.person_match, weak.person_id) == (PersonMatch.UNMATCHED, None)  # a given name left out: weak
    assert weak.match_candidates == [
        {
            "scheme": "se_personnummer",
            "person_id": aino,
            "registered_name": "Aino Maria Virtanen",
            "outcome": "match",
            "reason": "given_name_omitted",
            "score": weak.match_candidates[0]["score"],
        }
    ]  # fmt: skip  (born a day later, the other Aino Virtanen is no candidate)
    assert service.facts_about(session, "se_personnummer", aino) == []

    hold_accounts(client, bank_token, (namesake, "Aino Virtanen"), first=3)
    twins = named_only("Virtanen", "Aino")
    two = service.get_case(session, notify_death(twins, se_node, fi_node, fi_sessions, sessions))
    assert two.person_match is PersonMatch.UNMATCHED
    assert [c["person_id"] for c in two.match_candidates or []] == [namesake, aino]  # the full name first

    assert service.confirm_person(session, se_node, two, "se_personnummer", namesake, by="anna") == 1
    assert (two.person_match, two.person_id, two.match_candidates) == (PersonMatch.CONFIRMED, namesake, None)


def test_a_key_rotated_on_disk_is_used_without_a_restart(
    settings: Any, pki: Pki, directory: Any, tmp_path: Any
) -> None:
    key, certificate = tmp_path / "node.key", tmp_path / "node.pem"
    pki.se.write(key, certificate)
    configured = settings.model_copy(
        update={
            "eessi_institution": SE,
            "eessi_key": key,
            "eessi_certificate": certificate,
            "eessi_directory": directory,
        }
    )
    assert service.node_from_settings(configured).keys.certificate == pki.se.certificate
    assert service.node_from_settings(configured) is service.node_from_settings(configured)  # read once
    rotated = issue_node(pki.authority, SE)
    rotated.write(key, certificate)
    assert service.node_from_settings(configured).keys.certificate == rotated.certificate
