"""The assisted channel for a foreign eID that found no one with certainty: at a service office, a
caseworker serving the person links the eID of the login whose reference the person gives, having
seen their identity document; the person sees the eIDs linked to them in their own pages and removes
any of them. Logged in through the independent identity provider (pysaml2), as in test_eidas_login."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from saldo.settings import Settings
from saldo.staff.models import Role
from tests.conftest import app_in_transaction
from tests.crossborder.conftest import BASE, EidasFiles, eidas_settings, letters
from tests.crossborder.connector import Connector, Person
from tests.crossborder.test_eidas_login import MATTI, MATTI_HERE, landed, log_in, logins, report
from tests.crossborder.test_linking import NAMESAKE, _login_id, two_mattis  # noqa: F401 — the fixture, by name
from tests.factories import account_record, make_staff, pnr, se_iban
from tests.web_login import csrf_of, dev_login, route_provider_calls_to, start_assisting

CASEWORKER_PNR = "196408233234"
ANALYST_PNR = "197802022389"
PATH = "/me/foreign-eids"


@pytest.fixture
def eidas_web(
    settings: Settings, eidas_files: EidasFiles, engine: Engine, connection: Connection, connector: Connector
) -> Iterator[TestClient]:
    """Saldo as in the other tests here, with the development eID on for staff and persons here."""
    configured = eidas_settings(settings, eidas_files).model_copy(update={"dev_login": True})
    app = app_in_transaction(configured, engine, connection)
    route_provider_calls_to(app)
    with TestClient(app, base_url=BASE) as client:
        yield client


def _unmatched_login(client: TestClient, connector: Connector, person: Person = MATTI) -> int:
    """The person logs in with their eID and is found by no one with certainty: the reference."""
    page = landed(client, log_in(client, connector, person))
    assert f"Reference: <strong>{_login_id(page)}</strong>" in page.text
    client.cookies.clear()
    return _login_id(page)


def _staff(client: TestClient, session: Session, role: Role, personnummer: str) -> None:
    username = f"staff.{role.value}"
    if session.scalar(text("SELECT count(*) FROM staff_members WHERE username = :u"), {"u": username}) == 0:
        make_staff(session, username, personnummer, role, name="Ida")  # else: serving the next person
        session.commit()
    client.cookies.clear()
    assert dev_login(client, personnummer, provider="dev-staff", next="/staff").status_code == 303


def _serve(client: TestClient, session: Session, personnummer: str) -> None:
    _staff(client, session, Role.CASEWORKER, CASEWORKER_PNR)
    assert start_assisting(client, personnummer, "assisted_service").status_code == 303


def _link(client: TestClient, reference: int | str, **form: str) -> Any:
    page = client.get(PATH, params={"lang": "en"})
    assert page.status_code == 200, page.text
    fields = {"reference": str(reference), "document_kind": "passport", "document_number": "fp 1234567", **form}
    return client.post(
        f"{PATH}/link", data={**fields, "csrf": csrf_of(page.text)}, params={"lang": "en"}, follow_redirects=False
    )


def _links(session: Session) -> list[tuple[Any, ...]]:
    rows = session.execute(
        text("SELECT person_id, state, linked_by, document, removed_by FROM foreign_links ORDER BY id")
    )
    return [tuple(r) for r in rows]


def _letters(session: Session) -> list[tuple[Any, ...]]:
    return letters(session, "foreign_eid_linked")


def _logged(session: Session) -> list[tuple[Any, ...]]:
    rows = session.execute(
        text(
            "SELECT action, person_id, channel FROM access_log "
            "WHERE action IN ('link_foreign_eid', 'remove_foreign_eid') ORDER BY seq"
        )
    )
    return [tuple(r) for r in rows]


@pytest.mark.usefixtures("two_mattis")
def test_a_caseworker_links_the_eid_the_person_sees_it_and_removes_it(
    eidas_web: TestClient, connector: Connector, session: Session
) -> None:
    reference = _unmatched_login(eidas_web, connector)

    _serve(eidas_web, session, MATTI_HERE)
    linked = _link(eidas_web, reference)
    assert linked.status_code == 303, linked.text
    assert linked.headers["location"] == f"{PATH}?done=linked"
    assert _links(session) == [(MATTI_HERE, "confirmed", "staff:staff.caseworker", "passport FP 1234567", None)]
    assert _logged(session) == [("link_foreign_eid", MATTI_HERE, "assisted")]
    [(addressee, letter)] = _letters(session)  # the person hears of it by post
    assert addressee == MATTI_HERE
    assert letter["document_kind"] == "passport"
    assert letter["eid_name"] == "Matti Virtanen"
    assert letter["reference"] == reference
    shown = eidas_web.get(PATH, params={"lang": "en", "done": "linked"}).text
    assert "The eID is linked." in shown
    assert MATTI.identifier in shown
    assert "at a service office." in shown

    # the person logs in with the eID: it opens their pages at once, and they see the link
    eidas_web.cookies.clear()
    again = log_in(eidas_web, connector, MATTI)
    assert again.status_code == 303, again.text
    assert again.headers["location"] == "/me"
    assert [row[:2] for row in logins(session)][-1] == ("linked", MATTI_HERE)
    overview = eidas_web.get("/me", params={"lang": "en"}).text
    assert 'href="/me/foreign-eids"' in overview
    mine = eidas_web.get(PATH, params={"lang": "en"})
    assert MATTI.identifier in mine.text
    assert "Link an eID of another country" not in mine.text  # only a caseworker links
    [link_id] = session.scalars(text("SELECT id FROM foreign_links")).all()

    removed = eidas_web.post(f"{PATH}/{link_id}/remove", data={"csrf": csrf_of(mine.text)}, follow_redirects=False)
    assert removed.status_code == 303, removed.text
    assert _links(session)[0][1:] == ("removed", "staff:staff.caseworker", "passport FP 1234567", "citizen")
    assert "No eID of another country is linked to you." in eidas_web.get(PATH, params={"lang": "en"}).text

    eidas_web.cookies.clear()  # and from now on the eID opens nothing
    assert log_in(eidas_web, connector, MATTI).headers["location"].startswith("/login/foreign/")
    assert [row[0] for row in logins(session)][-1] == "ambiguous"


@pytest.mark.usefixtures("two_mattis")
def test_what_the_caseworker_cannot_link_is_said_and_nothing_is_written(
    eidas_web: TestClient, connector: Connector, session: Session, accounts: str
) -> None:
    reference = _unmatched_login(eidas_web, connector)
    other_day = pnr(41, "19750505")
    report(eidas_web, accounts, account_record(se_iban(8), (other_day, "Matti Virtanen")))

    _serve(eidas_web, session, other_day)
    refused = _link(eidas_web, reference)
    assert refused.status_code == 422
    assert "gives another birth date than this person" in refused.text
    assert 'action="/me/foreign-eids/link"' in refused.text  # the form, filled in, to try again
    assert 'value="fp 1234567"' in refused.text

    _serve(eidas_web, session, MATTI_HERE)
    for form, words in [
        ({"document_number": "?"}, "Say which identity document you saw"),
        ({"document_kind": "library_card"}, "Say which identity document you saw"),
        ({"reference": "999999"}, "No login with an eID of another country has this reference"),
        ({"reference": "not a number"}, "No login with an eID of another country has this reference"),
        ({"reference": "9" * 20}, "No login with an eID of another country has this reference"),
        ({"reference": "²"}, "No login with an eID of another country has this reference"),
    ]:
        answer = _link(eidas_web, form.pop("reference", reference), **form)
        assert answer.status_code == 422, form
        assert words in answer.text, form
    assert _links(session) == []
    assert _logged(session) == []
    assert _letters(session) == []

    assert _link(eidas_web, reference).status_code == 303
    twice = _link(eidas_web, reference)
    assert twice.status_code == 422
    assert "This eID already opens this person" in twice.text

    _serve(eidas_web, session, NAMESAKE)  # the other Matti: the eID stays with the first
    taken = _link(eidas_web, reference)
    assert taken.status_code == 422
    assert "linked to another person here" in taken.text
    assert [row[:2] for row in _links(session)] == [(MATTI_HERE, "confirmed")]


@pytest.mark.usefixtures("two_mattis")
def test_a_login_that_found_its_person_has_nothing_to_link(
    eidas_web: TestClient, connector: Connector, session: Session, accounts: str
) -> None:
    aino = Person("FI/SE/020290-456B", "Aino", "Korhonen", "1990-02-02")
    aino_here = pnr(42, "19900202")
    report(eidas_web, accounts, account_record(se_iban(9), (aino_here, "Aino Korhonen")))
    assert log_in(eidas_web, connector, aino).headers["location"] == "/me"
    reference = int(session.scalar(text("SELECT max(id) FROM foreign_logins")) or 0)
    eidas_web.cookies.clear()
    _serve(eidas_web, session, aino_here)
    answer = _link(eidas_web, reference)
    assert answer.status_code == 422
    assert "already opened a person's pages" in answer.text


@pytest.mark.usefixtures("two_mattis")
def test_only_the_caseworker_serving_the_person_links_and_only_the_person_removes(
    eidas_web: TestClient, connector: Connector, session: Session
) -> None:
    """A citizen links nothing, even their own; another person's link is not found; staff not serving
    anyone, and an analyst, reach none of it."""
    reference = _unmatched_login(eidas_web, connector)
    _serve(eidas_web, session, MATTI_HERE)
    assert _link(eidas_web, reference).status_code == 303
    [link_id] = session.scalars(text("SELECT id FROM foreign_links")).all()

    # the namesake, logged in with their own eID here: cannot link, cannot remove Matti's link
    eidas_web.cookies.clear()
    assert dev_login(eidas_web, NAMESAKE).status_code == 303
    page = eidas_web.get(PATH, params={"lang": "en"})
    assert MATTI.identifier not in page.text
    assert _link(eidas_web, reference).status_code == 403
    stranger = eidas_web.post(f"{PATH}/{link_id}/remove", data={"csrf": csrf_of(page.text)})
    assert stranger.status_code == 404
    assert _links(session)[0][1] == "confirmed"

    # a caseworker serving the namesake cannot remove Matti's link either
    _serve(eidas_web, session, NAMESAKE)
    page = eidas_web.get(PATH, params={"lang": "en"})
    assert eidas_web.post(f"{PATH}/{link_id}/remove", data={"csrf": csrf_of(page.text)}).status_code == 404

    # staff serving no one, and an analyst, are not on a person's pages
    eidas_web.post("/staff/assist/stop", data={"csrf": csrf_of(page.text)})
    for who in ("caseworker serving no one", "analyst"):
        if who == "analyst":
            _staff(eidas_web, session, Role.ANALYST, ANALYST_PNR)
        page = eidas_web.get(PATH, follow_redirects=False)
        assert page.status_code == 303, who
        assert page.headers["location"] == "/staff/assist", who  # sent to choose whom they serve
        sent = eidas_web.post(f"{PATH}/{link_id}/remove", data={"csrf": "x"}, follow_redirects=False)
        assert sent.headers.get("location") == "/staff/assist", who
    assert _links(session)[0][1] == "confirmed"
    assert _logged(session) == [("link_foreign_eid", MATTI_HERE, "assisted")]


@pytest.mark.usefixtures("two_mattis")
def test_the_person_stops_a_letters_code_they_did_not_ask_for(
    eidas_web: TestClient, connector: Connector, session: Session
) -> None:
    page = landed(eidas_web, log_in(eidas_web, connector, MATTI))
    eidas_web.post(f"/login/foreign/{_login_id(page)}/letter", data={"number": MATTI_HERE})
    [letter] = session.execute(text("SELECT payload FROM letters WHERE kind = 'foreign_eid_link'")).scalars().all()

    eidas_web.cookies.clear()
    assert dev_login(eidas_web, MATTI_HERE).status_code == 303  # the real Matti, with his eID here
    mine = eidas_web.get(PATH, params={"lang": "en"})
    assert "A letter with a code was sent on" in mine.text
    [link_id] = session.scalars(text("SELECT id FROM foreign_links")).all()
    stopped = eidas_web.post(f"{PATH}/{link_id}/remove", data={"csrf": csrf_of(mine.text)}, follow_redirects=False)
    assert stopped.status_code == 303
    assert _links(session)[0][1] == "removed"

    eidas_web.cookies.clear()  # whoever holds the letter: its code opens nothing now
    page = landed(eidas_web, log_in(eidas_web, connector, MATTI))
    late = eidas_web.post(
        f"/login/foreign/{_login_id(page)}/code", data={"code": letter["code"]}, headers={"Accept-Language": "en"}
    )
    assert late.status_code == 422
    assert "No letter with a code is waiting" in late.text
