"""The person sees in their own pages what was exchanged with institutions abroad about them: with
which institution and country, about what, why, and which SEDs went each way; and nobody else's."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from saldo.eessi import service
from saldo.eessi.service import Node
from saldo.staff.models import Role
from tests.eessi.conftest import DE, FI, person
from tests.factories import make_staff
from tests.web_login import dev_login

PERSONNUMMER = "195203041230"
OTHER = "198112189876"


def test_the_person_sees_the_exchanges_about_them_and_no_one_else_s(
    web: TestClient, session: Session, se_node: Node
) -> None:
    question = {"benefitType": "unemployment", "period": {"startDate": "2026-03-01"}, "question": "Paid in March?"}
    case = service.open_case(
        session, se_node, buc_type="H_BUC_01", partner=FI, content=question,
        person=service.PersonRef("se_personnummer", PERSONNUMMER, person()),
        purpose="A finding: unemployment benefit while working in Finland?", by="anna",
    )  # fmt: skip
    # a second institution joins the case and is asked too
    service.send_sed(session, se_node, case, "X005", {"institutionID": DE}, by="anna")
    service.send_sed(session, se_node, case, "H001", question, to=DE, by="anna")
    session.commit()

    dev_login(web, PERSONNUMMER)
    [exchange] = web.get("/api/v1/me/overview").json()["exchanges"]
    assert (exchange["buc_type"], exchange["institution"], exchange["country"]) == ("H_BUC_01", FI, "FI")
    assert exchange["started_here"] is True
    assert exchange["purpose"] == "A finding: unemployment benefit while working in Finland?"
    assert [(s["sed_type"], s["direction"], s["institution"]) for s in exchange["seds"]] == [
        ("H001", "sent", FI),
        ("X005", "sent", FI),
        ("H001", "sent", DE),
        ("X005", "sent", DE),  # DE told that FI takes part
    ]
    page = web.get("/me").text
    assert f"H001 skickat ({DE})" in page  # each SED to another institution than the first names it
    assert "En fråga eller ett besked om en förmån" in page  # the page speaks Swedish by default
    assert "FI:KELA01 (FI)" in page
    assert "A finding: unemployment benefit while working in Finland?" in page

    web.post("/logout", data={})
    web.cookies.clear()
    dev_login(web, OTHER)
    assert web.get("/api/v1/me/overview").json()["exchanges"] == []
    assert "har inte utbytt några uppgifter om dig med institutioner i andra länder" in web.get("/me").text


def test_staff_see_cross_border_cases_in_the_workbench_and_a_payer_or_citizen_does_not(
    web: TestClient, session: Session, se_node: Node
) -> None:
    question = {"benefitType": "sickness", "period": {"startDate": "2026-03-01"}, "question": "Paid?"}
    case = service.open_case(
        session, se_node, buc_type="H_BUC_01", partner=FI, content=question,
        person=service.PersonRef("se_personnummer", PERSONNUMMER, person()), purpose="a finding", by="anna",
    )  # fmt: skip
    make_staff(session, "anna", "198112189876", Role.AUDITOR)
    session.commit()

    dev_login(web, PERSONNUMMER)
    assert web.get("/staff/cross-border", follow_redirects=False).status_code in (302, 303, 401, 403)
    web.cookies.clear()
    assert dev_login(web, "198112189876", provider="dev-staff", next="/staff").status_code == 303
    page = web.get("/staff/cross-border")
    assert page.status_code == 200
    assert case.case_id in page.text
    assert "H001" in page.text  # waiting for an answer, with its deadline
    assert PERSONNUMMER not in page.text  # the list names nobody
    detail = web.get(f"/staff/cross-border/{case.case_id}")
    assert detail.status_code == 200
    assert "FI:KELA01" in detail.text
    service.send_sed(session, se_node, case, "X005", {"institutionID": DE}, by="anna")
    service.send_sed(session, se_node, case, "H001", {**question, "question": "And in Germany?"}, by="anna")
    session.commit()
    detail = web.get(f"/staff/cross-border/{case.case_id}")
    assert f"{FI}, {DE}</li>" in detail.text  # the case's participants
    assert f"skickat · {DE}</td>" in detail.text  # the SED that went to the one added names it
    assert web.get("/staff/cross-border/SE:FKA01-nosuchcase").status_code == 404
