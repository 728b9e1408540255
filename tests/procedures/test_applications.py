"""A person applies for a PDA1 or an EHIC on their pages, follows it and gets the decision; a
caseworker with the issuer role decides on the pages or through the API. A form sent twice is one
application, bad input is refused with what and where and stores nothing, a decision is taken once,
and nobody reaches another person's application."""

from __future__ import annotations

import datetime as dt
import html
import re
from io import BytesIO

import httpx
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.kit.clock import today
from saldo.procedures.models import ApplicationKind, ApplicationState
from saldo.procedures.repository import insert_once
from saldo.procedures.service import submit
from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.factories import OTHER_PNR, VALID_PNR, make_staff
from tests.web_login import csrf_of, dev_login, start_assisting

ISSUER_PNR = "197802022389"
CASEWORKER_PNR = "196408233234"


def pda1_form(**changes: str) -> dict[str, str]:
    day = today()
    return {
        "situation": "01",
        "employer_name": "Bygg AB",
        "employer_id": "5560000001",
        "employer_country": "SE",
        "place_1_street": "Mannerheimintie 1",
        "place_1_postal": "00100",
        "place_1_locality": "Helsinki",
        "place_1_country": "FI",
        "starting_date": (day + dt.timedelta(days=10)).isoformat(),
        "ending_date": (day + dt.timedelta(days=200)).isoformat(),
        "given_names": "Anna Maria",
        "family_name": "Andersson",
        **changes,
    }


def open_form(web: TestClient, kind: str, lang: str = "en") -> dict[str, str]:
    page = web.get(f"/me/applications/new/{kind}", params={"lang": lang})
    assert page.status_code == 200, page.text
    key = re.search(r'name="form_key" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return {"csrf": csrf_of(page.text), "form_key": key}


def apply_pda1(web: TestClient, person: str = VALID_PNR, lang: str = "en", **changes: str) -> str:
    """Log in as ``person``, apply for a PDA1; the application's reference."""
    web.cookies.clear()
    assert dev_login(web, person).status_code == 303
    sent = web.post("/me/applications/new/pda1", data={**open_form(web, "pda1", lang), **pda1_form(**changes)},
                    follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303, sent.text
    return sent.headers["location"].split("/")[-1].split("?")[0]


def log_in_staff(web: TestClient, session: Session, role: Role, personnummer: str = ISSUER_PNR) -> None:
    make_staff(session, f"staff.{role.value}", personnummer, role, name="Ida")
    session.commit()
    web.cookies.clear()
    assert dev_login(web, personnummer, provider="dev-staff", next="/staff").status_code == 303


def grant_on_page(web: TestClient, reference: str, **changes: str) -> httpx.Response:
    """The logged-in issuer grants the PDA1 application with the page's form, as filled in."""
    page = web.get(f"/staff/applications/{reference}", params={"lang": "en"})
    form = {
        "csrf": csrf_of(page.text),
        "legislation_country": "SE",
        "status_confirmation": "01",
        "work_place": "0",
        "starting_date": pda1_form()["starting_date"],
        "ending_date": pda1_form()["ending_date"],
        **changes,
    }
    return web.post(f"/staff/applications/{reference}/grant", data=form, follow_redirects=False)


def _count(session: Session) -> int:
    return int(session.scalar(text("SELECT count(*) FROM applications")) or 0)


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def test_a_person_applies_for_a_pda1_and_follows_it(issuer_web: TestClient, session: Session) -> None:
    reference = apply_pda1(issuer_web)
    page = issuer_web.get(f"/me/applications/{reference}", params={"sent": 1, "lang": "en"}).text
    assert "Your application has been sent." in page
    assert "Waiting for a decision" in page
    assert "Bygg AB" in page
    assert "Helsinki, Finland" in page
    listed = issuer_web.get("/me/applications", params={"lang": "en"}).text
    assert reference in listed
    assert "/me/applications" in issuer_web.get("/me", params={"lang": "en"}).text
    row = session.execute(
        text("SELECT kind, state, person_id, language, submitted_by, details FROM applications")
    ).one()
    assert row[:5] == ("pda1", "submitted", VALID_PNR, "en", "citizen")
    assert row.details["work_places"] == [
        {"street_address": "Mannerheimintie 1", "postal_code": "00100", "locality": "Helsinki", "country": "FI"}
    ]
    assert row.details["employer"] == {"id": "5560000001", "name": "Bygg AB", "country": "SE"}


def test_a_form_sent_twice_is_one_application(issuer_web: TestClient, session: Session) -> None:
    dev_login(issuer_web, VALID_PNR)
    form = {**open_form(issuer_web, "pda1"), **pda1_form()}
    first = issuer_web.post("/me/applications/new/pda1", data=form, follow_redirects=False)
    again = issuer_web.post("/me/applications/new/pda1", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert _count(session) == 1
    # a new form while that one waits: refused, with the reason, and nothing written
    other = issuer_web.post(
        "/me/applications/new/pda1", data={**open_form(issuer_web, "pda1"), **pda1_form()}, follow_redirects=False
    )
    assert other.status_code == 422
    assert "is waiting for a decision: withdraw it to apply anew" in other.text
    assert _count(session) == 1


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"ending_date": "2020-01-01"}, "ending_date: the period ends before it starts"),
        ({"place_1_country": "XX"}, "work_places.0.country"),
        ({"employer_name": ""}, "employer.name"),
        ({"situation": "07"}, "situation"),
        ({"starting_date": "2027-13-01"}, "starting_date"),
    ],
)
def test_bad_input_is_refused_with_what_and_where_and_nothing_is_written(
    issuer_web: TestClient, session: Session, changes: dict[str, str], said: str
) -> None:
    dev_login(issuer_web, VALID_PNR)
    sent = issuer_web.post("/me/applications/new/pda1", data={**open_form(issuer_web, "pda1"), **pda1_form(**changes)})
    assert sent.status_code == 422
    assert said in sent.text
    assert 'value="Bygg AB"' in sent.text or changes.get("employer_name") == ""  # what was typed is kept
    assert _count(session) == 0


@pytest.mark.parametrize(
    ("lang", "changes", "said"),
    [
        ("fi", {"ending_date": "2020-01-01"}, "Hakemusta ei lähetetty: Jakso päättyy ennen kuin se alkaa."),
        ("lt", {"place_1_country": "US"}, "Darbo vieta turi būti ES, EEE, Šveicarijoje arba Jungtinėje Karalystėje."),
        ("da", {"family_name": ""}, "Udfyld: Efternavn."),
        ("is", {"situation": "07"}, "Veldu einn af kostunum: Starf þitt."),
        ("nb", {"starting_date": "tomorrow"}, "Oppgi en dato: Fra."),
    ],
)
def test_what_is_wrong_is_said_in_the_person_s_language(
    issuer_web: TestClient, session: Session, lang: str, changes: dict[str, str], said: str
) -> None:
    dev_login(issuer_web, VALID_PNR)
    sent = issuer_web.post(
        "/me/applications/new/pda1", data={**open_form(issuer_web, "pda1", lang), **pda1_form(**changes)}
    )
    assert sent.status_code == 422
    assert said in html.unescape(sent.text)
    assert _count(session) == 0


def test_a_posting_longer_than_24_months_and_a_period_that_has_ended_are_refused(
    issuer_web: TestClient, session: Session
) -> None:
    dev_login(issuer_web, VALID_PNR)
    day = today()
    long = pda1_form(ending_date=(day + dt.timedelta(days=800)).isoformat())
    sent = issuer_web.post("/me/applications/new/pda1", data={**open_form(issuer_web, "pda1"), **long})
    assert sent.status_code == 422
    assert "a posting lasts at most 24 months" in sent.text
    # working in two states is not a posting: the same period is taken
    two_states = {**long, "situation": "02"}
    assert (
        issuer_web.post(
            "/me/applications/new/pda1", data={**open_form(issuer_web, "pda1"), **two_states}, follow_redirects=False
        ).status_code
        == 303
    )
    past = pda1_form(starting_date="2024-01-01", ending_date="2024-06-30", situation="03")
    sent = issuer_web.post("/me/applications/new/ehic", data={**open_form(issuer_web, "pda1"), **past})
    assert sent.status_code == 422
    assert _count(session) == 1


def test_the_issuer_grants_on_the_pages_and_the_person_gets_the_decision_in_their_language(
    issuer_web: TestClient, session: Session
) -> None:
    reference = apply_pda1(issuer_web, lang="fi")
    log_in_staff(issuer_web, session, Role.ISSUER)
    queue = issuer_web.get("/staff/applications", params={"lang": "en"}).text
    assert reference in queue
    page = issuer_web.get(f"/staff/applications/{reference}", params={"lang": "en"})
    assert page.status_code == 200
    assert "Nothing else: no credential, no information from abroad, no earlier application." in page.text
    granted = grant_on_page(issuer_web, reference, explanation="")
    assert granted.status_code == 303, granted.text
    decided = issuer_web.get(f"/staff/applications/{reference}", params={"lang": "en"}).text
    number = re.search(r"SE-PDA1-[A-Z0-9]+", decided).group(0)  # type: ignore[union-attr]
    claims = session.execute(
        text("SELECT c.claims FROM credentials c JOIN applications a ON a.credential_pk = c.id")
    ).scalar_one()
    assert claims["work_address"]["locality"] == "Helsinki"
    assert claims["employer"]["name"] == "Bygg AB"
    assert claims["legislation_country"] == "SE"

    issuer_web.cookies.clear()
    dev_login(issuer_web, VALID_PNR)
    mine = issuer_web.get(f"/me/applications/{reference}", params={"lang": "en"}).text
    assert "Your application is granted." in mine
    assert number in mine
    letter = issuer_web.get(f"/me/applications/{reference}/decision.pdf")
    assert letter.headers["content-type"] == "application/pdf"
    words = _pdf_text(letter.content)
    assert "Päätös hakemukseesi" in words  # applied in Finnish: the letter is in Finnish
    assert number in words
    assert reference in words
    english = _pdf_text(issuer_web.get(f"/me/applications/{reference}/decision.pdf", params={"lang": "en"}).content)
    assert "Your application is granted." in english
    # the person sees that the issuer read their application
    overview = issuer_web.get("/me", params={"lang": "en"}).text
    assert "Read your application" in overview
    assert "To decide your application for a PDA1 or a European Health Insurance Card" in overview


def test_a_refusal_through_the_api_is_decided_once(
    issuer_web: TestClient, session: Session, officer: dict[str, str]
) -> None:
    reference = apply_pda1(issuer_web)
    queue = issuer_web.get("/api/v1/staff/applications", headers=officer).json()
    assert [a["reference"] for a in queue] == [reference]
    refusal = {"ground": "not_competent", "explanation": "You live and work in Finland: Kela decides."}
    refused = issuer_web.post(f"/api/v1/staff/applications/{reference}/refuse", json=refusal, headers=officer)
    assert refused.status_code == 200, refused.text
    assert refused.json()["state"] == "refused"
    again = issuer_web.post(
        f"/api/v1/staff/applications/{reference}/grant",
        json={"starting_date": today().isoformat(), "ending_date": today().isoformat()},
        headers=officer,
    )
    assert again.status_code == 409
    assert again.json()["detail"] == f"application {reference} is refused"
    assert session.scalar(text("SELECT count(*) FROM credentials")) == 0
    short = issuer_web.post(
        f"/api/v1/staff/applications/{reference}/refuse", json={"ground": "other", "explanation": "no"}, headers=officer
    )
    assert short.status_code == 422
    issuer_web.cookies.clear()
    dev_login(issuer_web, VALID_PNR)
    mine = issuer_web.get(f"/me/applications/{reference}", params={"lang": "sv"}).text
    assert "Din ansökan avslås." in mine
    assert "You live and work in Finland: Kela decides." in mine
    assert "Kela decides" in _pdf_text(issuer_web.get(f"/me/applications/{reference}/decision.pdf").content)


def test_an_ehic_is_applied_for_and_granted_for_three_years(
    issuer_web: TestClient, session: Session, officer: dict[str, str]
) -> None:
    dev_login(issuer_web, VALID_PNR)
    day = today()
    sent = issuer_web.post(
        "/me/applications/new/ehic",
        data={**open_form(issuer_web, "ehic"), "reason": "lost", "starting_date": day.isoformat()},
        follow_redirects=False,
    )
    reference = sent.headers["location"].split("/")[-1].split("?")[0]
    shown = issuer_web.get(f"/api/v1/staff/applications/{reference}", headers=officer).json()
    assert shown["details"] == {"reason": "lost", "starting_date": day.isoformat()}
    end = (
        day.replace(year=day.year + 3)
        if not (day.month == 2 and day.day == 29)
        else day.replace(day=28, year=day.year + 3)
    )
    granted = issuer_web.post(
        f"/api/v1/staff/applications/{reference}/grant",
        json={"starting_date": day.isoformat(), "ending_date": end.isoformat()},
        headers=officer,
    ).json()
    assert granted["state"] == "granted"
    assert granted["credential"].startswith("SE-EHIC-")
    row = session.execute(text("SELECT kind, valid_until, person_id FROM credentials")).one()
    assert tuple(row) == ("ehic", end, VALID_PNR)
    notify = issuer_web.post(
        "/api/v1/staff/applications/A-2222222222/grant",
        json={"starting_date": day.isoformat(), "ending_date": end.isoformat()},
        headers=officer,
    )
    assert notify.status_code == 404


def test_a_withdrawn_application_is_not_decided(
    issuer_web: TestClient, session: Session, officer: dict[str, str]
) -> None:
    reference = apply_pda1(issuer_web)
    page = issuer_web.get(f"/me/applications/{reference}").text
    issuer_web.post(f"/me/applications/{reference}/withdraw", data={"csrf": csrf_of(page)})
    assert session.scalar(text("SELECT state FROM applications")) == "withdrawn"
    late = issuer_web.post(
        f"/api/v1/staff/applications/{reference}/refuse",
        json={"ground": "other", "explanation": "Too late to decide this."},
        headers=officer,
    )
    assert late.status_code == 409
    # withdrawn, a new one may be sent
    assert (
        issuer_web.post(
            "/me/applications/new/pda1", data={**open_form(issuer_web, "pda1"), **pda1_form()}, follow_redirects=False
        ).status_code
        == 303
    )


def test_nobody_reaches_another_persons_application(
    issuer_web: TestClient, session: Session, officer: dict[str, str]
) -> None:
    reference = apply_pda1(issuer_web)
    # another citizen
    issuer_web.cookies.clear()
    dev_login(issuer_web, OTHER_PNR)
    assert issuer_web.get(f"/me/applications/{reference}").status_code == 404
    assert issuer_web.get(f"/me/applications/{reference}/decision.pdf").status_code == 404
    page = issuer_web.get("/me/applications").text
    assert reference not in page
    assert issuer_web.post(f"/me/applications/{reference}/withdraw", data={"csrf": csrf_of(page)}).status_code == 404
    # a citizen on the staff pages and API
    assert issuer_web.get("/staff/applications", follow_redirects=False).status_code in (303, 401, 403)
    assert issuer_web.get("/api/v1/staff/applications").status_code == 401
    # staff without the issuer role
    log_in_staff(issuer_web, session, Role.ANALYST, "198506124117")
    assert issuer_web.get("/staff/applications").status_code == 403
    assert issuer_web.get(f"/staff/applications/{reference}").status_code == 403
    create_staff(session, username="anna.analyst", name="Anna", roles=[Role.ANALYST])
    token = issue_staff_token(session, username="anna.analyst", label="t")
    session.commit()
    analyst = {"Authorization": f"Bearer {token}"}
    assert issuer_web.get("/api/v1/staff/applications", headers=analyst).status_code == 403
    assert (
        issuer_web.post(
            f"/api/v1/staff/applications/{reference}/refuse",
            json={"ground": "other", "explanation": "Not mine to decide."},
            headers=analyst,
        ).status_code
        == 403
    )
    assert session.scalar(text("SELECT state FROM applications")) == "submitted"


def test_a_caseworker_applies_for_the_person_in_the_assisted_channel(issuer_web: TestClient, session: Session) -> None:
    log_in_staff(issuer_web, session, Role.CASEWORKER, CASEWORKER_PNR)
    assert start_assisting(issuer_web, VALID_PNR, "assisted_service").status_code == 303
    sent = issuer_web.post(
        "/me/applications/new/ehic",
        data={**open_form(issuer_web, "ehic"), "reason": "first", "starting_date": today().isoformat()},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    row = session.execute(text("SELECT person_id, submitted_by FROM applications")).one()
    assert tuple(row) == (VALID_PNR, "staff:staff.caseworker")
    logged = session.scalars(text("SELECT action FROM access_log WHERE channel = 'assisted'")).all()
    assert "apply" in logged


def test_two_forms_sent_at_once_make_one_waiting_application(session: Session) -> None:
    """The second of two forms that both passed the check for a waiting one meets the database's
    own rule (one waiting of each kind) and is refused, not written."""
    details = {"reason": "first", "starting_date": today().isoformat()}
    first = submit(
        session, kind=ApplicationKind.EHIC, person_scheme="se_personnummer", person_id=VALID_PNR,
        details=details, language="sv", form_key="form-a", by="citizen",
    )  # fmt: skip
    raced = insert_once(
        session,
        {
            "reference": "A-RACE222222", "kind": ApplicationKind.EHIC, "person_scheme": "se_personnummer",
            "person_id": VALID_PNR, "state": ApplicationState.SUBMITTED, "details": details, "language": "sv",
            "form_key": "form-b", "submitted_by": "citizen",
        },
    )  # fmt: skip
    assert raced is None
    assert session.scalars(text("SELECT reference FROM applications")).all() == [first.reference]
