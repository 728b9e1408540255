"""The person sees in their own pages what was exchanged with institutions abroad about them: with
which institution and country, about what, why, and which SEDs went each way; and nobody else's."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from saldo.eessi import service
from saldo.eessi.service import Node
from tests.eessi.conftest import FI, person
from tests.web_login import dev_login

PERSONNUMMER = "195203041230"
OTHER = "198112189876"


def test_the_person_sees_the_exchanges_about_them_and_no_one_else_s(
    web: TestClient, session: Session, se_node: Node
) -> None:
    service.open_case(
        session, se_node, buc_type="H_BUC_01", partner=FI,
        content={"benefitType": "unemployment", "period": {"startDate": "2026-03-01"}, "question": "Paid in March?"},
        person=service.PersonRef("se_personnummer", PERSONNUMMER, person()),
        purpose="A finding: unemployment benefit while working in Finland?", by="anna",
    )  # fmt: skip
    session.commit()

    dev_login(web, PERSONNUMMER)
    [exchange] = web.get("/api/v1/me/exchanges").json()
    assert (exchange["buc_type"], exchange["institution"], exchange["country"]) == ("H_BUC_01", FI, "FI")
    assert exchange["started_here"] is True
    assert exchange["purpose"] == "A finding: unemployment benefit while working in Finland?"
    assert [(s["sed_type"], s["direction"]) for s in exchange["seds"]] == [("H001", "sent")]
    page = web.get("/me").text
    assert "En fråga eller ett besked om en förmån" in page  # the page speaks Swedish by default
    assert "FI:KELA01 (FI)" in page
    assert "A finding: unemployment benefit while working in Finland?" in page

    web.post("/logout", data={})
    web.cookies.clear()
    dev_login(web, OTHER)
    assert web.get("/api/v1/me/exchanges").json() == []
    assert "har inte utbytt några uppgifter om dig med institutioner i andra länder" in web.get("/me").text
