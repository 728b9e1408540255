"""The browser tier: Saldo served by uvicorn on a real database, a real independent OpenID provider
(the npm package oidc-provider, in node), and Debian's Chromium driven by Playwright. Every page is
checked with axe-core for WCAG 2.1 A and AA; screenshots go to ``test-artifacts/``.

Needs /usr/bin/chromium (`.ci/run` installs it) and node with ``tests/e2e/idp/node_modules``
(`python3 run.py test` installs it with npm). Without them the tier is skipped and says why."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from saldo.analysis.models import AnalysisRun, Finding, RunStatus, Snapshot
from saldo.analysis.service.pseudonyms import Pseudonymiser, load_or_create_key
from saldo.app import create_app
from saldo.identity.service.oidc import forget_discovery
from saldo.payers.service import add_payer_user
from saldo.settings import OidcProviderSettings, Settings
from saldo.staff.models import Role
from tests.conftest import live_database, serve_in_thread
from tests.credentials.conftest import peer, wallet_pki  # noqa: F401 — the wallet's issuers and the independent peer
from tests.factories import (
    VALID_PNR,
    account_record,
    auth,
    log_a_read,
    make_bank,
    make_bank_token,
    make_payer,
    make_staff,
    make_token,
    payment_body,
    se_iban,
)

IDP_DIR = Path(__file__).parent / "idp"
AXE = IDP_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "browser"
CASEWORKER_PNR = "197802022389"
ANALYST_PNR = "197503149127"
PAYER_USER_PNR = "197004128711"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return "no /usr/bin/chromium (Debian's chromium package; .ci/run installs it)"
    if shutil.which("node") is None:
        return "no node to run the OpenID provider"
    if not (IDP_DIR / "node_modules" / "oidc-provider").exists() or not AXE.exists():
        return "tests/e2e/idp/node_modules missing (python3 run.py test installs it with npm)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _missing()
    for item in items:
        if "e2e" in item.nodeid:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Site:
    base: str  # Saldo with the independent provider (oidc-provider) as its eID
    idp: str
    dev: str  # the same Saldo (one database) as the demo serves it: the development eID, and no real one


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Saldo with a citizen's payments from two payers, two accounts she holds, a caseworker, and
    one earlier read of her data; logging in goes through oidc-provider or the development provider."""
    idp_port = _free_port()
    idp = f"http://127.0.0.1:{idp_port}"
    provider = OidcProviderSettings(
        name="testeid",
        label="Test eID (oidc-provider)",
        issuer=idp,
        client_id="saldo",
        client_secret="saldo-test-secret",
        audience="citizen",
    )
    settings, engine = live_database("saldo_e2e", tmp_path_factory.mktemp("e2e"))
    real_port, dev_port = _free_port(), _free_port()
    real = settings.model_copy(update={"oidc_providers": [provider], "public_url": f"http://127.0.0.1:{real_port}"})
    demo = settings.model_copy(update={"dev_login": True, "public_url": f"http://127.0.0.1:{dev_port}"})
    with Session(engine) as session:
        kommun_payer = make_payer(session, name="Exempelkommunen")
        kommun = make_token(session, kommun_payer)
        add_payer_user(
            session, organisation_number=kommun_payer.organisation_number, personnummer=PAYER_USER_PNR, name="Petra"
        )
        agency = make_token(session, make_payer(session, name="Försäkringskassan", benefits=("BB", "SJP")))
        bank = make_bank_token(session, make_bank(session))
        workbench = (Role.ANALYST, Role.AUDITOR, Role.SUPERVISOR)
        make_staff(session, "anna.analytiker", ANALYST_PNR, *workbench, name="Anna Analytiker")
        make_staff(session, "karin.handlaggare", CASEWORKER_PNR, Role.CASEWORKER, name="Karin Handläggare")
        log_a_read(session, VALID_PNR, "kontroll av utbetalning efter dödsfall")
        session.commit()
    forget_discovery()
    base, stop = serve_in_thread(create_app(real, engine=engine), port=real_port)
    dev, stop_dev = serve_in_thread(create_app(demo, engine=engine), port=dev_port)
    node = subprocess.Popen(
        ["node", str(IDP_DIR / "provider.mjs"), str(idp_port), f"{base}/auth/callback/testeid"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert node.stdout is not None
        said = [node.stdout.readline() for _ in range(1)]
        while not said[-1].startswith("ready") and said[-1] and len(said) < 20:  # warnings come first
            said.append(node.stdout.readline())
        assert said[-1].startswith("ready"), "".join(said)
        with httpx.Client(base_url=base) as http:
            paid = []
            for token, body in ((kommun, payment_body()), (agency, payment_body(benefit="BB", amount_minor=150000))):
                response = http.post("/api/v1/payments", json=body, headers=auth(token))
                assert response.status_code == 201
                paid.append(int(response.json()["id"]))
            records = [
                account_record(se_iban(1), (VALID_PNR, "Anna Andersson")),
                account_record(se_iban(2), (VALID_PNR, "Anna Andersson")),
            ]
            assert http.post("/api/v1/bank/accounts", json={"accounts": records}, headers=auth(bank)).status_code == 200
        plant_findings(engine, settings, paid, tmp_path_factory.mktemp("snapshot"))
        yield Site(base=base, idp=idp, dev=dev)
    finally:
        node.terminate()
        node.wait(timeout=10)
        stop()
        stop_dev()
        engine.dispose()


def plant_findings(engine: Engine, settings: Settings, payment_ids: list[int], folder: Path) -> None:
    """An analysis run over a small snapshot with two selected findings about the citizen's payments."""
    pseudonyms = Pseudonymiser(load_or_create_key(settings.pseudonym_key_path))
    key = pseudonyms.one("person", f"se_personnummer:{VALID_PNR}")
    pq.write_table(
        pa.table(
            {
                "person_key": [key] + [f"other-{i}" for i in range(20)],
                "sex": ["F"] + ["M" if i % 2 else "F" for i in range(20)],
                "birth_month": [dt.date(1981, 12, 1)] + [dt.date(1960 + i, 1, 1) for i in range(20)],
                "region_code": ["01"] + ["14"] * 20,
            }
        ),
        folder / "persons.parquet",
    )
    with Session(engine) as session:
        snapshot = Snapshot(
            label="e2e", path=str(folder), manifest={}, key_fingerprint=pseudonyms.fingerprint, created_by="staff:e2e"
        )
        session.add(snapshot)
        session.flush()
        run = AnalysisRun(
            snapshot_id=snapshot.id,
            engine="duckdb",
            rules=[{"id": "mutually_exclusive_benefits", "version": 1}],
            status=RunStatus.FINISHED,
            capacity=10,
            started_by="staff:e2e",
            finished_at=dt.datetime.now(dt.UTC),
        )
        session.add(run)
        session.flush()
        for rule, amount in (("mutually_exclusive_benefits", 150000), ("duplicate_payment", 125000)):
            session.add(
                Finding(
                    run_id=run.id,
                    snapshot_id=snapshot.id,
                    rule_id=rule,
                    rule_version=1,
                    subject_kind="person",
                    subject_key=key,
                    payment_ids=payment_ids,
                    amount_at_risk_minor=amount,
                    currency="SEK",
                    facts={"benefit": "BB"},
                    reason_sv=f"Skäl: {rule}",
                    reason_en=f"Reason: {rule}",
                    expected_value_minor=amount,
                    selected=True,
                )
            )
        session.commit()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Playwright's sync API keeps an event loop running while it is open, which would stop later
    tests from running asyncio themselves: it is opened per module and closed after it."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test; a screenshot of where it ended is kept."""
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """What axe-core finds against WCAG 2.1 A and AA on the page as it is now."""
    # Evaluated from outside the page, as a browser's devtools would: Saldo's Content-Security-Policy
    # allows no inline script, and a <script> tag would be (rightly) refused.
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]
