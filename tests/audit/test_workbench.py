"""The auditor's workbench in the browser's terms: the dashboard's figures and charts, triage that
opens a case (re-identifying, logged) or dismisses, the case page, and the roles each needs."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.cases.models import Case
from saldo.cases.service import assign_case, open_case
from saldo.inforequests.service import send_request
from saldo.kit.clock import today
from saldo.notifications.service import notify_payers
from saldo.payers.service import add_payer_user
from saldo.staff.models import Role
from tests.audit.conftest import World
from tests.factories import make_staff
from tests.web_login import csrf_of, dev_login

ANALYST_PNR = "197503149127"
CASEWORKER_PNR = "198501179561"
PAYER_USER = "197004128711"
AUDITOR_PNR = "198005219236"


def case_on(session: Session, world: World, finding: str) -> Case:
    """A case an analyst opened on one of the world's findings."""
    return open_case(
        session,
        world.staff[Role.ANALYST],
        world.pseudonyms,
        finding_ids=[world.findings[finding].id],
        purpose="suspected_error",
    )


def log_in_as_payer_a(web: TestClient, session: Session, world: World) -> None:
    """A person working for the world's first payer, logged in to its pages."""
    add_payer_user(
        session, organisation_number=world.payer_a.organisation_number, personnummer=PAYER_USER, name="Petra"
    )
    session.commit()
    dev_login(web, PAYER_USER, provider="dev-payer", next="/payer")


@pytest.fixture
def analyst(web: TestClient, session: Session, world: World) -> World:
    log_in_as_staff(web, session, "web.analyst", ANALYST_PNR, Role.ANALYST)
    return world


@pytest.mark.usefixtures("analyst")
class TestWorkbench:
    def test_the_analyst_sees_what_waits_for_them(self, web: TestClient, world: World) -> None:
        page = web.get("/staff/workbench", params={"lang": "en"}).text
        assert "What waits for you" in page
        assert '<a href="/staff/findings">Selected findings to triage</a>: 3' in page
        assert "Your cases to work" not in page  # an analyst works no case

    def test_the_dashboard_shows_findings_by_rule_as_a_chart_and_a_table(self, web: TestClient) -> None:
        page = web.get("/staff/workbench", params={"lang": "en"})
        assert page.status_code == 200
        assert '<svg class="chart" role="img"' in page.text
        assert "<title>Findings by rule</title>" in page.text
        # three selected findings and one in shadow mode
        assert "<dt>Findings</dt><dd>4</dd>" in page.text
        assert "<dt>Selected</dt><dd>3</dd>" in page.text

    def test_triage_opens_a_case_and_the_re_identification_is_logged(
        self, web: TestClient, world: World, session: Session
    ) -> None:
        queue = web.get("/staff/findings", params={"lang": "en"})
        assert "Reason for payment_after_death" in queue.text
        finding = world.findings["death"].id
        opened = web.post(
            f"/staff/findings/{finding}/case",
            data={"purpose": "utredning av dödsfall", "csrf": csrf_of(queue.text)},
            follow_redirects=False,
        )
        assert opened.status_code == 303
        case = web.get(opened.headers["location"], params={"lang": "en"})
        assert world.persons[2] in case.text
        actions = session.execute(
            text("SELECT action FROM access_log WHERE person_id = :p ORDER BY seq"), {"p": world.persons[2]}
        ).scalars()
        assert list(actions) == ["re_identify", "read_case"]

    def test_a_dismissal_needs_a_reason(self, web: TestClient, world: World) -> None:
        queue = web.get("/staff/findings")
        finding = world.findings["small"].id
        refused = web.post(f"/staff/findings/{finding}/dismiss", data={"reason": " ", "csrf": csrf_of(queue.text)})
        assert refused.status_code == 422
        done = web.post(
            f"/staff/findings/{finding}/dismiss",
            data={"reason": "under beloppsgränsen", "csrf": csrf_of(queue.text)},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert f"/staff/findings/{finding}/dismiss" not in web.get("/staff/findings").text

    def test_the_fairness_report_has_its_groups(self, web: TestClient) -> None:
        page = web.get("/staff/fairness", params={"lang": "en"})
        assert page.status_code == 200
        assert "Every rule and group" in page.text


def test_a_caseworker_may_not_open_the_workbench(web: TestClient, session: Session, world: World) -> None:
    log_in_as_staff(web, session, "web.caseworker", CASEWORKER_PNR, Role.CASEWORKER)
    refused = web.get("/staff/workbench", params={"lang": "en"})
    assert refused.status_code == 403
    assert "Not allowed" in refused.text


def test_a_citizen_session_is_not_a_staff_session(web: TestClient, world: World) -> None:
    dev_login(web, world.persons[0])
    assert web.get("/staff/workbench", follow_redirects=False).status_code == 303


def test_a_payer_user_records_the_outcome_of_a_notification_in_its_pages(
    web: TestClient, session: Session, world: World
) -> None:
    case = case_on(session, world, "death")
    notified = notify_payers(session, world.staff[Role.AUDITOR], case.id, summary="betalning efter dödsfall")
    log_in_as_payer_a(web, session, world)
    listing = web.get("/payer/notifications", params={"lang": "en"})
    assert f'href="/payer/notifications/{notified[0].id}"' in listing.text
    page = web.get(f"/payer/notifications/{notified[0].id}")
    refused = web.post(
        f"/payer/notifications/{notified[0].id}/outcome",
        data={"kind": "recovery_claim", "amount": "", "csrf": csrf_of(page.text)},
    )
    assert refused.status_code == 422
    assert "needs the amount" in refused.text
    done = web.post(
        f"/payer/notifications/{notified[0].id}/outcome",
        data={"kind": "recovery_claim", "amount": "1 250,50", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    kind, amount = session.execute(text("SELECT kind, amount_minor FROM notification_outcomes")).one()
    assert (kind, amount) == ("recovery_claim", 125050)


def test_a_payer_user_answers_an_information_request_with_text_and_a_document(
    web: TestClient, session: Session, world: World
) -> None:
    case = case_on(session, world, "death")
    asked = send_request(
        session,
        world.staff[Role.AUDITOR],
        case_id=case.id,
        payer_id=world.payer_a.payer_id,
        person=("se_personnummer", world.persons[2]),
        categories_asked=["decision_basis"],
        question="Vilket beslut ligger bakom utbetalningen?",
        deadline=today() + dt.timedelta(days=14),
    )
    log_in_as_payer_a(web, session, world)
    page = web.get(f"/payer/requests/{asked.id}", params={"lang": "en"})
    assert "Vilket beslut ligger bakom utbetalningen?" in page.text
    empty = web.post(f"/payer/requests/{asked.id}/answer", data={"csrf": csrf_of(page.text)})
    assert empty.status_code == 422
    sent = web.post(
        f"/payer/requests/{asked.id}/answer",
        data={"csrf": csrf_of(page.text), "data:decision_basis": "Beslut 2026-0042 om ekonomiskt bistånd"},
        files={"file": ("beslut.pdf", b"%PDF-1.4 test", "application/pdf")},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    data, filename = session.execute(text("SELECT data, filename FROM information_answers")).one()
    assert (data, filename) == ({"decision_basis": "Beslut 2026-0042 om ekonomiskt bistånd"}, "beslut.pdf")
    assert "takes no answer" in web.get(f"/payer/requests/{asked.id}", params={"lang": "en"}).text


def test_an_auditor_adds_a_note_and_notifies_the_payers_from_the_case_page(
    web: TestClient, session: Session, world: World
) -> None:
    case = case_on(session, world, "double")
    log_in_as_staff(web, session, "web.auditor", AUDITOR_PNR, Role.AUDITOR, name="Vera Revisor")
    assign_case(session, world.staff[Role.SUPERVISOR], case.id, to="web.auditor")
    session.commit()
    page = web.get(f"/staff/cases/{case.id}", params={"lang": "en"})
    assert "No notifications." in page.text
    assert "to Vera Revisor at the payment authority" in page.text  # the assignment names the person
    noted = web.post(
        f"/staff/cases/{case.id}/note",
        data={"text": "ringde kommunen", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert noted.status_code == 303
    refused = web.post(f"/staff/cases/{case.id}/notify", data={"summary": " ", "csrf": csrf_of(page.text)})
    assert refused.status_code == 422
    notified = web.post(
        f"/staff/cases/{case.id}/notify",
        data={"summary": "dubbla förmåner samma period", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert notified.status_code == 303
    after = web.get(f"/staff/cases/{case.id}", params={"lang": "en"}).text
    assert "ringde kommunen" in after
    # the case's payments come from two payers: each is notified of its own
    assert session.execute(text("SELECT count(*) FROM notifications WHERE case_id = :c"), {"c": case.id}).scalar() == 2
    assert "No notifications." not in after
    assert "Note · Vera Revisor at the payment authority · ringde kommunen" in after
    assert "staff:web.auditor" not in after
    # each person of the case reads, in their own log, which payer was told and why, by name
    told = session.execute(
        text("SELECT n.person_id, y.name FROM notifications n JOIN payers y ON y.id = n.payer_id WHERE n.case_id = :c"),
        {"c": case.id},
    ).all()
    person = told[0][0]
    payers = [name for who, name in told if who == person]
    dev_login(web, person)
    own = web.get("/me", params={"lang": "en"}).text
    for name in payers:
        assert f"Told {name}, which pays you, about the case" in own
    assert "To let a payer that pays you decide whether its payments to you were right" in own


def log_in_as_staff(
    web: TestClient, session: Session, username: str, personnummer: str, role: Role, *, name: str = ""
) -> None:
    make_staff(session, username, personnummer, role, name=name)
    session.commit()
    assert dev_login(web, personnummer, provider="dev-staff", next="/staff").status_code == 303


def post_case(
    web: TestClient, case_id: int, action: str, data: dict[str, object], *, purpose: str = ""
) -> tuple[int, str]:
    """Work the case from its page; whoever has no role on the case reads it for ``purpose``, and the
    page's forms carry the purpose on, so the case page after the work is read for it too."""
    page = web.get(f"/staff/cases/{case_id}", params={"lang": "en", **({"purpose": purpose} if purpose else {})})
    assert page.status_code == 200, page.text
    assert "Why do you read this case?" not in page.text
    response = web.post(
        f"/staff/cases/{case_id}/{action}",
        data={**data, "csrf": csrf_of(page.text), **({"read_purpose": purpose} if purpose else {})},
        params={"lang": "en"},
        follow_redirects=False,
    )
    if purpose and response.status_code == 303:
        assert response.headers["location"] == f"/staff/cases/{case_id}?{urlencode({'purpose': purpose})}"
    return response.status_code, response.text


def test_an_auditor_takes_a_case_asks_a_payer_and_closes_it_from_the_case_page(
    web: TestClient, session: Session, world: World
) -> None:
    case = case_on(session, world, "double")
    log_in_as_staff(web, session, "web.auditor", AUDITOR_PNR, Role.AUDITOR)
    # not yet theirs: the case page asks why before it shows anyone; the list offers to take it
    asked = web.get(f"/staff/cases/{case.id}", params={"lang": "en"})
    assert (asked.status_code, "Why do you read this case?" in asked.text) == (200, True)
    assert case_person(session, case.id)[1] not in asked.text
    listed = web.get("/staff/cases", params={"lang": "en"}).text
    assert "Take the case" in listed
    waiting = web.get("/staff/workbench", params={"lang": "en"}).text
    assert "Nothing waits for you now." in waiting  # an auditor triages nothing, and has no case yet
    unassigned = web.get("/staff/cases", params={"lang": "en", "show": "unassigned"}).text
    assert f'href="/staff/cases/{case.id}"' in unassigned
    assert f'href="/staff/cases/{case.id}"' not in web.get("/staff/cases", params={"show": "mine"}).text
    taken = web.post(
        f"/staff/cases/{case.id}/assign", data={"to": "web.auditor", "csrf": csrf_of(listed)}, follow_redirects=False
    )
    assert (taken.status_code, taken.headers["location"]) == (303, f"/staff/cases/{case.id}")
    page = web.get(f"/staff/cases/{case.id}", params={"lang": "en"}).text
    assert case_person(session, case.id)[1] in page
    assert 'value="diagnosis"' not in page  # patient-confidential categories are never offered
    assert "Read the findings and the payments. If the case needs facts only a payer has" in page  # next step
    waiting = web.get("/staff/workbench", params={"lang": "en"}).text
    assert '<a href="/staff/cases?show=mine">Your cases to work</a>: 1' in waiting
    assert f'href="/staff/cases/{case.id}"' in web.get("/staff/cases", params={"show": "mine"}).text
    status, refused = post_case(web, case.id, "assign", {"to": "test.supervisor"})
    assert status == 422
    assert "an auditor can take a case, not assign it to someone else" in refused

    deadline = today() + dt.timedelta(days=30)
    assert post_case(web, case.id, "deadline", {"deadline": deadline.isoformat()})[0] == 303
    status, refused = post_case(web, case.id, "deadline", {"deadline": "next week"})
    assert (status, "deadline: &#39;next week&#39; is not a date" in refused) == (422, True)

    person = case_person(session, case.id)
    ask = {
        "payer": str(world.payer_a.payer_id),
        "person": f"{person[0]}:{person[1]}",
        "category": ["decision_basis", "household"],
        "question": "Vilket beslut ligger till grund för utbetalningen?",
        "deadline": (today() + dt.timedelta(days=14)).isoformat(),
    }
    status, refused = post_case(web, case.id, "request", {**ask, "category": ["decision_basis", "diagnosis"]})
    assert status == 422
    assert "diagnosis: patient-confidential data is exempt" in refused
    status, refused = post_case(web, case.id, "request", {**ask, "deadline": today().isoformat()})
    assert (status, "is not in the future" in refused) == (422, True)
    assert session.execute(text("SELECT count(*) FROM information_requests")).scalar() == 0
    assert post_case(web, case.id, "request", ask)[0] == 303
    page = web.get(f"/staff/cases/{case.id}", params={"lang": "en"}).text
    due = (today() + dt.timedelta(days=14)).strftime("%-d %b %Y")
    assert f"An information request is out; the answer is due {due}." in page
    asked = session.execute(text("SELECT payer_id, categories FROM information_requests")).one()
    assert tuple(asked) == (world.payer_a.payer_id, ["decision_basis", "household"])

    status, refused = post_case(web, case.id, "close", {"reason": " "})
    assert (status, "closing a case needs a reason" in refused) == (422, True)
    assert post_case(web, case.id, "close", {"reason": "felaktig utbetalning återkrävd"})[0] == 303
    session.expire_all()
    closed = session.get(Case, case.id)
    assert closed is not None
    assert (closed.status.value, closed.assigned_to, closed.deadline) == ("closed", "web.auditor", deadline)
    kinds = session.execute(text("SELECT kind FROM case_events WHERE case_id = :c ORDER BY id"), {"c": case.id})
    assert [str(k) for (k,) in kinds] == ["opened", "assigned", "deadline", "request_sent", "status", "status"]
    after = web.get(f"/staff/cases/{case.id}", params={"lang": "en"}).text
    assert "Close the case" not in after


def case_person(session: Session, case_id: int) -> tuple[str, str]:
    row = session.execute(
        text("SELECT person_scheme, person_id FROM case_persons WHERE case_id = :c ORDER BY person_id LIMIT 1"),
        {"c": case_id},
    ).one()
    return str(row[0]), str(row[1])


def test_a_supervisor_assigns_a_case_to_an_auditor_and_only_to_one(
    web: TestClient, session: Session, world: World
) -> None:
    case = case_on(session, world, "double")
    log_in_as_staff(web, session, "web.supervisor", AUDITOR_PNR, Role.SUPERVISOR)
    page = web.get(f"/staff/cases/{case.id}", params={"lang": "en", "purpose": "supervision"}).text
    assert '<option value="test.auditor"' in page
    assert '<option value="test.analyst"' not in page
    assert "read without a role on the case, for: Supervising case work" in page
    status, refused = post_case(web, case.id, "assign", {"to": "test.analyst"}, purpose="supervision")
    assert status == 422
    assert "test.analyst cannot work cases" in refused
    status, refused = post_case(web, case.id, "assign", {"to": "nobody.here"}, purpose="supervision")
    assert (status, "no staff member" in refused) == (422, True)
    assert post_case(web, case.id, "assign", {"to": "test.auditor"}, purpose="supervision")[0] == 303
    session.expire_all()
    assigned = session.get(Case, case.id)
    assert assigned is not None
    assert (assigned.assigned_to, assigned.status.value) == ("test.auditor", "in_progress")
    assert "Send the request" not in page  # a supervisor does not send information requests


def test_an_analyst_cannot_work_a_case(web: TestClient, session: Session, world: World) -> None:
    case = case_on(session, world, "double")
    log_in_as_staff(web, session, "web.analyst", ANALYST_PNR, Role.ANALYST)
    status, _ = post_case(web, case.id, "close", {"reason": "not mine to close"}, purpose="quality_review")
    assert status == 403
    session.expire_all()
    assert session.get(Case, case.id).status.value == "open"  # type: ignore[union-attr]
