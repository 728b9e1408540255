"""The pages of the requester's side: the person's own evidence requests (nobody else's), the
choice of what to fetch, and the issuer who reads the evidence beside the application (each read in
the access log the person sees)."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.kit.clock import utcnow
from saldo.onceonly.models import EvidenceExchange, ExchangeRole, ExchangeState
from saldo.procedures.service import get_application
from saldo.staff.models import Role
from tests.factories import OTHER_PNR, VALID_PNR
from tests.onceonly.conftest import FI_PARTY, STATEMENT
from tests.procedures.test_applications import apply_pda1, log_in_staff
from tests.web_login import dev_login


def evidence_for(session: Session, reference: str) -> EvidenceExchange:
    """Evidence from FI that arrived for the application (as the exchange tests bring it)."""
    application = get_application(session, reference)
    exchange = EvidenceExchange(
        role=ExchangeRole.REQUESTER,
        request_id="urn:uuid:00000000-0000-4000-8000-000000000001",
        partner=FI_PARTY,
        partner_name="Kela",
        partner_country="FI",
        evidence_type=STATEMENT,
        procedure="U1",
        eidas_identifier=f"SE/FI/{VALID_PNR}",
        given_name="Anna Maria",
        family_name="Andersson",
        birth_date=dt.date(1980, 1, 1),
        person_scheme=application.person_scheme,
        person_id=application.person_id,
        application_pk=application.id,
        state=ExchangeState.DELIVERED,
        language="en",
        evidence=b"%PDF-1.7 the statement",
        evidence_format="application/pdf",
        evidence_title="Statement of public payments 2026.pdf",
        created_at=utcnow(),
        updated_at=utcnow(),
        expires_at=utcnow() + dt.timedelta(days=90),
    )
    session.add(exchange)
    session.commit()
    return exchange


def test_the_person_sees_what_may_be_fetched_and_what_was(se_web: TestClient, session: Session) -> None:
    reference = apply_pda1(se_web)
    page = se_web.get(f"/me/applications/{reference}", params={"lang": "en"})
    assert f'href="/me/applications/{reference}/evidence"' in page.text
    exchange = evidence_for(session, reference)
    listed = se_web.get(f"/me/applications/{reference}/evidence", params={"lang": "en"})
    assert listed.status_code == 200
    assert "Kela" in listed.text
    shown = se_web.get(f"/me/evidence/{exchange.id}", params={"lang": "en"})
    assert "The evidence arrived" in shown.text
    assert se_web.get(f"/me/evidence/{exchange.id}/document").content == b"%PDF-1.7 the statement"


def test_another_person_reaches_none_of_it(se_web: TestClient, session: Session) -> None:
    reference = apply_pda1(se_web)
    exchange = evidence_for(session, reference)
    se_web.cookies.clear()
    assert dev_login(se_web, OTHER_PNR).status_code == 303
    assert se_web.get(f"/me/applications/{reference}/evidence").status_code == 404
    assert se_web.get(f"/me/evidence/{exchange.id}").status_code == 404
    assert se_web.get(f"/me/evidence/{exchange.id}/document").status_code == 404
    assert se_web.get(f"/me/evidence/{exchange.id}/returned", follow_redirects=False).status_code == 404


def test_the_issuer_reads_the_evidence_beside_the_application_and_the_person_is_told(
    se_web: TestClient, session: Session
) -> None:
    reference = apply_pda1(se_web)
    exchange = evidence_for(session, reference)
    log_in_staff(se_web, session, Role.ISSUER)
    decide = se_web.get(f"/staff/applications/{reference}", params={"lang": "en"})
    assert f'href="/staff/applications/{reference}/evidence"' in decide.text
    listed = se_web.get(f"/staff/applications/{reference}/evidence", params={"lang": "en"})
    assert "Statement of public payments 2026.pdf" in listed.text
    document = se_web.get(f"/staff/applications/{reference}/evidence/{exchange.id}/document")
    assert document.content == b"%PDF-1.7 the statement"
    logged = session.execute(
        text("SELECT purpose FROM access_log WHERE action = 'read_evidence' AND person_id = :p"), {"p": VALID_PNR}
    ).scalars()
    assert list(logged) == ["decide_applications"]


def test_staff_without_the_issuer_role_read_no_evidence(se_web: TestClient, session: Session) -> None:
    reference = apply_pda1(se_web)
    exchange = evidence_for(session, reference)
    log_in_staff(se_web, session, Role.CASEWORKER, personnummer="196408233234")
    assert se_web.get(f"/staff/applications/{reference}/evidence").status_code == 403
    assert se_web.get(f"/staff/applications/{reference}/evidence/{exchange.id}/document").status_code == 403
