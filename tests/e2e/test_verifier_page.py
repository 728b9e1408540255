"""The verifier page in a real browser: an inspector asks for an EHIC with the keyboard, a wallet
answers the request the page shows, and the page turns to the answer by itself — valid, then not
valid once the issuer has revoked it; every page passes axe-core's WCAG 2.1 AA checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from saldo.app import create_app
from saldo.credentials.service.keys import certificate_pem, issue_issuer, issue_trust_anchor
from saldo.kit.clock import today
from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.conftest import live_database, serve_in_thread
from tests.credentials.wallet import Wallet, answer_request
from tests.e2e.conftest import _free_port, axe_violations
from tests.factories import VALID_PNR, auth


@dataclass(frozen=True)
class Verifier:
    base: str
    officer: dict[str, str]


@pytest.fixture(scope="module")
def verifier_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Verifier]:
    folder = tmp_path_factory.mktemp("verifier")
    anchor = issue_trust_anchor()
    issue_issuer(anchor, "Försäkringskassan", "SE").write(folder / "issuer.key", folder / "issuer.pem")
    (folder / "anchors.pem").write_text(certificate_pem(anchor.certificate), encoding="ascii")
    settings, engine = live_database("saldo_e2e_verifier", folder)
    port = _free_port()
    configured = settings.model_copy(
        update={
            "public_url": f"http://127.0.0.1:{port}",
            "eessi_institution": "SE:FKA01",
            "credentials_key": folder / "issuer.key",
            "credentials_chain": folder / "issuer.pem",
            "credentials_trust_anchors": folder / "anchors.pem",
            "credentials_status_list_size": 4096,
        }
    )
    with Session(engine) as session:
        create_staff(session, username="e2e.issuer", name="Ida", roles=[Role.ISSUER])
        token = issue_staff_token(session, username="e2e.issuer", label="e2e")
        session.commit()
    base, stop = serve_in_thread(create_app(configured, engine=engine), port=port)
    try:
        yield Verifier(base, auth(token))
    finally:
        stop()
        engine.dispose()


def _ehic(site: Verifier) -> tuple[Wallet, str, str]:
    day = today()
    with httpx.Client(base_url=site.base) as client:
        issued = client.post(
            "/api/v1/staff/credentials",
            json={
                "type": "ehic",
                "person_scheme": "se_personnummer",
                "person_id": VALID_PNR,
                "starting_date": day.isoformat(),
                "ending_date": (day + dt.timedelta(days=730)).isoformat(),
            },
            headers=site.officer,
        ).json()
        wallet = Wallet()
        credential = wallet.receive(client, issued["offer"]["credential_offer_uri"], issued["offer"]["tx_code"])
    return wallet, credential, issued["credential"]["document_number"]


def _ask_for_an_ehic(page: Page, site: Verifier) -> str:
    page.goto(f"{site.base}/verifier?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check a credential")
    assert axe_violations(page) == []
    page.get_by_label("European Health Insurance Card").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Show the request").press("Enter")
    expect(page.get_by_role("img", name="QR code of the request for the wallet")).to_be_visible()
    assert axe_violations(page) == []
    link = page.get_by_role("link", name="open the wallet").get_attribute("href")
    assert link is not None
    assert link.startswith("openid4vp://")
    return link


def test_an_inspector_sees_a_valid_card_then_a_revoked_one(page: Page, verifier_site: Verifier) -> None:
    wallet, credential, number = _ehic(verifier_site)
    link = _ask_for_an_ehic(page, verifier_site)
    with httpx.Client(base_url=verifier_site.base) as client:
        assert answer_request(wallet, client, link, credential).status_code == 200
    # the page asks whether the answer has come, and shows it by itself
    expect(page.get_by_role("status")).to_contain_text("Valid.", timeout=10_000)
    expect(page.get_by_role("cell", name=VALID_PNR)).to_be_visible()
    assert axe_violations(page) == []

    with httpx.Client(base_url=verifier_site.base) as client:
        revoked = client.post(
            f"/api/v1/staff/credentials/{number}/revoke",
            json={"reason": "card replaced"},
            headers=verifier_site.officer,
        )
        assert revoked.status_code == 200
        link = _ask_for_an_ehic(page, verifier_site)
        assert answer_request(wallet, client, link, credential).status_code == 200
    expect(page.get_by_role("alert")).to_contain_text("The issuer has revoked the credential.", timeout=10_000)
    assert axe_violations(page) == []
