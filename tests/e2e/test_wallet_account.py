"""A person designates an account at a bank abroad from their EU wallet, in a real browser: they ask
from their page with the keyboard, an independent wallet (oid4vc-ts with sd-jwt-js) answers the
request the page shows with their PID and their bank's account attestation, and the page turns to
the answer by itself; every page passes axe-core's WCAG 2.1 AA checks."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from saldo.app import create_app
from tests.conftest import live_database, serve_in_thread
from tests.credentials.conftest import PEER_DIR, Peer, WalletPki
from tests.credentials.test_account_attestation import FOREIGN_IBAN, PersonsWallet
from tests.e2e.conftest import _free_port, axe_violations
from tests.factories import VALID_PNR


@pytest.fixture(scope="module")
def wallet_site(tmp_path_factory: pytest.TempPathFactory, wallet_pki: WalletPki) -> Iterator[str]:
    settings, engine = live_database("saldo_e2e_wallet_account", tmp_path_factory.mktemp("wallet-account"))
    port = _free_port()
    configured = settings.model_copy(
        update={
            "public_url": f"http://127.0.0.1:{port}",
            "dev_login": True,
            "credentials_pid_trust_anchors": wallet_pki.pid_anchors,
            "credentials_bank_trust_anchors": wallet_pki.bank_anchors,
        }
    )
    base, stop = serve_in_thread(create_app(configured, engine=engine), port=port)
    try:
        yield base
    finally:
        stop()
        engine.dispose()


def test_a_person_designates_an_account_abroad_from_the_wallet(
    page: Page, wallet_site: str, peer: Peer, wallet_pki: WalletPki
) -> None:
    if not (PEER_DIR / "node_modules" / "@openid4vc" / "openid4vp").exists():
        pytest.skip("tests/credentials/peer/node_modules missing (python3 run.py test installs it with npm)")
    page.goto(f"{wallet_site}/login?lang=en")
    page.get_by_role("link", name="Development eID").click()
    page.get_by_label("Personal identity number").fill(VALID_PNR)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your public payments")
    page.get_by_role("button", name="Use an account from my wallet").press("Enter")
    expect(page.get_by_role("img", name="QR code of the request for the wallet")).to_be_visible()
    assert axe_violations(page) == []
    link = page.get_by_role("link", name="open the wallet").get_attribute("href")
    assert link is not None
    held = PersonsWallet(peer, wallet_pki)
    answered = peer(
        "answer",
        request_url=html.unescape(link),
        credentials={
            "pid": {"credential": held.pid, "holder_jwk": held.pid_key.export_private(as_dict=True)},
            "iban": {"credential": held.iban, "holder_jwk": held.iban_key.export_private(as_dict=True)},
        },
    )
    assert answered["ok"], answered
    # the page asks whether the answer has come, and shows it by itself
    expect(page.get_by_role("status")).to_contain_text(
        f"Your public payments now go to {FOREIGN_IBAN} at Nordea Bank Abp.", timeout=10_000
    )
    assert axe_violations(page) == []
    page.get_by_role("link", name="Back to your payments").click()
    expect(page.get_by_text("Your bank attested it in your wallet.")).to_be_visible()
    assert axe_violations(page) == []
