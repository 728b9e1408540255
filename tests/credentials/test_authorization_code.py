"""OpenID4VCI's authorisation code flow: a person logged in with eID chooses which of their own
credentials their wallet may fetch; the wallet trades the code with its PKCE verifier."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from saldo.staff.models import Role
from tests.credentials.test_issuing import issue_pda1
from tests.credentials.wallet import Wallet, collect_with_token, start_authorization, token_for_code
from tests.factories import OTHER_PNR, VALID_PNR, make_staff
from tests.web_login import csrf_of, dev_login, start_assisting

ISSUER = "http://testserver"
CASEWORKER_PNR = "197802022389"


def _choose(client: TestClient, url: str, decision: str, document_number: str | None = None) -> str:
    page = client.get(url, params={"lang": "en"} if "?" not in url else None)
    assert page.status_code == 200, page.text
    form = {"csrf": csrf_of(page.text), "decision": decision}
    for name, values in parse_qs(urlsplit(url).query).items():
        form[name] = values[0]
    if document_number:
        form["document_number"] = document_number
    answer = client.post("/credentials/authorize", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def test_a_person_sends_their_pda1_to_their_wallet(issuer_web: TestClient, officer: dict[str, str]) -> None:
    number = issue_pda1(issuer_web, officer, person_id=VALID_PNR)["credential"]["document_number"]
    issuer_web.cookies.clear()
    start = start_authorization("pda1_dc_sd_jwt")
    assert issuer_web.get(start.url, follow_redirects=False).headers["location"].startswith("/login?")
    dev_login(issuer_web, VALID_PNR)
    page = issuer_web.get(start.url, headers={"Accept-Language": "en"})
    assert number in page.text
    assert "wallet.example" in page.text  # the person sees where it goes
    back = _choose(issuer_web, start.url, "send", number)
    assert back.startswith(start.redirect_uri)
    query = parse_qs(urlsplit(back).query)
    assert query["state"] == [start.state]
    assert query["iss"] == [ISSUER]
    wrong = token_for_code(issuer_web, start, query["code"][0], verifier="x" * 43)
    assert wrong.json()["error"] == "invalid_grant"
    token = token_for_code(issuer_web, start, query["code"][0])
    assert token.status_code == 200, token.text
    collected = collect_with_token(Wallet(), issuer_web, token.json()["access_token"], ISSUER)
    assert collected.status_code == 200, collected.text
    again = token_for_code(issuer_web, start, query["code"][0])
    assert again.json()["error"] == "invalid_grant"  # a code is used once


def test_refusing_tells_the_wallet_access_denied(issuer_web: TestClient, officer: dict[str, str]) -> None:
    issue_pda1(issuer_web, officer, person_id=VALID_PNR)
    issuer_web.cookies.clear()
    dev_login(issuer_web, VALID_PNR)
    start = start_authorization("pda1_dc_sd_jwt")
    back = parse_qs(urlsplit(_choose(issuer_web, start.url, "refuse")).query)
    assert back["error"] == ["access_denied"]
    assert back["state"] == [start.state]


def test_nobody_sends_another_persons_credential(issuer_web: TestClient, officer: dict[str, str]) -> None:
    theirs = issue_pda1(issuer_web, officer, person_id=OTHER_PNR)["credential"]["document_number"]
    issuer_web.cookies.clear()
    dev_login(issuer_web, VALID_PNR)
    start = start_authorization("pda1_dc_sd_jwt")
    page = issuer_web.get(start.url)
    assert theirs not in page.text
    form = {"csrf": csrf_of(page.text), "decision": "send", "document_number": theirs}
    form.update({k: v[0] for k, v in parse_qs(urlsplit(start.url).query).items()})
    answer = issuer_web.post("/credentials/authorize", data=form, follow_redirects=False)
    assert answer.status_code == 404


def test_a_request_that_cannot_be_trusted_is_answered_on_the_page(issuer_web: TestClient) -> None:
    dev_login(issuer_web, VALID_PNR)
    for overrides in (
        {"redirect_uri": "javascript:alert(1)"},
        {"redirect_uri": "http://evil.example/cb"},
        {"code_challenge_method": "plain"},
        {"scope": "pid"},
    ):
        scope = overrides.pop("scope", "pda1_dc_sd_jwt")
        page = issuer_web.get(start_authorization(scope, **overrides).url, follow_redirects=False)
        assert page.status_code == 400, overrides
        assert "cannot be answered" in page.text or "kan inte besvaras" in page.text


def test_the_metadata_names_both_flows(issuer_client: TestClient) -> None:
    metadata = issuer_client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["authorization_endpoint"] == f"{ISSUER}/credentials/authorize"
    assert set(metadata["grant_types_supported"]) == {
        "authorization_code",
        "urn:ietf:params:oauth:grant-type:pre-authorized_code",
    }
    assert metadata["code_challenge_methods_supported"] == ["S256"]


def test_a_caseworker_acting_for_the_person_sees_nothing_and_sends_nothing(
    issuer_web: TestClient, officer: dict[str, str], session: Session
) -> None:
    number = issue_pda1(issuer_web, officer, person_id=VALID_PNR)["credential"]["document_number"]
    make_staff(session, "karin.cw", CASEWORKER_PNR, Role.CASEWORKER)
    session.commit()
    issuer_web.cookies.clear()
    assert dev_login(issuer_web, CASEWORKER_PNR, provider="dev-staff", next="/staff").status_code == 303
    assert start_assisting(issuer_web, VALID_PNR, "assisted_service").status_code == 303
    start = start_authorization("pda1_dc_sd_jwt")
    page = issuer_web.get(start.url)
    assert page.status_code == 403
    assert number not in page.text
    form = {"csrf": csrf_of(page.text), "decision": "send", "document_number": number}
    form.update({k: v[0] for k, v in parse_qs(urlsplit(start.url).query).items()})
    sent = issuer_web.post("/credentials/authorize", data=form, follow_redirects=False)
    assert sent.status_code == 400
    assert "not on their behalf" in sent.text
