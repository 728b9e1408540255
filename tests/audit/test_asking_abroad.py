"""From an audit case to a cross-border case: an auditor working a case asks an institution abroad
whether it pays one of the case's persons a benefit (H_BUC_01); the cross-border case names the
audit case and the audit case lists it; only an auditor asks, only about the case's own persons."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from saldo.eessi import service
from saldo.eessi.service import Node, seds, signatures
from saldo.eessi.service.directory import entry, write
from saldo.eessi.service.keys import NodeKeys, issue_authority, issue_node
from saldo.kit.clock import today
from saldo.settings import Settings
from saldo.staff.models import Role
from saldo.staff.service import issue_staff_token
from tests.audit.conftest import World
from tests.audit.test_workbench import AUDITOR_PNR, case_on, case_person, log_in_as_staff, post_case
from tests.conftest import app_in_transaction
from tests.factories import account_record, auth, make_staff, pnr, se_iban
from tests.web_login import csrf_of, route_provider_calls_to

SE, FI = "SE:FKA01", "FI:KELA01"
ANALYST_PNR = "197503149127"
CASEWORKER_PNR = "198501179561"
H001 = {"benefitType": "old_age", "period": {"startDate": "2026-01-01"}, "question": "Paid for 2026?"}


@dataclass(frozen=True)
class Exchange:
    own: NodeKeys
    kela: NodeKeys
    directory: Path
    key: Path
    certificate: Path

    def node(self) -> Node:
        return Node(SE, self.own, self.directory)


@pytest.fixture
def exchange(tmp_path: Path) -> Exchange:
    """SE's keys and directory, with Kela in it."""
    authority = issue_authority()
    own, kela = issue_node(authority, SE), issue_node(authority, FI)
    own.write(tmp_path / "se.key", tmp_path / "se.pem")
    directory = tmp_path / "directory.json"
    write(directory, [
        entry(SE, "Försäkringskassan", "https://127.0.0.1:1/eessi/as4", ["H_BUC_01"], [own.certificate_pem]),
        entry(FI, "Kela", "https://127.0.0.1:2/eessi/as4", ["H_BUC_01", "H_BUC_07"], [kela.certificate_pem]),
    ])  # fmt: skip
    return Exchange(own, kela, directory, tmp_path / "se.key", tmp_path / "se.pem")


@pytest.fixture
def node_app(settings: Settings, engine: Engine, connection: Connection, exchange: Exchange) -> FastAPI:
    """The pages of a node that takes part in the exchange: SE, with Kela in its directory."""
    changes = {
        "dev_login": True, "eessi_institution": SE, "eessi_key": exchange.key,
        "eessi_certificate": exchange.certificate, "eessi_directory": exchange.directory,
    }  # fmt: skip
    app = app_in_transaction(settings.model_copy(update=changes), engine, connection)
    route_provider_calls_to(app)
    return app


@pytest.fixture
def node_web(node_app: FastAPI) -> TestClient:
    with TestClient(node_app) as client:
        return client


def take(web: TestClient, case_id: int) -> None:
    """The logged-in auditor takes the case from the list of cases."""
    listed = web.get("/staff/cases", params={"lang": "en"}).text
    taken = web.post(
        f"/staff/cases/{case_id}/assign", data={"to": "web.auditor", "csrf": csrf_of(listed)}, follow_redirects=False
    )
    assert taken.status_code == 303, taken.text


def question(person: tuple[str, str], **changes: str) -> dict[str, str]:
    return {
        "person": f"{person[0]}:{person[1]}",
        "family_name": "Andersson",
        "forename": "Anna",
        "partner": FI,
        "benefit_type": "old_age",
        "start": (today() - dt.timedelta(days=200)).isoformat(),
        "end": (today() - dt.timedelta(days=20)).isoformat(),
        "question": "Betalar Kela ålderspension till personen för perioden?",
        **changes,
    }


def test_an_auditor_asks_an_institution_abroad_from_the_case_page(
    node_web: TestClient, session: Session, world: World
) -> None:
    case = case_on(session, world, "double")
    log_in_as_staff(node_web, session, "web.auditor", AUDITOR_PNR, Role.AUDITOR)
    take(node_web, case.id)
    page = node_web.get(f"/staff/cases/{case.id}", params={"lang": "en"}).text
    assert "Ask an institution abroad" in page
    assert f'<option value="{FI}">Kela ({FI})</option>' in page
    assert f'<option value="{SE}"' not in page  # not this node itself
    assert "No institution abroad has been asked." in page
    person = case_person(session, case.id)

    status, refused = post_case(node_web, case.id, "abroad", question(("se_personnummer", "194001019806")))
    assert (status, "is not a person of case" in refused) == (422, True)
    status, refused = post_case(node_web, case.id, "abroad", question(person, end="2000-01-01"))
    assert (status, "period: it ends before it starts" in refused) == (422, True)
    status, refused = post_case(node_web, case.id, "abroad", question(person, partner="DE:DRV01"))
    assert (status, "DE:DRV01 is not in the institution directory" in refused) == (422, True)
    status, refused = post_case(node_web, case.id, "abroad", question(person, benefit_type="lottery"))
    assert (status, "benefit: choose one from the list" in refused) == (422, True)
    assert session.execute(text("SELECT count(*) FROM eessi_cases")).scalar() == 0  # nothing half-done

    assert post_case(node_web, case.id, "abroad", question(person))[0] == 303
    asked = session.execute(
        text("SELECT case_id, buc_type, partner, person_scheme, person_id, audit_case_id, opened_by FROM eessi_cases")
    ).one()
    assert tuple(asked[1:]) == ("H_BUC_01", FI, person[0], person[1], case.id, "web.auditor")
    h001 = session.execute(text("SELECT sed_type, status, content FROM eessi_documents")).one()
    assert (h001.sed_type, h001.status) == ("H001", "queued")
    named = h001.content["person"]
    assert (named["familyName"], named["forename"]) == ("Andersson", "Anna")
    assert named["PINPersonInEachInstitution"] == [
        {"personalIdentificationNumber": person[1], "country": "SE", "institutionID": None}
    ]
    assert h001.content["fields"]["benefitType"] == "old_age"
    notes = session.execute(text("SELECT body->>'text' FROM case_events WHERE case_id = :c AND kind = 'note'"),
                            {"c": case.id}).scalars().all()  # fmt: skip
    assert notes == [f"Asked {FI} abroad (H_BUC_01, cross-border case {asked.case_id}): {question(person)['question']}"]

    page = node_web.get(f"/staff/cases/{case.id}", params={"lang": "en"}).text
    assert f'<a href="/staff/cross-border/{asked.case_id}">{asked.case_id}</a> · {FI} · open' in page
    cross_border = node_web.get(f"/staff/cross-border/{asked.case_id}", params={"lang": "en"}).text
    assert f'<a href="/staff/cases/{case.id}">audit case {case.id}</a>' in cross_border
    detail = node_web.get(f"/staff/cross-border/{asked.case_id}", params={"lang": "sv"}).text
    assert f"granskningsärende {case.id}" in detail


def test_only_an_auditor_asks_abroad(node_web: TestClient, session: Session, world: World) -> None:
    case = case_on(session, world, "double")
    log_in_as_staff(node_web, session, "web.analyst", ANALYST_PNR, Role.ANALYST)
    page = node_web.get(f"/staff/cases/{case.id}", params={"lang": "en", "purpose": "quality_review"}).text
    assert "Ask an institution abroad" not in page
    status, _ = post_case(
        node_web, case.id, "abroad", question(case_person(session, case.id)), purpose="quality_review"
    )
    assert status == 403
    assert session.execute(text("SELECT count(*) FROM eessi_cases")).scalar() == 0


def test_a_node_outside_the_exchange_offers_no_asking_abroad(web: TestClient, session: Session, world: World) -> None:
    case = case_on(session, world, "double")
    log_in_as_staff(web, session, "web.auditor", AUDITOR_PNR, Role.AUDITOR)
    take(web, case.id)
    page = web.get(f"/staff/cases/{case.id}", params={"lang": "en"}).text
    assert "Ask an institution abroad" not in page
    status, refused = post_case(web, case.id, "abroad", question(case_person(session, case.id)))
    assert (status, "this node takes no part in the cross-border exchange" in refused) == (422, True)


def twins_case(web: TestClient, session: Session, exchange: Exchange, bank_token: str) -> tuple[str, str]:
    """Kela tells of a death naming only "Aino Virtanen, born 4 March 1952"; two account holders here
    fit. Returns them."""
    aino, namesake = pnr(1, born="19520304"), pnr(2, born="19520304")
    records = [
        account_record(se_iban(1), (aino, "Aino Virtanen")),
        account_record(se_iban(2), (namesake, "Aino Virtanen")),
    ]
    assert web.post("/api/v1/bank/accounts", json={"accounts": records}, headers=auth(bank_token)).status_code == 200
    sed = seds.Sed(
        sed="H070", sed_g_ver="4", sed_ver="2", document_id="d-twins", case_id="FI:KELA01-twins", buc_type="H_BUC_07",
        sender=FI, receiver=SE, content=seds.H070(date_death=dt.date(2026, 5, 1), country_death="FI"),
        person=seds.PersonIdentification(family_name="Virtanen", forename="Aino", date_birth=dt.date(1952, 3, 4)),
    )  # fmt: skip
    signed = signatures.sign(seds.to_element(sed), exchange.kela)
    node = exchange.node()
    assert (
        service.take_in_delivered(session, node, signed, [exchange.kela.certificate], message_id="m-twins")
        == "accepted"
    )
    session.commit()
    return aino, namesake


def test_staff_confirm_who_a_case_is_about_from_its_candidates(
    node_web: TestClient, session: Session, exchange: Exchange, bank_token: str
) -> None:
    aino, namesake = twins_case(node_web, session, exchange, bank_token)
    log_in_as_staff(node_web, session, "web.caseworker", CASEWORKER_PNR, Role.CASEWORKER)
    page = node_web.get("/staff/cross-border/FI:KELA01-twins", params={"lang": "en"}).text
    assert "Who is it?" in page
    assert f'value="se_personnummer:{aino}"' in page
    assert f'value="se_personnummer:{namesake}"' in page
    logged = session.execute(
        text("SELECT person_id, purpose, action, actor FROM access_log WHERE action = 'read_cross_border_candidate'")
    ).all()
    assert sorted(tuple(r) for r in logged) == [
        (aino, "identify_abroad", "read_cross_border_candidate", "web.caseworker"),
        (namesake, "identify_abroad", "read_cross_border_candidate", "web.caseworker"),
    ]
    confirm = {"person": f"se_personnummer:{namesake}", "csrf": csrf_of(page)}
    refused = node_web.post(
        "/staff/cross-border/FI:KELA01-twins/person", data={**confirm, "person": "se_personnummer:12"}
    )
    assert (refused.status_code, "person:" in refused.text) == (422, True)
    done = node_web.post("/staff/cross-border/FI:KELA01-twins/person", data=confirm, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/staff/cross-border/FI:KELA01-twins")
    assert [f.kind.value for f in service.facts_about(session, "se_personnummer", namesake)] == ["death"]
    assert "Who is it?" not in node_web.get("/staff/cross-border/FI:KELA01-twins", params={"lang": "en"}).text
    again = node_web.post("/staff/cross-border/FI:KELA01-twins/person", data=confirm)
    assert (again.status_code, "linked already" in again.text) == (422, True)
    assert node_web.post("/staff/cross-border/FI:KELA01-twins/person", data={**confirm, "csrf": "x"}).status_code == 403


def test_an_undeliverable_sed_waits_on_the_workbench_and_is_sent_again(
    node_web: TestClient, session: Session, exchange: Exchange
) -> None:
    node = dataclasses.replace(exchange.node(), retry_hours=0.0)  # gives up at the first failure
    case = service.open_case(
        session, node, buc_type="H_BUC_01", partner=FI, content=H001, person=None, purpose="test", by="test"
    )

    def down(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        raise OSError("connection refused")

    outcomes = []
    while (delivery := service.deliver_one(session, node, down)) is not None:
        outcomes.append(delivery.outcome)
    assert outcomes == ["built", "undeliverable"]
    session.commit()
    log_in_as_staff(node_web, session, "web.auditor", AUDITOR_PNR, Role.AUDITOR)
    waiting = node_web.get("/staff/workbench", params={"lang": "en"}).text
    assert '<a href="/staff/cross-border">Cross-border documents that could not be delivered</a>: 1' in waiting
    listed = node_web.get("/staff/cross-border", params={"lang": "en"}).text
    assert "open · <strong>1 could not be delivered</strong>" in listed
    page = node_web.get(f"/staff/cross-border/{case.case_id}", params={"lang": "en"}).text
    [document] = service.documents(session, case)
    action = f"/staff/cross-border/{case.case_id}/documents/{document.document_id}/send-again"
    assert f'action="{action}"' in page
    again = node_web.post(action, data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert again.status_code == 303
    session.expire_all()
    assert (document.status.value, document.attempts, document.reason) == ("queued", 0, None)
    jobs = session.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'eessi_deliver'")).scalar()
    assert jobs == 1  # the outbox is woken at once
    twice = node_web.post(action, data={"csrf": csrf_of(page)})
    assert (twice.status_code, "only an undeliverable SED is sent again" in twice.text) == (422, True)
    assert "could not be delivered" not in node_web.get("/staff/workbench", params={"lang": "en"}).text


def test_a_directory_that_cannot_be_read_is_said_plainly(
    node_web: TestClient, session: Session, world: World, exchange: Exchange
) -> None:
    case = case_on(session, world, "double")
    log_in_as_staff(node_web, session, "web.auditor", AUDITOR_PNR, Role.AUDITOR)
    take(node_web, case.id)
    exchange.directory.write_text('{"institutions": [{"id": "SE:FKA01"}]}', encoding="utf-8")  # a broken edit
    page = node_web.get(f"/staff/cases/{case.id}", params={"lang": "en"}).text
    assert "Ask an institution abroad" not in page
    status, refused = post_case(node_web, case.id, "abroad", question(case_person(session, case.id)))
    assert status == 422
    assert f"{exchange.directory}: institutions/0/name: Field required" in refused
    assert session.execute(text("SELECT count(*) FROM eessi_cases")).scalar() == 0


def test_the_api_shows_the_candidates_to_whoever_confirms_and_logs_each(
    node_web: TestClient, session: Session, exchange: Exchange, bank_token: str
) -> None:
    aino, namesake = twins_case(node_web, session, exchange, bank_token)
    make_staff(session, "api.caseworker", CASEWORKER_PNR, Role.CASEWORKER)
    make_staff(session, "api.supervisor", AUDITOR_PNR, Role.SUPERVISOR)
    tokens = {u: issue_staff_token(session, username=u, label="test") for u in ("api.caseworker", "api.supervisor")}
    session.commit()
    url = "/api/v1/staff/eessi/cases/FI:KELA01-twins"
    detail = node_web.get(url, headers=auth(tokens["api.caseworker"])).json()
    assert detail["person_match"] == "unmatched"
    assert [c["person_id"] for c in detail["match_candidates"]] == [aino, namesake]
    listed = node_web.get("/api/v1/staff/eessi/cases", headers=auth(tokens["api.caseworker"])).json()
    assert "match_candidates" not in listed[0]
    supervised = node_web.get(url, headers=auth(tokens["api.supervisor"])).json()
    assert supervised["match_candidates"] == []
    logged = session.execute(
        text("SELECT actor, channel, person_id FROM access_log WHERE purpose = 'identify_abroad' ORDER BY seq")
    ).all()
    assert [tuple(r) for r in logged] == [("api.caseworker", "api", aino), ("api.caseworker", "api", namesake)]


def test_reading_a_linked_case_through_the_api_is_logged(
    node_web: TestClient, session: Session, exchange: Exchange, bank_token: str
) -> None:
    """A case's SEDs name the person (names, birth date, identification numbers): each read of a
    linked case through the API is in the person's access log."""
    aino, _ = twins_case(node_web, session, exchange, bank_token)
    make_staff(session, "api.caseworker", CASEWORKER_PNR, Role.CASEWORKER)
    make_staff(session, "api.supervisor", AUDITOR_PNR, Role.SUPERVISOR)
    tokens = {u: issue_staff_token(session, username=u, label="test") for u in ("api.caseworker", "api.supervisor")}
    session.commit()
    url = "/api/v1/staff/eessi/cases/FI:KELA01-twins"
    linked = node_web.post(
        f"{url}/person",
        json={"person_scheme": "se_personnummer", "person_id": aino},
        headers=auth(tokens["api.caseworker"]),
    )
    assert linked.status_code == 200, linked.text
    assert node_web.get(url, headers=auth(tokens["api.supervisor"])).status_code == 200
    logged = session.execute(
        text("SELECT actor, role, person_id FROM access_log WHERE purpose = 'cross_border_work' ORDER BY seq")
    ).all()
    assert [tuple(r) for r in logged] == [
        ("api.caseworker", "caseworker", aino),
        ("api.supervisor", "supervisor", aino),
    ]


def test_staff_undo_a_wrong_link_on_the_page_and_in_the_api(
    node_web: TestClient, session: Session, exchange: Exchange, bank_token: str
) -> None:
    aino, namesake = twins_case(node_web, session, exchange, bank_token)
    case = service.get_case(session, "FI:KELA01-twins")
    service.confirm_person(session, exchange.node(), case, "se_personnummer", namesake, by="web.caseworker")
    session.commit()
    url = "/staff/cross-border/FI:KELA01-twins"
    log_in_as_staff(node_web, session, "web.caseworker", CASEWORKER_PNR, Role.CASEWORKER)
    page = node_web.get(url, params={"lang": "en"}).text
    assert f'action="{url}/person/undo"' in page
    undo = {"reason": "She is alive: her bank says so", "csrf": csrf_of(page)}
    assert node_web.post(f"{url}/person/undo", data={**undo, "csrf": "x"}).status_code == 403
    refused = node_web.post(f"{url}/person/undo", data={**undo, "reason": "  "})
    assert (refused.status_code, "say why the link is wrong" in refused.text) == (422, True)
    done = node_web.post(f"{url}/person/undo", data=undo, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, url)
    page = node_web.get(url, params={"lang": "en"}).text
    assert "Who is it?" in page  # waits for staff again, with the candidates
    assert "<strong>withdrawn</strong>: She is alive: her bank says so" in page
    assert f'action="{url}/person/undo"' not in page
    assert service.facts_about(session, "se_personnummer", namesake) == []

    # In the API: a supervisor reads but does not undo; an unmatched case has no link to undo.
    make_staff(session, "api.caseworker", AUDITOR_PNR, Role.CASEWORKER)
    make_staff(session, "api.supervisor", "198112189876", Role.SUPERVISOR)
    tokens = {u: issue_staff_token(session, username=u, label="test") for u in ("api.caseworker", "api.supervisor")}
    session.commit()
    api = "/api/v1/staff/eessi/cases/FI:KELA01-twins"
    body = {"reason": "wrong"}
    assert node_web.post(f"{api}/person/undo", json=body, headers=auth(tokens["api.supervisor"])).status_code == 403
    again = node_web.post(f"{api}/person/undo", json=body, headers=auth(tokens["api.caseworker"]))
    assert (again.status_code, "is unmatched" in again.json()["detail"]) == (409, True)
    node_web.post(f"{api}/person", json={"person_scheme": "se_personnummer", "person_id": aino},
                  headers=auth(tokens["api.caseworker"]))  # fmt: skip
    detail = node_web.post(f"{api}/person/undo", json=body, headers=auth(tokens["api.caseworker"])).json()
    assert (detail["person_match"], [u["person_id"] for u in detail["undone_links"]]) == (
        "unmatched",
        [namesake, aino],
    )
