"""The citizen's pages list the PDA1 and EHIC issued to the person, with their status and whether a
wallet has collected them — and nobody else's."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.credentials.test_issuing import decision_body, issue_ehic, issue_pda1
from tests.credentials.wallet import Wallet
from tests.factories import OTHER_PNR, VALID_PNR
from tests.web_login import dev_login


def test_the_person_sees_their_credentials_and_their_status(issuer_web: TestClient, officer: dict[str, str]) -> None:
    ehic = issue_ehic(issuer_web, officer)  # issued to tests.credentials.test_issuing.PERSON
    pda1 = issue_pda1(issuer_web, officer, person_id=VALID_PNR)
    Wallet().receive(issuer_web, pda1["offer"]["credential_offer_uri"], pda1["offer"]["tx_code"])
    number = pda1["credential"]["document_number"]
    issuer_web.post(f"/api/v1/staff/credentials/{number}/suspend", json={"reason": "checking"}, headers=officer)
    issuer_web.cookies.clear()
    dev_login(issuer_web, VALID_PNR)
    page = issuer_web.get("/me", params={"lang": "en"}).text
    assert "Your PDA1 and European Health Insurance Card" in page
    assert number in page
    assert "suspended" in page
    assert "in your wallet since" in page
    assert ehic["credential"]["document_number"] not in page  # another person's
    overview = issuer_web.get("/api/v1/me/overview").json()
    assert [(k["document_number"], k["kind"], k["state"]) for k in overview["credentials"]] == [
        (number, "pda1", "suspended")
    ]
    assert overview["credentials"][0]["in_wallet_since"] is not None


def test_a_person_without_credentials_is_told_so(issuer_web: TestClient) -> None:
    dev_login(issuer_web, OTHER_PNR)
    page = issuer_web.get("/me", params={"lang": "en"}).text
    assert "No PDA1 or European Health Insurance Card has been issued to you here." in page
    assert decision_body()["person_id"] not in page
