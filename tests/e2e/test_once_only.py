"""The once-only journey in Chromium, across two real gateways (tests/onceonly/nodes.py): a person
with an application at FI asks for the statement of their public payments from SE, follows the link
to SE's preview, approves it there, comes back to FI and finds the evidence attached. In each of the
nine languages; every page passes axe-core's WCAG 2.1 A and AA checks, says its language and shows
no English sentence of the catalogue in another language.

The logins themselves are made over HTTP and handed to the browser as cookies (the login journeys
have browser tests of their own); each gateway is a host of its own (FI on localhost, SE on
127.0.0.1), so the browser keeps the two sessions apart as it would for two authorities."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from saldo.http import i18n
from tests.e2e.conftest import ARTIFACTS, axe_violations
from tests.e2e.test_citizen_flow import _english_left
from tests.eessi.conftest import Pki, pki  # noqa: F401 — the fixture, by its name
from tests.eessi.test_nodes import NodeProcess, wait_until
from tests.factories import pnr
from tests.onceonly.nodes import HOSTS, public, running_gateways, state
from tests.onceonly.nodes import browser as http_client
from tests.procedures.test_applications import open_form, pda1_form
from tests.web_login import dev_login

PERSONS = {language: pnr(41 + n, f"19{60 + n}0203") for n, language in enumerate(sorted(i18n.LANGUAGES))}


@pytest.fixture(scope="module")
def gateways(
    tmp_path_factory: pytest.TempPathFactory,
    pki: Pki,  # noqa: F811 — the fixture imported above
    worker_id: str,
) -> Iterator[dict[str, NodeProcess]]:
    with running_gateways(tmp_path_factory.mktemp("oots-e2e"), pki, worker_id) as made:
        yield made


def logged_in(node: NodeProcess, personnummer: str) -> httpx.Client:
    client = http_client(node)
    assert dev_login(client, personnummer).status_code == 303
    return client


def checked(page: Page, lang: str, english: list[str]) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)
    text = page.inner_text("body")
    assert [m for m in english if m in text] == [], page.url
    assert axe_violations(page) == [], page.url


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_a_person_fetches_evidence_from_another_country_after_seeing_it_there(
    browser: Browser, gateways: dict[str, NodeProcess], lang: str, request: pytest.FixtureRequest
) -> None:
    se, fi = gateways["se"], gateways["fi"]
    person = PERSONS[lang]
    english = _english_left(lang) if lang != "en" else []
    at_fi, at_se = logged_in(fi, person), logged_in(se, person)
    sent = at_fi.post("/me/applications/new/pda1", data={**open_form(at_fi, "pda1"), **pda1_form()})  # type: ignore[arg-type]
    reference = sent.headers["location"].split("/")[-1].split("?")[0]
    context = browser.new_context(locale="en-GB", ignore_https_errors=True, viewport={"width": 1280, "height": 900})
    for client, node in ((at_fi, fi), (at_se, se)):
        host = HOSTS[node.institution.lower()]
        context.add_cookies(
            [{"name": c.name, "value": c.value or "", "domain": host, "path": "/"} for c in client.cookies.jar]
        )
    page = context.new_page()
    try:
        page.goto(f"{public(fi)}/me/applications/{reference}?lang={lang}")
        checked(page, lang, english)
        page.locator(f"a[href='/me/applications/{reference}/evidence']").click()
        checked(page, lang, english)
        page.locator("input[type=radio][name=choice]").first.check()
        page.locator("form[action$='/evidence'] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/me/evidence/\d+$"))
        wait_until(lambda: state(fi, "requester") == "preview", "FI told to send the person to SE's preview")
        page.reload()
        checked(page, lang, english)

        page.locator("a.button[href*='/me/evidence/preview/']").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(public(se))}/me/evidence/preview/"))
        page.goto(f"{page.url}&lang={lang}")
        checked(page, lang, english)
        expect(page.get_by_text("Kela").first).to_be_visible()
        page.locator("button[name=decision][value=approve]").click()
        expect(page.locator("a.button[href*='/returned']")).to_be_visible()
        checked(page, lang, english)
        page.locator("a.button[href*='/returned']").click()

        expect(page).to_have_url(re.compile(rf"^{re.escape(public(fi))}/me/evidence/\d+$"))
        wait_until(lambda: state(fi, "requester") == "delivered", "the evidence arriving at FI")
        page.reload()
        checked(page, lang, english)
        expect(page.locator("a[href$='/document']")).to_be_visible()
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        context.close()
        at_fi.close()
        at_se.close()
