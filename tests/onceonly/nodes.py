"""Two real gateways of the once-only network for the tests: SE (provides the statement of public
payments, on https://127.0.0.1) and FI (asks for it, on https://localhost: another host, so a browser
keeps the two logins apart), each a `saldo serve` and a `saldo worker` with a database of its own."""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.conftest import live_database
from tests.crash.conftest import free_port
from tests.eessi.conftest import Pki
from tests.eessi.test_nodes import NodeProcess, _write_keys
from tests.onceonly.conftest import FI_PARTY, PERSON_PNR, SE_PARTY, STATEMENT, directory_file
from tests.procedures.test_applications import open_form, pda1_form
from tests.web_login import csrf_of, dev_login

HOSTS = {"se": "127.0.0.1", "fi": "localhost"}


def public(node: NodeProcess) -> str:
    """The address a person's browser uses for the node."""
    return f"https://{HOSTS[node.institution.lower()]}:{node.port}"


@contextmanager
def running_gateways(folder: Path, pki: Pki, worker_id: str) -> Iterator[dict[str, NodeProcess]]:
    ports = {"se": free_port(), "fi": free_port()}
    ca = folder / "ca.pem"
    ca.write_text(pki.authority.certificate_pem, encoding="ascii")
    directory = directory_file(folder / "oots.json", pki)
    listed = json.loads(directory.read_text(encoding="utf-8"))
    for party in listed["parties"]:
        country = {SE_PARTY: "se", FI_PARTY: "fi"}.get(party["id"])
        if country:
            party["endpoint"] = f"https://{HOSTS[country]}:{ports[country]}/oots/as4"
    directory.write_text(json.dumps(listed), encoding="utf-8")
    made: dict[str, NodeProcess] = {}
    for country, keys, party in (("se", pki.se, SE_PARTY), ("fi", pki.fi, FI_PARTY)):
        home = folder / country
        home.mkdir()
        settings, engine = live_database(f"saldo_oots_{country}_{worker_id}", home / "data")
        with Session(engine) as session:
            create_staff(session, username=f"{country}.staff", name="Staff", roles=[Role.AUDITOR])
            token = issue_staff_token(session, username=f"{country}.staff", label="test")
            session.commit()
        key, certificate = _write_keys(home, keys)
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
            SALDO_PUBLIC_URL=f"https://{HOSTS[country]}:{ports[country]}",
        )
        made[country] = NodeProcess(country.upper(), home, engine, env, ports[country], token, ca)
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
    return httpx.Client(base_url=public(node), verify=str(node.ca), timeout=30)


def state(node: NodeProcess, role: str) -> str | None:
    rows = node.rows(f"SELECT state FROM evidence_exchanges WHERE role = '{role}' ORDER BY id DESC LIMIT 1")
    return rows[0][0] if rows else None


def ask_at_fi(fi: NodeProcess, person: httpx.Client, personnummer: str = PERSON_PNR) -> str:
    """The person applies for a PDA1 at FI and asks for SE's statement; the exchange's page."""
    assert dev_login(person, personnummer).status_code == 303
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
    """The person follows FI's link to SE's preview, logs in there and approves; the way back the page shows."""
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
        shown = person.get(decided.headers["location"])
        back = re.search(r'<a class="button" href="([^"]+)">Back to Kela</a>', shown.text)
        assert back is not None, shown.text
        return html.unescape(back.group(1))
