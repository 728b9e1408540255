"""The main flows in a real browser: a citizen logs in at an independent OpenID provider, sees her
payments, changes her account with the keyboard alone and downloads her statement; a caseworker
serves her; every page passes axe-core's WCAG 2.1 AA checks."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Page, expect

from saldo.http import i18n
from saldo.kit.clock import today
from tests.e2e.conftest import Site, axe_violations
from tests.factories import VALID_PNR, csv_file, payment_body, se_iban


def log_in_at_oidc_provider(page: Page, site: Site, personnummer: str = VALID_PNR, level: str = "substantial") -> None:
    page.goto(f"{site.base}/?lang=en")
    page.get_by_role("link", name="Log in with eID").click()
    page.get_by_role("link", name="Test eID (oidc-provider)").click()
    expect(page).to_have_url(re.compile("^" + re.escape(site.idp)))
    page.get_by_label("Personal identity number").fill(personnummer)
    page.get_by_label("Level of assurance").select_option(level)
    page.get_by_role("button", name="Identify").click()


def test_a_citizen_logs_in_at_an_independent_provider_and_sees_her_payments(page: Page, site: Site) -> None:
    log_in_at_oidc_provider(page, site)
    expect(page).to_have_url(f"{site.base}/me")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your public payments")
    expect(page.get_by_role("cell", name="Exempelkommunen")).to_be_visible()
    expect(page.get_by_role("cell", name="Försäkringskassan")).to_be_visible()
    # on a wide screen the payments are a table (the cards are for phones only)
    assert page.evaluate("getComputedStyle(document.querySelector('table.card-table')).display") == "table"
    # who looked at her data, and why
    expect(page.get_by_text("kontroll av utbetalning efter dödsfall")).to_be_visible()
    assert axe_violations(page) == []


def test_a_login_below_substantial_is_refused(page: Page, site: Site) -> None:
    log_in_at_oidc_provider(page, site, level="low")
    expect(page.get_by_role("alert")).to_contain_text("below substantial")
    assert axe_violations(page) == []


def test_the_citizen_changes_her_account_with_the_keyboard_alone(page: Page, site: Site) -> None:
    log_in_at_oidc_provider(page, site)
    page.goto(f"{site.base}/me#account")
    first = page.get_by_label(se_iban(1))
    first.focus()
    page.keyboard.press("Space")  # select the first account
    page.keyboard.press("ArrowDown")  # move to the second: arrow keys select within a radio group
    expect(page.get_by_label(se_iban(2))).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Use this account")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Your account is changed")
    expect(page.get_by_text(f"Your public payments go to {se_iban(2)}")).to_be_visible()
    assert axe_violations(page) == []


def test_at_phone_width_every_payment_fits_the_screen_as_a_card(page: Page, site: Site) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    log_in_at_oidc_provider(page, site)
    expect(page).to_have_url(f"{site.base}/me")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing runs off the side
    amounts = page.locator("table.card-table td.num")
    assert amounts.count() > 0
    for index in range(amounts.count()):
        box = amounts.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 375
    # each value is named by its column, and the table still reads as a table
    expect(page.get_by_role("cell", name="Exempelkommunen").first).to_be_visible()
    assert axe_violations(page) == []


def test_the_api_reference_works_without_reaching_any_other_host(page: Page, site: Site) -> None:
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.goto(f"{site.base}/docs")
    expect(page.get_by_role("heading", name=re.compile("^Saldo"))).to_be_visible()
    expect(page.get_by_text("/api/v1/payments").first).to_be_visible()  # drawn from Saldo's OpenAPI
    assert hosts == {urlsplit(site.base).netloc}


def test_the_skip_link_is_the_first_stop_and_leads_to_the_content(page: Page, site: Site) -> None:
    page.goto(f"{site.base}/?lang=en")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_the_citizen_downloads_her_statement(page: Page, site: Site) -> None:
    log_in_at_oidc_provider(page, site)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the statement").click()
    path = download.value.path()
    assert path is not None
    assert path.read_bytes()[:5] == b"%PDF-"


PAGES = (
    "/",
    "/login",
    "/me",
    "/me/applications",
    "/me/applications/new/pda1",
    "/me/applications/new/ehic",
    "/me/foreign-eids",
    "/verifier",
)


def _english_left(language: str) -> list[str]:
    """The English sentences of the catalogue that the language says otherwise: none may show on its pages."""
    translations = i18n.translations(language)
    with (i18n.LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        english = [m.id for m in read_po(source) if isinstance(m.id, str) and m.id]
    return [m for m in english if "%" not in m and len(m.split()) >= 3 and translations.gettext(m) != m]


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_the_citizen_s_pages_read_in_every_language(page: Page, site: Site, lang: str) -> None:
    """Each page in the language chosen: the document's language set, the words translated (no
    English sentence of the catalogue left on a page in another language) and axe-core's checks."""
    log_in_at_oidc_provider(page, site)
    english = _english_left(lang) if lang != "en" else []
    assert lang == "en" or len(english) > 400  # the check has the catalogue's sentences to look for
    for path in PAGES:
        page.goto(f"{site.base}{path}?lang={lang}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        text = page.inner_text("body")
        assert [m for m in english if m in text] == [], path
        assert axe_violations(page) == [], path
    page.goto(f"{site.base}/me?lang={lang}")
    heading = i18n.translations(lang).gettext("Your public payments")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def test_a_caseworker_serves_a_citizen_through_the_assisted_channel(page: Page, site: Site) -> None:
    page.goto(f"{site.dev}/login?audience=staff&lang=en")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Development eID for staff").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Development eID")
    assert axe_violations(page) == []
    page.get_by_label("Karin Handläggare").check()
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{site.dev}/staff")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Serve a citizen").click()
    assert axe_violations(page) == []
    page.get_by_label("The citizen's personal identity number").fill(VALID_PNR)
    page.get_by_role("radio", name="The person asked for help by telephone").check()
    page.get_by_role("button", name="Act for this citizen").click()
    expect(page.get_by_role("status").first).to_contain_text("You are acting for")
    expect(page.get_by_role("cell", name="Exempelkommunen")).to_be_visible()
    expect(page.locator(".who")).to_have_text("Karin Handläggare")
    assert axe_violations(page) == []
    # at the service office: the form to link a foreign eID, and what it says when it cannot
    page.get_by_role("link", name="eIDs of other countries that open your pages").click()
    expect(page.get_by_role("heading", name="Link an eID of another country")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Reference").fill("999999")
    page.get_by_label("Identity document seen").select_option("passport")
    page.get_by_label("The document's number").fill("P1234567")
    page.get_by_role("button", name="Link the eID to this person").click()
    expect(page.get_by_role("alert")).to_contain_text("No login with an eID of another country has this reference")
    expect(page.get_by_label("The document's number")).to_have_value("P1234567")
    assert axe_violations(page) == []


def test_the_start_page_lets_a_visitor_enter_as_citizen_or_staff(page: Page, site: Site) -> None:
    page.goto(f"{site.base}/?lang=en")
    expect(page.get_by_role("heading", name="Enter Saldo")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Log in with eID").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to see your payments")
    assert axe_violations(page) == []


def test_an_analyst_works_the_workbench_from_dashboard_to_case(page: Page, site: Site) -> None:
    page.goto(f"{site.dev}/?lang=en")
    page.goto(f"{site.dev}/login/dev-staff?next=/staff/workbench")
    page.get_by_label("Anna Analytiker").check()
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Workbench")
    expect(page.get_by_role("img", name="Findings by rule")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Triage", exact=True).click()
    expect(page.get_by_text("Reason: mutually_exclusive_benefits")).to_be_visible()
    assert axe_violations(page) == []
    first = page.get_by_role("group", name="Purpose of opening a case").first
    expect(first.get_by_role("radio", name="A finding points at an incorrect payment")).to_be_checked()
    page.get_by_role("button", name="Open a case").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Case G-")
    expect(page.get_by_text(VALID_PNR).first).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Assign to").select_option("anna.analytiker")
    page.get_by_role("button", name="Assign the case").click()
    expect(page.get_by_text("Anna Analytiker at the payment authority").first).to_be_visible()
    page.get_by_label("Household").check()
    page.get_by_label("What the authority needs to know, and why").fill("Vilka bor i hushållet?")
    page.get_by_label("Answer by").fill(f"{today().year + 1}-01-31")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Awaiting information").first).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Cases").click()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Fairness").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fairness report")
    assert axe_violations(page) == []


def test_a_payer_sends_a_file_and_reads_every_bad_record_in_the_browser(page: Page, site: Site, tmp_path: Path) -> None:
    page.goto(f"{site.dev}/?lang=en")
    page.get_by_role("link", name="Log in as a payer").click()
    page.get_by_role("link", name="Development eID for payers").click()
    page.get_by_label("Petra").check()
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exempelkommunen")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Send a payment file").click()
    bad = tmp_path / "nightly.csv"
    bad.write_text(csv_file([payment_body(), payment_body(amount_minor=0)]), encoding="utf-8")
    page.get_by_label("Payment file").set_input_files(bad)
    page.get_by_role("button", name="Check and register").click()
    expect(page.get_by_role("alert")).to_contain_text("nightly.csv is rejected")
    expect(page.get_by_role("cell", name="amount_minor")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Send another file").click()
    good = tmp_path / "fixed.csv"
    good.write_text(csv_file([payment_body(reference="E2E-FIXED-1")]), encoding="utf-8")
    page.get_by_label("Payment file").set_input_files(good)
    page.get_by_role("button", name="Check and register").click()
    expect(page.get_by_role("status")).to_contain_text("fixed.csv is accepted")
    page.get_by_role("link", name="Payments", exact=True).click()
    expect(page.get_by_role("cell", name="E2E-FIXED-1")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="E2E-FIXED-1").click()
    page.get_by_label("Reason").first.fill("the decision is appealed")
    page.get_by_role("button", name="Hold the payment").click()
    expect(page.get_by_role("status")).to_contain_text("the decision is appealed")
    expect(page.get_by_role("button", name="Release the payment")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Information requests").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Information requests")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Notifications").click()
    assert axe_violations(page) == []
