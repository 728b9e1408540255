"""Two real gateways: SE and FI, each a `saldo serve` (HTTPS on loopback) and a `saldo worker` with a
database of its own. A person applies for a PDA1 at FI and has FI fetch the statement of their
public payments from SE: FI's page sends them to SE's preview, they approve there and come back, and
the evidence arrives. Then the same again with the processes killed (SIGKILL) mid-exchange — FI's
worker before it posts the second query, SE's endpoint before it commits taking it in — and
restarted: the evidence arrives once, is released once, and nothing is lost."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.conftest import live_database
from tests.crash.conftest import free_port
from tests.eessi.conftest import Pki
from tests.eessi.test_nodes import NodeProcess, _write_keys, wait_until
from tests.onceonly.conftest import FI_PARTY, PERSON_PNR, SE_PARTY, STATEMENT, directory_file
from tests.procedures.test_applications import open_form, pda1_form
from tests.web_login import csrf_of, dev_login


@pytest.fixture
def gateways(tmp_path: Path, pki: Pki, worker_id: str) -> Iterator[dict[str, NodeProcess]]:
    ports = {"se": free_port(), "fi": free_port()}
    ca = tmp_path / "ca.pem"
    ca.write_text(pki.authority.certificate_pem, encoding="ascii")
    directory = directory_file(tmp_path / "oots.json", pki)
    listed = json.loads(directory.read_text(encoding="utf-8"))
    for party in listed["parties"]:
        country = {SE_PARTY: "se", FI_PARTY: "fi"}.get(party["id"])
        if country:
            party["endpoint"] = f"https://127.0.0.1:{ports[country]}/oots/as4"
    directory.write_text(json.dumps(listed), encoding="utf-8")
    made: dict[str, NodeProcess] = {}
    for country, keys, party in (("se", pki.se, SE_PARTY), ("fi", pki.fi, FI_PARTY)):
        folder = tmp_path / country
        folder.mkdir()
        settings, engine = live_database(f"saldo_oots_{country}_{worker_id}", folder / "data")
        with Session(engine) as session:
            create_staff(session, username=f"{country}.staff", name="Staff", roles=[Role.AUDITOR])
            token = issue_staff_token(session, username=f"{country}.staff", label="test")
            session.commit()
        key, certificate = _write_keys(folder, keys)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
        env.update(
            SALDO_DATABASE_URL=str(settings.database_url),
            SALDO_DATA_DIR=str(settings.data_dir),
            SALDO_TLS_CERTIFICATE=str(certificate),
            SALDO_TLS_KEY=str(key),
            SALDO_EESSI_KEY=str(key),
            SALDO_EESSI_CERTIFICATE=str(certificate),
            SALDO_EESSI_CA_BUNDLE=str(ca),
            SALDO_ONCEONLY_PARTY=party,
            SALDO_ONCEONLY_DIRECTORY=str(directory),
            SALDO_DEV_LOGIN="true",
            SSL_CERT_FILE=str(ca),  # the development eID provider is this same server, on HTTPS from the test CA
            SALDO_WORKER_STALLED_AFTER_S="2.0",
            SALDO_PUBLIC_URL=f"https://127.0.0.1:{ports[country]}",
        )
        made[country] = NodeProcess(country.upper(), folder, engine, env, ports[country], token, ca)
    try:
        for node in made.values():
            node.start("serve")
            node.start("worker")
        yield made
    finally:
        for node in made.values():
            node.stop()
            node.engine.dispose()


def browser(node: NodeProcess) -> httpx.Client:
    return httpx.Client(base_url=node.url, verify=str(node.ca), timeout=30)


def state(node: NodeProcess, role: str) -> str | None:
    rows = node.rows(f"SELECT state FROM evidence_exchanges WHERE role = '{role}' ORDER BY id DESC LIMIT 1")
    return rows[0][0] if rows else None


def ask_at_fi(fi: NodeProcess, person: httpx.Client) -> str:
    """The person applies for a PDA1 at FI and asks for SE's statement; the exchange's page."""
    assert dev_login(person, PERSON_PNR).status_code == 303
    sent = person.post("/me/applications/new/pda1", data={**open_form(person, "pda1"), **pda1_form()})  # type: ignore[arg-type]
    assert sent.status_code == 303, sent.text
    reference = sent.headers["location"].split("/")[-1].split("?")[0]
    page = person.get(f"/me/applications/{reference}/evidence", params={"lang": "en"})
    assert "Utbetalningsmyndigheten" in page.text, page.text
    asked = person.post(
        f"/me/applications/{reference}/evidence", data={"csrf": csrf_of(page.text), "choice": f"{STATEMENT}:SE"}
    )
    assert asked.status_code == 303, asked.text
    return str(asked.headers["location"])


def approve_at_se(se: NodeProcess, fi_page: str) -> str:
    """The person follows FI's link to SE's preview, logs in there and approves; where SE sends them back."""
    link = re.search(r'href="(https://[^"]+/me/evidence/preview/[^"]+)"', fi_page)
    assert link is not None, fi_page
    address = link.group(1).replace("&amp;", "&")
    with browser(se) as person:
        assert dev_login(person, PERSON_PNR).status_code == 303
        preview = person.get(f"{address}&lang=en")  # (params= would replace the query, returnurl with it)
        assert preview.status_code == 200, preview.text
        assert "Kela" in preview.text
        assert person.get(f"{address.split('?')[0]}/statement.pdf").content.startswith(b"%PDF")
        returnurl = re.search(r'name="returnurl" value="([^"]+)"', preview.text)
        assert returnurl is not None
        decided = person.post(
            address.split("?")[0],
            data={"csrf": csrf_of(preview.text), "decision": "approve", "returnurl": returnurl.group(1)},
        )
        assert decided.status_code == 303, decided.text
        return str(decided.headers["location"])


def test_a_person_has_fi_fetch_their_statement_from_se(gateways: dict[str, NodeProcess]) -> None:
    se, fi = gateways["se"], gateways["fi"]
    with browser(fi) as person:
        exchange_page = ask_at_fi(fi, person)
        wait_until(lambda: state(fi, "requester") == "preview", "FI told to send the person to SE's preview")
        back = approve_at_se(se, person.get(exchange_page, params={"lang": "en"}).text)
        assert back.startswith(fi.url)
        assert person.get(back).status_code == 303
        wait_until(lambda: state(fi, "requester") == "delivered", "the evidence arriving at FI")
        page = person.get(exchange_page, params={"lang": "en"})
        assert "The evidence arrived" in page.text
        document = person.get(f"{exchange_page}/document")
        assert document.headers["content-type"] == "application/pdf"
        assert document.content.startswith(b"%PDF")
    assert state(se, "provider") == "delivered"
    assert se.rows("SELECT count(*) FROM access_log WHERE action = 'release_evidence'")[0][0] == 1


def test_killed_mid_exchange_the_evidence_still_arrives_once(gateways: dict[str, NodeProcess]) -> None:
    se, fi = gateways["se"], gateways["fi"]
    with browser(fi) as person:
        exchange_page = ask_at_fi(fi, person)
        wait_until(lambda: state(fi, "requester") == "preview", "FI told to send the person to SE's preview")
        back = approve_at_se(se, person.get(exchange_page, params={"lang": "en"}).text)
        # FI's worker dies after building the second query, before posting it; SE's endpoint dies
        # after taking it in, before committing
        fi.kill("worker")
        fi.start("worker", halt_at="onceonly.before_post")
        se.kill("serve")
        se.start("serve", halt_at="onceonly.before_commit_received")
        assert person.get(back).status_code == 303
        fi.wait_halted("onceonly.before_post")
        fi.kill("worker")
        fi.start("worker")
        se.wait_halted("onceonly.before_commit_received")
        se.kill("serve")
        assert state(se, "provider") == "approved"  # nothing of the killed transaction stayed
        se.start("serve")
        wait_until(lambda: state(fi, "requester") == "delivered", "the evidence arriving at FI after the kills")
        assert person.get(f"{exchange_page}/document").content.startswith(b"%PDF")
    wait_until(lambda: not fi.rows("SELECT 1 FROM evidence_messages WHERE status = 'pending'"), "FI's outbox empty")
    wait_until(lambda: not se.rows("SELECT 1 FROM evidence_messages WHERE status = 'pending'"), "SE's outbox empty")
    assert se.rows("SELECT count(*) FROM access_log WHERE action = 'release_evidence'")[0][0] == 1
    sent: list[Any] = se.rows("SELECT action FROM evidence_messages WHERE direction = 'out' ORDER BY id")
    assert [a for (a,) in sent] == ["ExceptionResponse", "ExecuteQueryResponse"]
    taken: list[Any] = se.rows("SELECT count(*) FROM evidence_messages WHERE direction = 'in'")
    assert taken[0][0] == 2  # the first query and the second, each once
    assert fi.rows("SELECT count(*) FROM access_log WHERE action = 'receive_evidence'")[0][0] == 1
