"""The journeys of the docs, walked in a real browser through the demo as ``python3 run.py demo``
builds and serves it (a small country; its own embedded database; the development eID): a citizen
with several accounts changes the one for public payments and sees a held and a cancelled payment,
an analyst triages a finding the demo left and opens a case, and a payer's user finds the open
information request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import _free_port, axe_violations


@dataclass(frozen=True)
class Demo:
    base: str
    journeys: dict[str, Any]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data = tmp_path_factory.mktemp("demo")
    port = _free_port()
    env = {
        **os.environ,
        "SALDO_DATA_DIR": str(data),
        "SALDO_PORT": str(port),
        "SALDO_HOST": "127.0.0.1",
    }
    env.pop("SALDO_DATABASE_URL", None)  # the demo's own embedded database, as on a fresh machine
    saldo = Path(sys.executable).parent / "saldo"
    process = subprocess.Popen(
        [str(saldo), "demo", "--persons", "1000"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else "the demo ended"
            try:
                if httpx.get(f"{base}/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the demo was not served within ten minutes"
            time.sleep(1)
        journeys = json.loads((data / "demo" / "journeys.json").read_text(encoding="utf-8"))
        yield Demo(base=base, journeys=journeys)
    finally:
        process.terminate()
        process.wait(timeout=30)


def log_in(page: Page, demo: Demo, audience: str, who: str) -> None:
    page.goto(f"{demo.base}/login?lang=en" + (f"&audience={audience}" if audience != "citizen" else ""))
    page.get_by_role("link", name="Development eID").click()
    page.get_by_label(who).check()
    page.get_by_role("button", name="Log in").click()


def test_a_citizen_of_the_demo_changes_her_account_and_sees_a_held_and_a_cancelled_payment(
    page: Page, demo: Demo
) -> None:
    citizen = demo.journeys["citizen"]
    log_in(page, demo, "citizen", citizen["name"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Your public payments")
    expect(page.get_by_text("Held").first).to_be_visible()
    expect(page.get_by_text("Cancelled").first).to_be_visible()
    first, second = demo.journeys["citizen_accounts"]
    page.get_by_label(second).check()
    page.get_by_role("button", name="Use this account").click()
    expect(page.get_by_role("status")).to_contain_text("Your account is changed")
    expect(page.get_by_text(f"Your public payments go to {second}")).to_be_visible()
    assert first != second
    assert axe_violations(page) == []


def test_an_analyst_triages_a_finding_the_demo_left_and_opens_a_case(page: Page, demo: Demo) -> None:
    log_in(page, demo, "staff", "Anna Analytiker")
    page.get_by_role("link", name="Open the workbench").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Workbench")
    waiting = page.get_by_role("link", name="Selected findings to triage")
    expect(waiting).to_be_visible()
    assert axe_violations(page) == []
    waiting.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Triage")
    page.get_by_role("button", name="Open a case").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Case G-")
    expect(page.get_by_role("heading", name="Next step")).to_be_visible()
    assert axe_violations(page) == []


def test_the_payer_s_user_finds_the_demo_s_open_information_request(page: Page, demo: Demo) -> None:
    log_in(page, demo, "payer", demo.journeys["open_request_user"])
    page.get_by_role("link", name="Information requests").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Information requests")
    expect(page.get_by_role("cell", name="Awaiting the answer").first).to_be_visible()
    assert axe_violations(page) == []


def test_staff_follow_the_cases_the_demo_plays_with_its_second_node_and_the_citizen_sees_them(
    page: Page, demo: Demo
) -> None:
    """The demo starts Kela as a node of its own (HTTPS, its own database, processes of its own) and
    plays an H_BUC_01 and an H_BUC_07 with it; both show in the workbench, and the citizen asked
    about sees the exchange in her own pages."""
    log_in(page, demo, "staff", "Anna Analytiker")
    deadline = time.monotonic() + 120
    while True:
        page.goto(f"{demo.base}/staff/cross-border?lang=en")
        text = page.content()
        if "H_BUC_01" in text and "to confirm" in text:
            break
        assert time.monotonic() < deadline, "the demo's cross-border exchange did not arrive in two minutes"
        time.sleep(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Cross-border cases")
    assert axe_violations(page) == []
    page.get_by_role("link", name="SE:FKA01-").first.click()
    expect(page.get_by_role("cell", name="H002")).to_be_visible()  # Kela's answer, received
    assert axe_violations(page) == []
    page.context.clear_cookies()
    log_in(page, demo, "citizen", demo.journeys["citizen"]["name"])
    expect(page.get_by_role("heading", name="Information exchanged with other countries")).to_be_visible()
    expect(page.get_by_text("FI:KELA01 (FI)").first).to_be_visible()
