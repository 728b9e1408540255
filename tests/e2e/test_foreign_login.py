"""A person from Finland logs in with their Finnish eID in a real browser: Saldo's login page sends
them to the eIDAS-Connector (here pysaml2's identity provider, answering in the browser), the signed
and encrypted answer is posted back, and they land on their own payments — or, with a name that
fits two persons here, on a page that opens nothing and gives a reference. Logged in, they apply for a PDA1 and read the
decision, in Finnish, Swedish and English. Every page passes axe-core's WCAG 2.1 AA checks."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from saldo.app import create_app
from saldo.banks.service import create_bank, issue_bank_token
from saldo.identity.http import SESSION_COOKIE
from saldo.kit.clock import today
from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.conftest import live_database, serve_in_thread
from tests.credentials.issuer_files import issuer_environment
from tests.crossborder.connector import SSO, Connector, Person, key_and_certificate
from tests.e2e.conftest import _free_port, axe_violations
from tests.factories import account_record, auth, pnr, se_iban

MATTI = Person("FI/SE/010180-123A", "Matti", "Virtanen", "1980-01-01")
AINO = Person("FI/SE/020290-456B", "Aino", "Laine", "1990-02-02")


@dataclass(frozen=True)
class Site:
    base: str
    connector: Connector
    officer: dict[str, str]  # an issuer's API headers: decides the applications
    engine: Engine  # where the letters to the registered addresses wait for the print service


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("foreign-login")
    settings, engine = live_database("saldo_e2e_foreign_login", folder)
    connector = Connector(folder)
    sp_key, sp_cert = key_and_certificate(folder, "saldo-sp")
    connector.sp_cert = sp_cert
    port = _free_port()
    issuer = issuer_environment(folder / "issuer", f"http://127.0.0.1:{port}")
    configured = settings.model_copy(
        update={
            "public_url": f"http://127.0.0.1:{port}",
            "eidas_connector_metadata": connector.metadata(),
            "eidas_sp_key": sp_key,
            "eidas_sp_cert": sp_cert,
            "eessi_institution": issuer["SALDO_EESSI_INSTITUTION"],
            "credentials_key": Path(issuer["SALDO_CREDENTIALS_KEY"]),
            "credentials_chain": Path(issuer["SALDO_CREDENTIALS_CHAIN"]),
        }
    )
    with Session(engine) as session:
        bank = create_bank(session, bic="ESSESESS", name="SEB")
        token = issue_bank_token(session, bank_id=bank.id, label="e2e").token
        create_staff(session, username="e2e.issuer", name="Ida", roles=[Role.ISSUER])
        officer = auth(issue_staff_token(session, username="e2e.issuer", label="e2e"))
        session.commit()
    base, stop = serve_in_thread(create_app(configured, engine=engine), port=port)
    try:
        records = [
            account_record(se_iban(1), (pnr(17, "19800101"), "Matti Virtanen")),
            account_record(se_iban(2), (pnr(18, "19900202"), "Aino Laine")),
            account_record(se_iban(3), (pnr(19, "19900202"), "Aino Laine")),
        ]
        assert (
            httpx.post(f"{base}/api/v1/bank/accounts", json={"accounts": records}, headers=auth(token)).status_code
            == 200
        )
        connector.trust(httpx.get(f"{base}/auth/saml/metadata").text)
        yield Site(base, connector, officer, engine)
    finally:
        stop()
        engine.dispose()


def _connector_in_the_browser(page: Page, site: Site, person: Person) -> None:
    """The Connector's page: it reads Saldo's request and posts its answer back, as a form."""

    def answer(route: Route) -> None:
        saml = site.connector.answer(route.request.url, person)
        acs = f"{site.base}/auth/saml/acs"
        body = (
            '<!doctype html><html lang="en"><head><title>eID of Finland</title></head><body><main>'
            f'<h1>eID of Finland</h1><form method="post" action="{acs}">'
            f'<input type="hidden" name="SAMLResponse" value="{html.escape(saml)}">'
            '<button type="submit">Continue to the service</button></form></main></body></html>'
        )
        route.fulfill(status=200, content_type="text/html", body=body)

    page.route(f"{SSO}**", answer)


def _log_in(page: Page, site: Site) -> None:
    page.goto(f"{site.base}/login?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to see your payments")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Log in with a foreign eID (eIDAS)").press("Enter")
    page.get_by_role("button", name="Continue to the service").click()


def test_a_person_from_finland_sees_their_payments(page: Page, site: Site) -> None:
    _connector_in_the_browser(page, site, MATTI)
    _log_in(page, site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your public payments")
    assert axe_violations(page) == []


def test_a_name_two_persons_here_share_opens_nothing_until_a_code_by_letter_links_it(page: Page, site: Site) -> None:
    _connector_in_the_browser(page, site, AINO)
    _log_in(page, site)
    # the answer's cross-site POST carries no cookie, so Saldo sends the browser on to a page of its
    # own: in the language she chose with ?lang=en, not the browser's own (Swedish here, sv-SE)
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find you with certainty")
    expect(page.get_by_text("More than one person here could be you")).to_be_visible()
    assert axe_violations(page) == []
    assert SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}
    # she asks for more: her number here, and a code goes by letter to her registered address
    page.get_by_label("Your personal identity number here").fill(pnr(18, "19900202"))
    page.get_by_role("button", name="Send me a code by letter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A letter is on its way")
    assert axe_violations(page) == []
    with site.engine.connect() as connection:
        code = connection.execute(
            text("SELECT payload ->> 'code' FROM letters WHERE kind = 'foreign_eid_link' ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    # the letter came: she logs in again with the same eID and enters its code
    _log_in(page, site)
    expect(page.get_by_role("heading", level=3, name="Enter the code from the letter")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(f"{site.base}/me")
    expect(page.get_by_text(se_iban(2))).to_be_visible()
    assert axe_violations(page) == []


# what the journey reads on the pages, in each language
WORDS = {
    "fi": {"waiting": "Odottaa päätöstä", "granted": "Hakemuksesi hyväksytään.", "apply": "Hae A1-todistusta (PDA1)"},
    "sv": {"waiting": "Väntar på beslut", "granted": "Din ansökan beviljas.", "apply": "Ansök om intyg A1 (PDA1)"},
    "en": {"waiting": "Waiting for a decision", "granted": "Your application is granted.", "apply": "Apply for a PDA1"},
}


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_a_person_from_finland_applies_for_a_pda1_and_reads_the_decision(page: Page, site: Site, lang: str) -> None:
    """Foreign login, the application form, the application waiting, the issuer's grant, the decision:
    in the language the person chose."""
    _connector_in_the_browser(page, site, MATTI)
    _log_in(page, site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your public payments")
    page.goto(f"{site.base}/me/applications?lang={lang}")
    assert axe_violations(page) == []
    page.get_by_role("link", name=WORDS[lang]["apply"], exact=True).click()
    assert axe_violations(page) == []
    start = today() + dt.timedelta(days=7)
    page.locator("#situation-01").check()
    page.locator("#employer-name").fill("Rakennus Oy")
    page.locator("#employer-id").fill("1234567-8")
    page.locator("#employer-country").select_option("FI")
    page.locator("#place-1-locality").fill("Stockholm")
    page.locator("#place-1-country").select_option("SE")
    page.locator("#start").fill(start.isoformat())
    page.locator("#end").fill((start + dt.timedelta(days=180)).isoformat())
    page.locator("form.stack button[type=submit]").click()
    expect(page.get_by_text(WORDS[lang]["waiting"])).to_be_visible()
    assert axe_violations(page) == []
    reference = page.url.split("/")[-1].split("?")[0]
    decision = {"starting_date": start.isoformat(), "ending_date": (start + dt.timedelta(days=180)).isoformat()}
    granted = httpx.post(
        f"{site.base}/api/v1/staff/applications/{reference}/grant", json=decision, headers=site.officer, timeout=30
    )
    assert granted.status_code == 200, granted.text
    page.reload()
    expect(page.get_by_text(WORDS[lang]["granted"])).to_be_visible()
    expect(page.get_by_text(granted.json()["credential"]).first).to_be_visible()
    assert axe_violations(page) == []
