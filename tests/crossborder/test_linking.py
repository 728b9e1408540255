"""Asking for more when a foreign eID matches no one with certainty: the person gives their number
here, a code goes by letter to that person's registered address, and the code — entered after
logging in again with the same eID — links the eID for good. Logged in through the independent
identity provider (pysaml2), as in test_eidas_login."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.identity.http import SESSION_COOKIE
from tests.crossborder.conftest import letters
from tests.crossborder.connector import Connector, Person
from tests.crossborder.test_eidas_login import MATTI, MATTI_HERE, landed, log_in, logins, report, sessions
from tests.factories import account_record, pnr, se_iban

NAMESAKE = pnr(18, "19800101")  # another Matti Virtanen born the same day


@pytest.fixture
def two_mattis(eidas_web: TestClient, accounts: str) -> None:
    report(
        eidas_web,
        accounts,
        account_record(se_iban(5), (MATTI_HERE, "Matti Virtanen")),
        account_record(se_iban(6), (NAMESAKE, "Matti Virtanen")),
    )


def _login_id(page: Any) -> int:
    return int(page.text.split('action="/login/foreign/')[1].split("/")[0])


def _letters(session: Session) -> list[tuple[Any, ...]]:
    return letters(session, "foreign_eid_link")


def _links(session: Session) -> list[tuple[Any, ...]]:
    rows = session.execute(text("SELECT person_identifier, person_id, state, attempts FROM foreign_links ORDER BY id"))
    return [tuple(r) for r in rows]


def _land(client: TestClient, connector: Connector, person: Person = MATTI) -> Any:
    return landed(client, log_in(client, connector, person))


def _ask(client: TestClient, connector: Connector, number: str, person: Person = MATTI) -> Any:
    page = _land(client, connector, person)
    return client.post(
        f"/login/foreign/{_login_id(page)}/letter", data={"number": number}, headers={"Accept-Language": "en"}
    )


def _enter(client: TestClient, connector: Connector, code: str) -> Any:
    page = _land(client, connector)
    assert "Enter the code from the letter" in page.text
    return client.post(
        f"/login/foreign/{_login_id(page)}/code",
        data={"code": code},
        headers={"Accept-Language": "en"},
        follow_redirects=False,
    )


@pytest.mark.usefixtures("two_mattis")
def test_a_code_by_letter_links_the_eid_and_it_opens_the_pages_from_then_on(
    eidas_web: TestClient, connector: Connector, session: Session
) -> None:
    asked = _ask(eidas_web, connector, MATTI_HERE)
    assert asked.status_code == 200, asked.text
    assert "A letter is on its way" in asked.text
    [(addressee, letter)] = _letters(session)
    assert addressee == MATTI_HERE
    assert letter["eid_country"] == "FI"
    assert letter["eid_name"] == "Matti Virtanen"
    assert len(letter["code"]) == 9  # "1234-5678"
    assert _links(session) == [(MATTI.identifier, MATTI_HERE, "pending", 0)]
    assert sessions(session) == []  # asking opens nothing

    wrong = _enter(eidas_web, connector, "0000-0000" if letter["code"] != "0000-0000" else "1111-1111")
    assert wrong.status_code == 422
    assert "The code is not right. Tries left: 4." in wrong.text
    assert SESSION_COOKIE not in wrong.cookies

    right = _enter(eidas_web, connector, letter["code"].replace("-", " "))  # as typed, with a space
    assert right.status_code == 303, right.text
    assert right.headers["location"] == "/me"
    assert _links(session) == [(MATTI.identifier, MATTI_HERE, "confirmed", 1)]
    assert sessions(session) == [("eidas", MATTI_HERE, "substantial", MATTI.identifier)]
    assert se_iban(5) in eidas_web.get("/me", params={"lang": "en"}).text

    again = log_in(eidas_web, connector, MATTI)  # the next login opens the pages at once
    assert again.status_code == 303, again.text
    assert [row[:2] for row in logins(session)][-1] == ("linked", MATTI_HERE)


@pytest.mark.usefixtures("two_mattis")
def test_a_number_that_does_not_fit_gets_the_same_words_and_no_letter(
    eidas_web: TestClient, connector: Connector, session: Session
) -> None:
    someone_else = pnr(40, "19750505")  # a valid number, born another day, no one of that name
    asked = _ask(eidas_web, connector, someone_else)
    assert asked.status_code == 200
    assert "A letter is on its way" in asked.text  # the form tells no one who is registered here
    assert _letters(session) == []
    assert _links(session) == []


@pytest.mark.usefixtures("two_mattis")
def test_a_number_in_the_wrong_form_is_said_so_and_nothing_is_written(
    eidas_web: TestClient, connector: Connector, session: Session
) -> None:
    asked = _ask(eidas_web, connector, "19800101-0000")
    assert asked.status_code == 422
    assert "This is not a valid personal identity number here" in asked.text
    assert 'action="/login/foreign/' in asked.text  # the form is there to try again
    assert _letters(session) == []


@pytest.mark.usefixtures("two_mattis")
def test_the_page_asks_only_from_the_browser_the_login_landed_in_and_only_for_a_while(
    eidas_web: TestClient, connector: Connector, session: Session
) -> None:
    page = _land(eidas_web, connector)
    login_id = _login_id(page)
    eidas_web.cookies.clear()  # another browser: no cookie of this login
    assert eidas_web.get(f"/login/foreign/{login_id}").status_code == 403  # nor its name and birth date
    other = eidas_web.post(f"/login/foreign/{login_id}/letter", data={"number": MATTI_HERE})
    assert other.status_code == 403
    assert "belongs to a login made in another browser" in other.text

    page = _land(eidas_web, connector)
    login_id = _login_id(page)
    session.execute(
        text("UPDATE foreign_logins SET created_at = now() - interval '16 minutes' WHERE id = :id"), {"id": login_id}
    )
    session.commit()
    late = eidas_web.post(f"/login/foreign/{login_id}/letter", data={"number": MATTI_HERE})
    assert late.status_code == 403
    assert _letters(session) == []


@pytest.mark.usefixtures("two_mattis")
def test_five_wrong_codes_burn_the_letter(eidas_web: TestClient, connector: Connector, session: Session) -> None:
    _ask(eidas_web, connector, MATTI_HERE)
    [(_, letter)] = _letters(session)
    wrong = "1111-1111" if letter["code"] != "1111-1111" else "2222-2222"
    for tries_left in (4, 3, 2, 1):
        assert f"Tries left: {tries_left}." in _enter(eidas_web, connector, wrong).text
    burnt = _enter(eidas_web, connector, wrong)
    assert "wrong too many times and no longer works" in burnt.text
    assert _links(session) == [(MATTI.identifier, MATTI_HERE, "burnt", 5)]
    page = _land(eidas_web, connector)
    assert "Enter the code from the letter" not in page.text  # the right code has nothing left to open
    late = eidas_web.post(
        f"/login/foreign/{_login_id(page)}/code", data={"code": letter["code"]}, headers={"Accept-Language": "en"}
    )
    assert late.status_code == 422
    assert "No letter with a code is waiting" in late.text
    assert sessions(session) == []


@pytest.mark.usefixtures("two_mattis")
def test_a_new_letter_replaces_the_old_and_no_more_than_three_go_in_30_days(
    eidas_web: TestClient, connector: Connector, session: Session
) -> None:
    for _ in range(4):
        assert "A letter is on its way" in _ask(eidas_web, connector, MATTI_HERE).text
    assert len(_letters(session)) == 3
    assert [row[2] for row in _links(session)] == ["superseded", "superseded", "pending"]
    # the old codes no longer work; the newest does
    [first, _, newest] = [payload["code"] for _, payload in _letters(session)]
    if first != newest:
        assert _enter(eidas_web, connector, first).status_code == 422
    assert _enter(eidas_web, connector, newest).status_code == 303


@pytest.mark.usefixtures("two_mattis")
def test_a_code_expires_after_30_days(eidas_web: TestClient, connector: Connector, session: Session) -> None:
    _ask(eidas_web, connector, MATTI_HERE)
    session.execute(text("UPDATE foreign_links SET expires_at = :t"), {"t": dt.datetime.now(dt.UTC)})
    session.commit()
    page = _land(eidas_web, connector)
    assert "Enter the code from the letter" not in page.text
    [(_, letter)] = _letters(session)
    late = eidas_web.post(f"/login/foreign/{_login_id(page)}/code", data={"code": letter["code"]})
    assert late.status_code == 422
    assert sessions(session) == []


def test_a_link_never_goes_to_a_person_whose_name_does_not_fit(
    eidas_web: TestClient, connector: Connector, session: Session, accounts: str
) -> None:
    """Born the same day, but another name: no candidate, so no letter, whatever number is given."""
    other = pnr(19, "19800101")
    report(eidas_web, accounts, account_record(se_iban(7), (other, "Sven Svensson")))
    assert "A letter is on its way" in _ask(eidas_web, connector, other).text
    assert _letters(session) == []
