"""A PDA1 from the LA_BUC it was decided in: the posting's A009, or the determination's A003 (and
the A012 that accepts it), fill in the decision; the issuer completes what the SEDs do not say. Only
the institution whose legislation applies drafts one, never from a disputed determination."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.eessi.models import CaseStatus, CrossBorderCase, CrossBorderDocument, Direction, DocumentStatus, PersonMatch
from saldo.eessi.service.seds import content_of
from saldo.kit.clock import today
from saldo.staff.models import Role
from tests.credentials.test_issuing import PERSON, decision_body
from tests.factories import make_staff
from tests.web_login import dev_login

HERE, THERE = "SE:FKA01", "FI:KELA01"  # this installation (tests.credentials.conftest.INSTITUTION) and a partner
START = today() + dt.timedelta(days=10)
END = START + dt.timedelta(days=300)
PERIOD = {"startDate": START.isoformat(), "endDate": END.isoformat()}
DRAFT = "/api/v1/staff/credentials/decisions/draft"


def _case(session: Session, buc_type: str, *, owner: str = HERE, person_id: str | None = PERSON) -> CrossBorderCase:
    case = CrossBorderCase(
        case_id=f"{owner}-{uuid.uuid4().hex[:12]}",
        buc_type=buc_type,
        owner=owner,
        counterparty=THERE if owner == HERE else HERE,
        partner=THERE,
        status=CaseStatus.OPEN,
        person_scheme="se_personnummer" if person_id else None,
        person_id=person_id,
        person_match=PersonMatch.IDENTIFIER if person_id else None,
        opened_by="test",
    )
    session.add(case)
    session.flush()
    return case


def _sed(session: Session, case: CrossBorderCase, sed_type: str, fields: dict[str, Any], *, sender: str) -> str:
    content_of(sed_type, fields)  # as the exchange stores it: a valid SED of its type
    outgoing = sender == HERE
    document_id = uuid.uuid4().hex
    session.add(
        CrossBorderDocument(
            case_pk=case.id,
            document_id=document_id,
            message_id=f"{document_id}@test",
            sed_type=sed_type,
            direction=Direction.OUT if outgoing else Direction.IN,
            sender=sender,
            receiver=THERE if outgoing else HERE,
            content={"person": None, "fields": fields, "version": "4.2"},
            xml=b"<SED/>",
            status=DocumentStatus.DELIVERED if outgoing else DocumentStatus.ACCEPTED,
            created_by="test",
        )
    )
    session.flush()
    return document_id


def test_a_posting_fills_in_the_decision_and_the_issuer_completes_it(
    issuer_client: TestClient, officer: dict[str, str], session: Session
) -> None:
    case = _case(session, "LA_BUC_04")
    a009 = _sed(session, case, "A009", {"employer": "Bygg AB", "countryWork": "DE", "period": PERIOD}, sender=HERE)
    session.commit()
    draft = issuer_client.get(DRAFT, params={"eessi_case_id": case.case_id}, headers=officer)
    assert draft.status_code == 200, draft.text
    body = draft.json()
    assert (body["person_id"], body["legislation_country"], body["status_confirmation"]) == (PERSON, "SE", "01")
    assert (body["starting_date"], body["ending_date"]) == (START.isoformat(), END.isoformat())
    assert body["employer"] == {"name": "Bygg AB", "country": "SE"}
    assert body["work_address"] == {"country": "DE"}
    assert (body["standing"], body["sources"]) == ("notified", [f"A009 {a009}"])
    assert body["missing"] == ["employer.id", "work_address.locality"]
    # the issuer completes what the case does not say, and records the decision in the case
    completed = decision_body(
        **{k: body[k] for k in ("legislation_country", "status_confirmation", "starting_date", "ending_date")},
        employer={**body["employer"], "id": "5560000001"},
        work_address={**body["work_address"], "locality": "Berlin"},
        eessi_case_id=case.case_id,
    )
    recorded = issuer_client.post("/api/v1/staff/credentials/decisions", json=completed, headers=officer)
    assert recorded.status_code == 201, recorded.text
    issued = issuer_client.post(
        "/api/v1/staff/credentials", json={"type": "pda1", "decision_id": recorded.json()["id"]}, headers=officer
    )
    assert issued.status_code == 201, issued.text
    logged = session.execute(text("SELECT action, purpose FROM access_log WHERE person_id = :p"), {"p": PERSON}).all()
    assert ("read_cross_border_case", "issue_credentials") in [tuple(row) for row in logged]


@pytest.mark.parametrize(("answer", "standing"), [(None, "provisional"), ("A012", "accepted")])
def test_a_determination_is_provisional_until_accepted(
    issuer_client: TestClient, officer: dict[str, str], session: Session, answer: str | None, standing: str
) -> None:
    case = _case(session, "LA_BUC_02")
    _sed(session, case, "A003", {"legislationCountry": "SE", "period": PERIOD}, sender=HERE)
    if answer:
        _sed(session, case, answer, {}, sender=THERE)
    session.commit()
    body = issuer_client.get(DRAFT, params={"eessi_case_id": case.case_id}, headers=officer).json()
    assert (body["standing"], body["status_confirmation"], body["legislation_country"]) == (standing, "02", "SE")
    assert body["missing"] == [
        "employer.id", "employer.name", "employer.country", "work_address.locality", "work_address.country",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("buc_type", "seds", "owner", "person_id", "status", "says"),
    [
        ("LA_BUC_02", [("A003", {"legislationCountry": "SE", "period": PERIOD}, HERE),
                       ("A004", {"reason": "no"}, THERE)], HERE, PERSON, 422, "disagrees"),
        ("LA_BUC_04", [("A009", {"employer": "Oy Ab", "countryWork": "SE", "period": PERIOD}, THERE)],
         THERE, PERSON, 422, "the legislation of FI applies"),
        ("LA_BUC_04", [], HERE, PERSON, 422, "no A009"),
        ("H_BUC_01", [], HERE, PERSON, 422, "from a posting (LA_BUC_04) or a determination"),
        ("LA_BUC_04", [], HERE, None, 422, "not linked to a person"),
    ],
    ids=["disputed", "another-countrys-legislation", "no-posting-yet", "not-legislation", "no-person"],
)  # fmt: skip
def test_no_draft_from_a_case_that_decides_nothing_here(
    issuer_client: TestClient,
    officer: dict[str, str],
    session: Session,
    buc_type: str,
    seds: list[tuple[str, dict[str, Any], str]],
    owner: str,
    person_id: str | None,
    status: int,
    says: str,
) -> None:
    case = _case(session, buc_type, owner=owner, person_id=person_id)
    for sed_type, fields, sender in seds:
        _sed(session, case, sed_type, fields, sender=sender)
    session.commit()
    refused = issuer_client.get(DRAFT, params={"eessi_case_id": case.case_id}, headers=officer)
    assert refused.status_code == status, refused.text
    assert says in refused.json()["detail"]


def test_an_unknown_case_and_a_caller_without_the_issuer_role(
    issuer_client: TestClient, officer: dict[str, str], session: Session
) -> None:
    assert issuer_client.get(DRAFT, params={"eessi_case_id": "SE:FKA01-none"}, headers=officer).status_code == 404
    case = _case(session, "LA_BUC_04")
    session.commit()
    assert issuer_client.get(DRAFT, params={"eessi_case_id": case.case_id}).status_code == 401


def test_the_issuer_page_fills_the_pda1_form_from_the_case(issuer_web: TestClient, session: Session) -> None:
    """The case page offers it to an issuer; the form comes filled in, and says what to complete."""
    case = _case(session, "LA_BUC_04")
    _sed(session, case, "A009", {"employer": "Bygg AB", "countryWork": "DE", "period": PERIOD}, sender=HERE)
    make_staff(session, "ida.cases", "197802022389", Role.ISSUER, Role.CASEWORKER, name="Ida")
    session.commit()
    assert dev_login(issuer_web, "197802022389", provider="dev-staff", next="/staff").status_code == 303
    case_page = issuer_web.get(f"/staff/cross-border/{case.case_id}", params={"lang": "en"})
    assert "Issue a PDA1 from this case" in case_page.text
    page = issuer_web.get("/staff/credentials", params={"case": case.case_id, "lang": "en"})
    assert page.status_code == 200, page.text
    assert f"Filled in from case {case.case_id}" in page.text
    assert "complete it: employer.id, work_address.locality" in page.text
    assert 'name="employer_name" value="Bygg AB"' in page.text
    assert f'name="eessi_case_id" value="{case.case_id}"' in page.text
    assert f'name="ending_date" type="date" value="{END.isoformat()}"' in page.text
    refused = issuer_web.get("/staff/credentials", params={"case": "SE:FKA01-none", "lang": "en"})
    assert refused.status_code == 422
    assert "no cross-border case SE:FKA01-none" in refused.text
