"""Evidence once only between two gateways, each with its own database, through the real signed and
encrypted AS4 messages: FI asks for the statement of a person's public payments, SE matches the
person and answers that the person must preview it; the person logs in at SE, sees it and approves
(or refuses); FI asks again and the evidence arrives with its origin. Every message either side wrote
passes the official OOTS Schematron rules, run by Saxon."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from saldo.db.engine import unit_of_work
from saldo.eessi.service import transport as as4
from saldo.kit.clock import utcnow
from saldo.kit.national_id import IdScheme
from saldo.onceonly import service
from saldo.onceonly.errors import NoProviderError
from saldo.onceonly.models import EvidenceExchange, ExchangeMessage, ExchangeRole, ExchangeState, MessageDirection
from saldo.onceonly.service import edm, transport
from tests.eessi.conftest import Pki
from tests.factories import OTHER_PNR
from tests.onceonly.conftest import (
    FI_BASE,
    FI_PARTY,
    PERSON_PNR,
    SE_BASE,
    SE_PARTY,
    STATEMENT,
    deliver_all,
    deliver_fi,
    to_fi,
    to_se,
)
from tests.onceonly.schematron import failures, rules_run
from tests.onceonly.test_pages import evidence_for
from tests.procedures.test_applications import apply_pda1
from tests.web_login import csrf_of, dev_login

RULES = {
    transport.REQUEST: ("EDM-REQ-S", "EDM-REQ-C"),
    transport.RESPONSE: ("EDM-RESP-S", "EDM-RESP-C"),
    transport.EXCEPTION: ("EDM-ERR-S", "EDM-ERR-C"),
}
AINO = service.Applicant(IdScheme.SE_PERSONNUMMER.value, PERSON_PNR, "Aino", "Virtanen")


def ask(fi_sessions: sessionmaker[Session], fi_gateway: service.Gateway, applicant: service.Applicant = AINO) -> int:
    with unit_of_work(fi_sessions) as fi:
        exchange = service.ask(
            fi,
            fi_gateway,
            applicant=applicant,
            evidence_type=STATEMENT,
            country="SE",
            procedure="U1",
            application_pk=None,
            language="fi",
            now=utcnow(),
        )
        return exchange.id


def fi_exchange(fi_sessions: sessionmaker[Session], exchange_id: int) -> EvidenceExchange:
    with fi_sessions() as fi:
        found = fi.get(EvidenceExchange, exchange_id)
        assert found is not None
        fi.expunge(found)
        return found


def se_exchanges(session: Session) -> list[EvidenceExchange]:
    session.expire_all()
    query = select(EvidenceExchange).where(EvidenceExchange.role == ExchangeRole.PROVIDER)
    return list(session.scalars(query.order_by(EvidenceExchange.id)))


def round_trip(session: Session, fi_sessions: sessionmaker[Session], se: service.Gateway, fi: service.Gateway) -> None:
    """FI's outbox to SE, then SE's answers to FI."""
    assert all(d.outcome == "delivered" for d in deliver_fi(fi_sessions, fi, to_se(session, se)))
    assert all(d.outcome == "delivered" for d in deliver_all(session, se, to_fi(fi_sessions, fi)))


def back_at_fi(
    session: Session, fi_sessions: sessionmaker[Session], se: service.Gateway, fi: service.Gateway, exchange_id: int
) -> None:
    """The person is back at FI from the preview: FI asks again, and SE's answer comes back."""
    with unit_of_work(fi_sessions) as fi_session:
        asked = fi_session.get(EvidenceExchange, exchange_id)
        assert asked is not None
        service.returned(fi_session, fi, asked, now=utcnow())
    round_trip(session, fi_sessions, se, fi)


def preview_at_se(se_web: TestClient, location: str, exchange_id: int, decision: str) -> str:
    """The person logs in at SE, opens the preview FI sent them to, and decides; the way back to FI
    the page then shows."""
    assert dev_login(se_web, PERSON_PNR).status_code == 303
    back = f"{FI_BASE}/me/evidence/{exchange_id}/returned"
    page = se_web.get(f"{location}?returnurl={quote(back, safe='')}", params={"lang": "en"})
    assert page.status_code == 200, page.text
    assert "Kela" in page.text
    assert "Approve" in page.text
    decided = se_web.post(
        urlsplit(location).path,
        data={"csrf": csrf_of(page.text), "decision": decision, "returnurl": back},
        follow_redirects=False,
    )
    assert decided.status_code == 303, decided.text
    assert decided.headers["location"] == f"{urlsplit(location).path}?returnurl={quote(back, safe='')}"
    shown = se_web.get(f"{decided.headers['location']}&lang=en")  # (params= would replace the query)
    link = re.search(r'<a class="button" href="([^"]+)">Back to Kela</a>', shown.text)
    assert link is not None, shown.text
    return html.unescape(link.group(1))


def all_messages(session: Session, fi_sessions: sessionmaker[Session]) -> list[tuple[str, bytes]]:
    session.expire_all()
    out = select(ExchangeMessage.action, ExchangeMessage.document).where(
        ExchangeMessage.direction == MessageDirection.OUT
    )
    with fi_sessions() as fi:
        return [(a, bytes(d)) for a, d in [*session.execute(out), *fi.execute(out)]]


class TestTheJourney:
    def test_the_person_approves_and_the_statement_arrives_with_its_origin(
        self,
        session: Session,
        fi_sessions: sessionmaker[Session],
        se_gateway: service.Gateway,
        fi_gateway: service.Gateway,
        se_web: TestClient,
    ) -> None:
        exchange_id = ask(fi_sessions, fi_gateway)
        round_trip(session, fi_sessions, se_gateway, fi_gateway)

        [provided] = se_exchanges(session)
        assert provided.state is ExchangeState.PREVIEW
        assert (provided.person_scheme, provided.person_id) == (IdScheme.SE_PERSONNUMMER.value, PERSON_PNR)
        assert (provided.match or "").startswith("identifier")
        asked = fi_exchange(fi_sessions, exchange_id)
        assert asked.state is ExchangeState.PREVIEW
        assert asked.preview_location == f"{SE_BASE}/me/evidence/preview/{provided.preview_token}"

        back = preview_at_se(se_web, asked.preview_location, exchange_id, "approve")
        assert back == f"{FI_BASE}/me/evidence/{exchange_id}/returned"  # the way back, as a link
        with unit_of_work(fi_sessions) as fi:
            again = fi.get(EvidenceExchange, exchange_id)
            assert again is not None
            assert service.returned(fi, fi_gateway, again, now=utcnow())
            assert not service.returned(fi, fi_gateway, again, now=utcnow())  # a second return sends nothing
        round_trip(session, fi_sessions, se_gateway, fi_gateway)

        arrived = fi_exchange(fi_sessions, exchange_id)
        assert arrived.state is ExchangeState.DELIVERED
        assert (arrived.evidence or b"").startswith(b"%PDF")
        assert arrived.evidence_format == "application/pdf"
        assert (arrived.partner, arrived.partner_country) == (SE_PARTY, "SE")
        assert (arrived.evidence_title or "").startswith("Yhteenveto julkisista maksuista")  # in Finnish
        [provided] = se_exchanges(session)
        assert provided.state is ExchangeState.DELIVERED
        assert provided.decided_at is not None
        released = session.execute(
            text("SELECT actor, purpose, channel FROM access_log WHERE action = 'release_evidence' AND person_id = :p"),
            {"p": PERSON_PNR},
        ).all()
        assert released == [(f"oots:{FI_PARTY}", "release_evidence", "oots")]
        overview = se_web.get("/me", params={"lang": "en"}).text  # the person reads who got it, and why
        assert "Was sent the evidence you saw and approved (Kela)" in html.unescape(overview)
        assert "Authority in another country" in overview
        with fi_sessions() as fi:
            fetched = fi.execute(
                text("SELECT actor, purpose FROM access_log WHERE action = 'receive_evidence' AND person_id = :p"),
                {"p": PERSON_PNR},
            ).all()
        assert fetched == [(f"oots:{SE_PARTY}", "fetch_evidence")]

    def test_every_message_either_side_wrote_follows_the_official_rules(
        self,
        session: Session,
        fi_sessions: sessionmaker[Session],
        se_gateway: service.Gateway,
        fi_gateway: service.Gateway,
        se_web: TestClient,
    ) -> None:
        exchange_id = ask(fi_sessions, fi_gateway)
        round_trip(session, fi_sessions, se_gateway, fi_gateway)
        location = fi_exchange(fi_sessions, exchange_id).preview_location
        assert location is not None
        preview_at_se(se_web, location, exchange_id, "approve")
        back_at_fi(session, fi_sessions, se_gateway, fi_gateway, exchange_id)

        messages = all_messages(session, fi_sessions)
        assert sorted(a for a, _ in messages) == sorted(
            [transport.REQUEST, transport.REQUEST, transport.EXCEPTION, transport.RESPONSE]
        )
        for action, document in messages:
            for rules in RULES[action]:
                assert rules_run(rules, document) > 5, rules  # the rules really applied to the message
                assert failures(rules, document) == [], (action, rules)


class TestNothingWithoutTheApproval:
    def test_a_refusal_sends_nothing_and_the_requester_is_told(
        self,
        session: Session,
        fi_sessions: sessionmaker[Session],
        se_gateway: service.Gateway,
        fi_gateway: service.Gateway,
        se_web: TestClient,
    ) -> None:
        exchange_id = ask(fi_sessions, fi_gateway)
        round_trip(session, fi_sessions, se_gateway, fi_gateway)
        location = fi_exchange(fi_sessions, exchange_id).preview_location
        assert location is not None
        preview_at_se(se_web, location, exchange_id, "refuse")
        back_at_fi(session, fi_sessions, se_gateway, fi_gateway, exchange_id)

        told = fi_exchange(fi_sessions, exchange_id)
        assert told.state is ExchangeState.REFUSED
        assert told.evidence is None
        assert told.error_code == edm.ErrorCode.AUTHORIZATION.value
        assert transport.RESPONSE not in [a for a, _ in all_messages(session, fi_sessions)]
        assert session.execute(text("SELECT count(*) FROM access_log WHERE action = 'release_evidence'")).scalar() == 0

    def test_asking_again_before_the_preview_sends_the_person_to_it_again(
        self,
        session: Session,
        fi_sessions: sessionmaker[Session],
        se_gateway: service.Gateway,
        fi_gateway: service.Gateway,
    ) -> None:
        exchange_id = ask(fi_sessions, fi_gateway)
        round_trip(session, fi_sessions, se_gateway, fi_gateway)
        back_at_fi(session, fi_sessions, se_gateway, fi_gateway, exchange_id)
        assert fi_exchange(fi_sessions, exchange_id).state is ExchangeState.PREVIEW
        assert [e.state for e in se_exchanges(session)] == [ExchangeState.PREVIEW]

    def test_a_preview_address_opens_nothing_for_another_person(
        self,
        session: Session,
        fi_sessions: sessionmaker[Session],
        se_gateway: service.Gateway,
        fi_gateway: service.Gateway,
        se_web: TestClient,
    ) -> None:
        exchange_id = ask(fi_sessions, fi_gateway)
        round_trip(session, fi_sessions, se_gateway, fi_gateway)
        location = fi_exchange(fi_sessions, exchange_id).preview_location
        assert location is not None
        assert dev_login(se_web, OTHER_PNR).status_code == 303
        assert se_web.get(location).status_code == 404
        assert se_web.get(f"{location}/statement.pdf").status_code == 404
        forged = se_web.post(urlsplit(location).path, data={"csrf": "x", "decision": "approve"})
        assert forged.status_code in (403, 404)
        assert [e.state for e in se_exchanges(session)] == [ExchangeState.PREVIEW]

    def test_the_way_back_goes_only_to_the_requester(
        self,
        session: Session,
        fi_sessions: sessionmaker[Session],
        se_gateway: service.Gateway,
        fi_gateway: service.Gateway,
        se_web: TestClient,
    ) -> None:
        exchange_id = ask(fi_sessions, fi_gateway)
        round_trip(session, fi_sessions, se_gateway, fi_gateway)
        location = fi_exchange(fi_sessions, exchange_id).preview_location
        assert location is not None
        assert dev_login(se_web, PERSON_PNR).status_code == 303
        page = se_web.get(location, params={"returnurl": "https://evil.example/steal"})
        assert "evil.example" not in page.text
        decided = se_web.post(
            urlsplit(location).path,
            data={"csrf": csrf_of(page.text), "decision": "approve", "returnurl": "https://evil.example/steal"},
            follow_redirects=False,
        )
        assert decided.headers["location"] == urlsplit(location).path


class TestWhatIsRefused:
    def test_a_person_no_one_here_can_be_told_from_gets_not_found(
        self,
        session: Session,
        fi_sessions: sessionmaker[Session],
        se_gateway: service.Gateway,
        fi_gateway: service.Gateway,
    ) -> None:
        stranger = service.Applicant(IdScheme.FI_HETU.value, "131052-308T", "Kalle", "Tuntematon")
        exchange_id = ask(fi_sessions, fi_gateway, stranger)
        round_trip(session, fi_sessions, se_gateway, fi_gateway)
        told = fi_exchange(fi_sessions, exchange_id)
        assert told.state is ExchangeState.FAILED
        assert told.error_code == edm.ErrorCode.NOT_FOUND.value
        [provided] = se_exchanges(session)
        assert (provided.person_id, provided.preview_token) == (None, None)

    def test_evidence_no_one_provides_there_is_not_asked_for(
        self, fi_sessions: sessionmaker[Session], fi_gateway: service.Gateway
    ) -> None:
        with pytest.raises(NoProviderError, match="no authority in DE"), unit_of_work(fi_sessions) as fi:
            service.ask(
                fi,
                fi_gateway,
                applicant=AINO,
                evidence_type=STATEMENT,
                country="DE",
                procedure="U1",
                application_pk=None,
                language="fi",
                now=utcnow(),
            )
        with fi_sessions() as fi:
            assert fi.execute(text("SELECT count(*) FROM evidence_exchanges")).scalar() == 0

    def test_a_message_signed_by_another_authority_is_refused_and_stores_nothing(
        self, session: Session, se_gateway: service.Gateway, pki: Pki, oots_directory: Any
    ) -> None:
        """DE's gateway signs a request that claims to come from FI's."""
        impostor = service.Gateway(FI_PARTY, pki.de, oots_directory, FI_BASE)
        request = _request_to_se(se_gateway)
        _, headers, body = as4.build_message(
            transport.OotsProfile,
            impostor.local(),
            as4.remote_party(SE_PARTY, pki.se.certificate, party_type=transport.PARTY_TYPE),
            edm.request_xml(request),
            args=as4.ProfileMessageArgs(
                action=transport.REQUEST,
                properties=transport.properties(FI_PARTY, SE_PARTY),
                mime_type=transport.REGREP_MIME_TYPE,
            ),
            message_id="forged@test",
            conversation_id="forged",
        )
        status, answer = to_se(session, se_gateway)("", headers, body)
        assert status == 400
        assert (as4.signal_error(answer) or "").startswith("EBMS:0101")  # the signing certificate is refused
        assert se_exchanges(session) == []

    def test_a_request_naming_another_requester_than_its_signer_is_refused(
        self, session: Session, se_gateway: service.Gateway, fi_gateway: service.Gateway, pki: Pki
    ) -> None:
        request = _request_to_se(se_gateway)
        named_de = edm.EvidenceRequest(
            **{**request.__dict__, "requester": edm.Agent("DE123456789", "9930", "DRV", "DE")}
        )
        status, answer = _send(fi_gateway, pki, edm.request_xml(named_de), session, se_gateway, "other@test")
        assert status == 400
        assert "names DE123456789 as requester" in (as4.signal_error(answer) or "")
        assert se_exchanges(session) == []

    def test_a_message_sent_twice_is_taken_in_once_and_answered_with_the_same_receipt(
        self, session: Session, se_gateway: service.Gateway, fi_gateway: service.Gateway, pki: Pki
    ) -> None:
        xml = edm.request_xml(_request_to_se(se_gateway))
        first = _send(fi_gateway, pki, xml, session, se_gateway, "twice@test")
        _, headers, body = _built(fi_gateway, pki, xml, "twice@test")
        second = to_se(session, se_gateway)("", headers, body)
        assert first[0] == second[0] == 200
        assert second[1] == first[1]
        assert len(se_exchanges(session)) == 1
        pending = session.execute(text("SELECT count(*) FROM evidence_messages WHERE direction = 'out'")).scalar()
        assert pending == 1  # one answer, not two


def _request_to_se(se_gateway: service.Gateway) -> edm.EvidenceRequest:
    directory = se_gateway.directory()
    known = directory.evidence_types[STATEMENT]
    return edm.EvidenceRequest(
        request_id=edm.new_request_id(),
        issued_at=utcnow(),
        procedure="U1",
        requirement=known.requirement,
        requester=directory.party(FI_PARTY).agent,
        provider=directory.party(SE_PARTY).agent,
        person=edm.Person(f"SE/FI/{PERSON_PNR}", "Virtanen", "Aino", dt.date(1952, 3, 4), "High"),
        evidence_type=known.evidence_type,
        preview_possible=True,
        explicit_request=True,
    )


def _built(fi_gateway: service.Gateway, pki: Pki, xml: bytes, message_id: str) -> tuple[Any, dict[str, str], bytes]:
    return as4.build_message(
        transport.OotsProfile,
        fi_gateway.local(),
        as4.remote_party(SE_PARTY, pki.se.certificate, party_type=transport.PARTY_TYPE),
        xml,
        args=as4.ProfileMessageArgs(
            action=transport.REQUEST,
            properties=transport.properties(FI_PARTY, SE_PARTY),
            mime_type=transport.REGREP_MIME_TYPE,
        ),
        message_id=message_id,
        conversation_id=message_id,
    )


def _send(
    fi_gateway: service.Gateway, pki: Pki, xml: bytes, session: Session, se_gateway: service.Gateway, message_id: str
) -> tuple[int, bytes]:
    _, headers, body = _built(fi_gateway, pki, xml, message_id)
    return to_se(session, se_gateway)("", headers, body)


def test_the_preview_address_carries_the_way_back() -> None:
    exchange = EvidenceExchange(preview_location=f"{SE_BASE}/me/evidence/preview/abc")
    address = service.preview_address(exchange, f"{FI_BASE}/me/evidence/1/returned")
    assert parse_qs(urlsplit(address).query)["returnurl"] == [f"{FI_BASE}/me/evidence/1/returned"]


class TestKeptNoLongerThanNeeded:
    def test_a_preview_not_done_in_time_lapses_and_the_requester_is_told_so(
        self,
        session: Session,
        fi_sessions: sessionmaker[Session],
        se_gateway: service.Gateway,
        fi_gateway: service.Gateway,
        se_web: TestClient,
    ) -> None:
        exchange_id = ask(fi_sessions, fi_gateway)
        round_trip(session, fi_sessions, se_gateway, fi_gateway)
        later = utcnow() + service.PREVIEW_TIME + dt.timedelta(minutes=1)
        assert service.expire(session, now=later) == (1, 0)
        [provided] = se_exchanges(session)
        assert provided.state is ExchangeState.EXPIRED
        location = fi_exchange(fi_sessions, exchange_id).preview_location
        assert location is not None
        assert dev_login(se_web, PERSON_PNR).status_code == 303
        assert "Approve" not in se_web.get(location, params={"lang": "en"}).text  # nothing left to decide
        back_at_fi(session, fi_sessions, se_gateway, fi_gateway, exchange_id)
        told = fi_exchange(fi_sessions, exchange_id)
        assert (told.state, told.error_code) == (ExchangeState.EXPIRED, edm.ErrorCode.TIMEOUT.value)

    def test_evidence_is_deleted_when_its_keeping_time_is_over(
        self,
        session: Session,
        fi_sessions: sessionmaker[Session],
        se_gateway: service.Gateway,
        fi_gateway: service.Gateway,
        se_web: TestClient,
    ) -> None:
        exchange_id = ask(fi_sessions, fi_gateway)
        round_trip(session, fi_sessions, se_gateway, fi_gateway)
        location = fi_exchange(fi_sessions, exchange_id).preview_location
        assert location is not None
        preview_at_se(se_web, location, exchange_id, "approve")
        back_at_fi(session, fi_sessions, se_gateway, fi_gateway, exchange_id)
        assert fi_exchange(fi_sessions, exchange_id).evidence is not None
        with unit_of_work(fi_sessions) as fi:
            assert service.expire(fi, now=utcnow() + service.KEPT - dt.timedelta(days=1)) == (0, 0)
            assert service.expire(fi, now=utcnow() + service.KEPT + dt.timedelta(days=1)) == (0, 1)
        gone = fi_exchange(fi_sessions, exchange_id)
        assert (gone.state, gone.evidence) == (ExchangeState.EXPIRED, None)


def test_evidence_about_another_person_than_the_one_asked_for_is_not_kept(
    fi_sessions: sessionmaker[Session], se_gateway: service.Gateway, fi_gateway: service.Gateway, pki: Pki
) -> None:
    """A provider that answers with someone else's evidence: FI keeps nothing and says why."""
    exchange_id = ask(fi_sessions, fi_gateway)
    asked = fi_exchange(fi_sessions, exchange_id)
    directory = se_gateway.directory()
    known = directory.evidence_types[STATEMENT]
    someone_else = edm.Person(f"SE/FI/{OTHER_PNR}", "Andersson", "Anna", dt.date(1981, 12, 28), "")
    content_id = "0123456789abcdef@sesaldo"
    response = edm.EvidenceResponse(
        response_id=str(uuid.uuid4()),
        request_id=asked.request_id,
        issued_at=utcnow(),
        provider=directory.party(SE_PARTY).agent,
        requester=directory.party(FI_PARTY).agent,
        person=someone_else,
        evidence_type=known.evidence_type,
        evidence=edm.Evidence(str(uuid.uuid4()), utcnow().date(), "FI", content_id, "statement.pdf"),
    )
    _, headers, body = as4.build_message(
        transport.OotsProfile,
        se_gateway.local(),
        as4.remote_party(FI_PARTY, pki.fi.certificate, party_type=transport.PARTY_TYPE),
        edm.response_xml(response),
        args=as4.ProfileMessageArgs(
            action=transport.RESPONSE,
            properties=transport.properties(SE_PARTY, FI_PARTY),
            mime_type=transport.REGREP_MIME_TYPE,
            attachments=[as4.Attachment(content_id=content_id, mime_type="application/pdf", content=b"%PDF-1.7 x")],
        ),
        message_id="another-person@test",
        conversation_id="another-person",
    )
    status, _ = to_fi(fi_sessions, fi_gateway)("", headers, body)
    assert status == 200  # taken in (and answered with a receipt): the refusal is the requester's own
    told = fi_exchange(fi_sessions, exchange_id)
    assert (told.state, told.evidence) == (ExchangeState.FAILED, None)
    assert "another person" in (told.error_message or "")


def test_the_evidence_goes_when_its_application_is_withdrawn(
    se_web: TestClient, session: Session, se_gateway: service.Gateway
) -> None:
    """Abandoned halfway: the person withdraws the application, and the evidence kept for it goes."""
    reference = apply_pda1(se_web)
    exchange = evidence_for(session, reference)
    page = se_web.get(f"/me/applications/{reference}")
    assert se_web.post(f"/me/applications/{reference}/withdraw", data={"csrf": csrf_of(page.text)}).status_code == 200
    assert service.expire(session, now=utcnow()) == (0, 1)
    session.refresh(exchange)
    assert (exchange.state, exchange.evidence) == (ExchangeState.EXPIRED, None)
