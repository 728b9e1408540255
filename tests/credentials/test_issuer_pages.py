"""The issuer's pages: staff with the issuer role, logged in with eID, look a person up, decide and
issue a PDA1, see the wallet offer and its code once, ask a new one, print and revoke — a form
that does not hold issues nothing, the reads are logged, and staff without the role get nothing."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.kit.clock import today
from saldo.staff.models import Role
from tests.factories import VALID_PNR, make_staff
from tests.web_login import csrf_of, dev_login

ISSUER_PNR = "197802022389"


def _log_in(web: TestClient, session: Session, role: Role) -> None:
    make_staff(session, "ida.page", ISSUER_PNR, role, name="Ida")
    session.commit()
    web.cookies.clear()
    assert dev_login(web, ISSUER_PNR, provider="dev-staff", next="/staff").status_code == 303


def test_an_issuer_decides_issues_and_revokes_on_the_pages(issuer_web: TestClient, session: Session) -> None:
    _log_in(issuer_web, session, Role.ISSUER)
    page = issuer_web.get("/staff/credentials", params={"person": VALID_PNR, "lang": "en"})
    assert page.status_code == 200
    assert "Nothing has been issued to this person here." in page.text
    day = today()
    form = {
        "csrf": csrf_of(page.text),
        "kind": "pda1",
        "person": VALID_PNR,
        "legislation_country": "se",
        "status_confirmation": "01",
        "starting_date": day.isoformat(),
        "ending_date": (day + dt.timedelta(days=200)).isoformat(),
        "employer_id": "5560000001",
        "employer_name": "Bygg AB",
        "employer_country": "SE",
        "street_address": "Hauptstraße 1",
        "postal_code": "10115",
        "locality": "Berlin",
        "work_country": "DE",
    }
    issued = issuer_web.post("/staff/credentials/issue", data=form)
    assert issued.status_code == 200, issued.text
    number = re.search(r"SE-PDA1-[A-Z0-9]+", issued.text).group(0)  # type: ignore[union-attr]
    code = re.search(r"shown only now\): (\d{6})", issued.text).group(1)  # type: ignore[union-attr]
    assert '<img class="qr" src="data:image/svg+xml' in issued.text
    assert "Berlin" in issued.text
    again = issuer_web.post(f"/staff/credentials/{number}/offer", data={"csrf": csrf_of(issued.text)})
    assert re.search(r"shown only now\): (\d{6})", again.text).group(1) != code  # type: ignore[union-attr]
    listed = issuer_web.get("/staff/credentials", params={"person": VALID_PNR, "lang": "en"}).text
    assert number in listed
    pdf = issuer_web.get(f"/staff/credentials/{number}/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    refused = issuer_web.post(
        f"/staff/credentials/{number}/revoke", data={"csrf": csrf_of(listed), "reason": ""}, follow_redirects=False
    )
    assert refused.status_code == 422  # a reason is needed
    revoked = issuer_web.post(
        f"/staff/credentials/{number}/revoke", data={"csrf": csrf_of(listed), "reason": "posting ended"}
    )
    assert "revoked" in revoked.text
    assert "posting ended" in revoked.text
    logged = session.execute(
        text("SELECT count(*) FROM access_log WHERE purpose = 'issue_credentials' AND channel = 'web'")
    ).scalar_one()
    assert logged >= 3


def test_a_bad_form_says_what_is_wrong_and_issues_nothing(issuer_web: TestClient, session: Session) -> None:
    _log_in(issuer_web, session, Role.ISSUER)
    page = issuer_web.get("/staff/credentials", params={"person": VALID_PNR, "lang": "en"})
    day = today()
    answer = issuer_web.post(
        "/staff/credentials/issue",
        data={
            "csrf": csrf_of(page.text),
            "kind": "ehic",
            "person": VALID_PNR,
            "starting_date": day.isoformat(),
            "ending_date": (day - dt.timedelta(days=3)).isoformat(),
        },
    )
    assert answer.status_code == 422
    assert "ending_date is before starting_date" in answer.text
    assert session.execute(text("SELECT count(*) FROM credentials")).scalar_one() == 0


def test_staff_without_the_issuer_role_are_refused(issuer_web: TestClient, session: Session) -> None:
    _log_in(issuer_web, session, Role.CASEWORKER)
    assert issuer_web.get("/staff/credentials", params={"person": VALID_PNR}).status_code == 403
    nav = issuer_web.get("/staff/cross-border", params={"lang": "en"})
    assert 'href="/staff/credentials"' not in nav.text
