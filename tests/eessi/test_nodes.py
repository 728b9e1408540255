"""Two real nodes: SE and FI, each a `saldo serve` (HTTPS on loopback) and a `saldo worker` process
with a database of its own, exchanging signed, encrypted AS4 messages. Staff on each side work
through the API; every BUC this node plays is played end to end. Then the processes are killed
(SIGKILL) mid-exchange, on the sending and on the receiving side, and restarted: nothing is lost and
nothing is taken in twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from saldo.eessi.service.keys import NodeKeys
from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.conftest import live_database
from tests.crash.conftest import free_port, stop_processes
from tests.eessi.conftest import DE, FI, SE, Pki, write_directory

WAIT_S = 90.0


@dataclass
class NodeProcess:
    institution: str
    folder: Path
    engine: Engine
    env: dict[str, str]
    port: int
    token: str
    ca: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self, role: str, *, halt_at: str | None = None) -> subprocess.Popen[bytes]:
        args = ["serve", "--port", str(self.port)] if role == "serve" else ["worker"]
        env = dict(self.env)
        if halt_at:
            env["SALDO_HALT_AT"] = halt_at
        log = (self.folder / f"{role}-{time.monotonic_ns()}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "saldo.cli.main", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.processes[role] = process
        if role == "serve":
            wait_until(self.healthy, f"{self.institution} serving")
        return process

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", verify=str(self.ca), timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self, role: str) -> None:
        process = self.processes.pop(role)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def wait_halted(self, point: str) -> None:
        marker = Path(self.env["SALDO_DATA_DIR"]) / "halted" / point
        wait_until(marker.exists, f"{self.institution} halting at {point}")
        marker.unlink()

    def stop(self) -> None:
        stop_processes(self.processes.values())

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method,
            f"{self.url}/api/v1/staff/eessi{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            verify=str(self.ca),
            timeout=30,
            **kwargs,
        )
        assert response.status_code < 300, response.text
        return response.json()

    def rows(self, sql: str) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql)))


def wait_until(check: Callable[[], bool], what: str, *, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)


def _write_keys(folder: Path, keys: NodeKeys) -> tuple[Path, Path]:
    key, certificate = folder / "node.key", folder / "node.pem"
    keys.write(key, certificate)
    return key, certificate


@pytest.fixture
def nodes(tmp_path: Path, pki: Pki, worker_id: str) -> Iterator[dict[str, NodeProcess]]:
    ports = {SE: free_port(), FI: free_port()}
    ca = tmp_path / "ca.pem"
    ca.write_text(pki.authority.certificate_pem, encoding="ascii")
    directory = write_directory(
        tmp_path / "directory.json",
        pki,
        se_url=f"https://127.0.0.1:{ports[SE]}/eessi/as4",
        fi_url=f"https://127.0.0.1:{ports[FI]}/eessi/as4",
    )
    made: dict[str, NodeProcess] = {}
    for institution, keys in ((SE, pki.se), (FI, pki.fi)):
        country = institution[:2].lower()
        folder = tmp_path / country
        folder.mkdir()
        settings, engine = live_database(f"saldo_node_{country}_{worker_id}", folder / "data")
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
            SALDO_EESSI_INSTITUTION=institution,
            SALDO_EESSI_KEY=str(key),
            SALDO_EESSI_CERTIFICATE=str(certificate),
            SALDO_EESSI_DIRECTORY=str(directory),
            SALDO_EESSI_CA_BUNDLE=str(ca),
            SALDO_WORKER_STALLED_AFTER_S="2.0",
            SALDO_PUBLIC_URL=f"https://127.0.0.1:{ports[institution]}",
        )
        made[institution] = NodeProcess(institution, folder, engine, env, ports[institution], token, ca)
    try:
        for node in made.values():
            node.start("serve")
            node.start("worker")
        yield made
    finally:
        for node in made.values():
            node.stop()
            node.engine.dispose()


def documents(node: NodeProcess, case_id: str) -> list[tuple[str, str, str]]:
    """(SED type, direction, status) of each SED in the case, in order."""
    return [(d["sed_type"], d["direction"], d["status"]) for d in node.api("GET", f"/cases/{case_id}")["documents"]]


def has_case(node: NodeProcess, case_id: str) -> bool:
    return bool(node.rows(f"SELECT 1 FROM eessi_cases WHERE case_id = '{case_id}'"))


def settled(node: NodeProcess, case_id: str, count: int) -> Callable[[], bool]:
    """The case holds ``count`` SEDs on this node and none is waiting to be sent."""

    def check() -> bool:
        if not has_case(node, case_id):
            return False
        docs = documents(node, case_id)
        return len(docs) == count and all(status != "queued" for _, _, status in docs)

    return check


PERSON = {
    "familyName": "Virtanen",
    "forename": "Aino",
    "dateBirth": "1952-03-04",
    "sex": "female",
    "PINPersonInEachInstitution": [
        {"personalIdentificationNumber": "19520304-1230", "country": "SE", "institutionID": SE},
        {"personalIdentificationNumber": "040352-123C", "country": "FI"},
    ],
}


def open_case(node: NodeProcess, partner: str, buc: str, fields: dict[str, Any]) -> str:
    body = {"buc_type": buc, "partner": partner, "person": PERSON, "fields": fields, "purpose": "test"}
    return str(node.api("POST", "/cases", json=body)["case_id"])


def send(node: NodeProcess, case_id: str, sed: str, fields: dict[str, Any], answers: str | None = None) -> None:
    node.api("POST", f"/cases/{case_id}/seds", json={"sed_type": sed, "fields": fields, "answers": answers})


def test_two_nodes_play_every_buc_end_to_end(nodes: dict[str, NodeProcess]) -> None:
    se, fi = nodes[SE], nodes[FI]

    # H_BUC_01: SE asks whether Kela pays her a benefit for 2026; Kela answers, SE closes the case.
    case = open_case(
        se,
        FI,
        "H_BUC_01",
        {"benefitType": "old_age", "period": {"startDate": "2026-01-01"}, "question": "Paid for 2026?"},
    )
    wait_until(settled(fi, case, 1), "the H001 arriving in FI")
    send(
        fi,
        case,
        "H002",
        {
            "receivesBenefit": True,
            "benefitType": "old_age",
            "amount": "712.40",
            "currency": "EUR",
            "frequency": "monthly",
            "period": {"startDate": "2026-01-01"},
        },
    )
    wait_until(settled(se, case, 2), "the H002 arriving in SE")
    # SE adds Deutsche Rentenversicherung (X005, told to FI) and removes it before asking it anything
    # (X006, told to FI alone: DE knows no case yet); then closes the case.
    [told] = se.api("POST", f"/cases/{case}/seds", json={"sed_type": "X005", "fields": {"institutionID": DE}})
    assert (told["sed_type"], told["receiver"], told["status"]) == ("X005", FI, "queued")
    wait_until(settled(fi, case, 3), "the X005 arriving in FI")
    refused = httpx.post(
        f"{se.url}/api/v1/staff/eessi/cases/{case}/seds",
        headers={"Authorization": f"Bearer {se.token}"},
        json={"sed_type": "X009", "fields": {"documentID": told["document_id"]}, "to": "NO:NAV01"},
        verify=str(se.ca),
    )
    assert refused.status_code == 409
    assert f"NO:NAV01 takes no part in case {case}" in refused.json()["detail"]
    assert fi.api("GET", f"/cases/{case}")["participants"] == [FI, DE]
    send(se, case, "X006", {"institutionID": DE})
    wait_until(settled(fi, case, 4), "the X006 arriving in FI")
    assert fi.api("GET", f"/cases/{case}")["participants"] == [FI]
    send(se, case, "X001", {"reason": "answered"})
    wait_until(settled(fi, case, 5), "the X001 arriving in FI")
    assert documents(se, case) == [
        ("H001", "out", "delivered"),
        ("H002", "in", "accepted"),
        ("X005", "out", "delivered"),
        ("X006", "out", "delivered"),
        ("X001", "out", "delivered"),
    ]
    assert [d["receiver"] for d in se.api("GET", f"/cases/{case}")["documents"]] == [FI, SE, FI, FI, FI]
    assert fi.api("GET", f"/cases/{case}")["status"] == "closed"

    # H_BUC_07: Kela notifies a death; SE learns it about the person it knows by her personnummer.
    death = open_case(fi, SE, "H_BUC_07", {"dateDeath": "2026-10-02", "countryDeath": "FI"})
    wait_until(settled(se, death, 1), "the H070 arriving in SE")
    assert se.rows("SELECT kind, person_id FROM eessi_facts ORDER BY id") == [
        ("benefit_abroad", "195203041230"),
        ("death", "195203041230"),
    ]

    # H_BUC_02c: SE notifies its determination of residence; FI replies (H004). H_BUC_02a: FI asks
    # SE for a determination (H005), SE replies.
    residence = open_case(se, FI, "H_BUC_02c", {"countryResidence": "FI", "since": "2025-06-01"})
    wait_until(settled(fi, residence, 1), "the H003 arriving in FI")
    send(fi, residence, "H004", {"agrees": True})
    wait_until(settled(se, residence, 2), "the H004 arriving in SE")
    asked = open_case(fi, SE, "H_BUC_02a", {"reason": "moved to Sweden?"})
    wait_until(settled(se, asked, 1), "the H005 arriving in SE")
    send(se, asked, "H004", {"agrees": False, "countryResidence": "SE", "reason": "resident in Sweden"})
    wait_until(settled(fi, asked, 2), "the H004 arriving in FI")

    # LA_BUC_04: SE notifies a posting (A009). LA_BUC_02: SE determines the legislation (A003), FI
    # is reminded (X009), then accepts (A012); A008 goes with it.
    posting = open_case(
        se,
        FI,
        "LA_BUC_04",
        {"employer": "Bygg AB", "countryWork": "FI", "period": {"startDate": "2026-02-01", "endDate": "2026-12-31"}},
    )
    wait_until(settled(fi, posting, 1), "the A009 arriving in FI")
    legislation = open_case(se, FI, "LA_BUC_02", {"legislationCountry": "SE", "period": {"startDate": "2026-01-01"}})
    wait_until(settled(fi, legislation, 1), "the A003 arriving in FI")
    a003 = se.api("GET", f"/cases/{legislation}")["documents"][0]["document_id"]
    send(se, legislation, "X009", {"documentID": a003})
    send(se, legislation, "A008", {"information": "works two days a week in Turku"})
    wait_until(settled(fi, legislation, 3), "the X009 and A008 arriving in FI")
    send(fi, legislation, "A012", {})
    wait_until(settled(se, legislation, 4), "the A012 arriving in SE")
    assert [sed for sed, _, _ in documents(fi, legislation)] == ["A003", "X009", "A008", "A012"]

    # A SED the case does not allow is refused at the sender with the reason, and sends nothing.
    response = httpx.post(
        f"{se.url}/api/v1/staff/eessi/cases/{posting}/seds",
        headers={"Authorization": f"Bearer {se.token}"},
        json={"sed_type": "A012", "fields": {}},
        verify=str(se.ca),
    )
    assert response.status_code == 409
    assert "A012 is not part of LA_BUC_04" in response.json()["detail"]


def test_a_node_killed_mid_exchange_loses_nothing_and_takes_nothing_in_twice(nodes: dict[str, NodeProcess]) -> None:
    se, fi = nodes[SE], nodes[FI]
    # The sending worker dies after FI has answered with its receipt, before SE recorded it.
    se.kill("worker")
    se.start("worker", halt_at="eessi.after_post")
    case = open_case(
        se, FI, "H_BUC_01", {"benefitType": "old_age", "period": {"startDate": "2026-01-01"}, "question": "Paid?"}
    )
    se.wait_halted("eessi.after_post")
    se.kill("worker")
    assert documents(se, case) == [("H001", "out", "queued")]
    se.start("worker")
    wait_until(lambda: documents(se, case) == [("H001", "out", "delivered")], "the H001 delivered after the restart")
    assert fi.rows(
        f"SELECT count(*) FROM eessi_documents d JOIN eessi_cases c ON c.id = d.case_pk WHERE c.case_id = '{case}'"
    ) == [(1,)]

    # The receiving server dies after taking the answer in, before committing it: SE retries, the
    # restarted FI takes it in once.
    fi.kill("serve")
    fi.start("serve", halt_at="eessi.before_commit_received")
    send(se, case, "X009", {"documentID": se.api("GET", f"/cases/{case}")["documents"][0]["document_id"]})
    fi.wait_halted("eessi.before_commit_received")
    fi.kill("serve")
    fi.start("serve")
    wait_until(settled(fi, case, 2), "the X009 taken in after FI's restart")
    wait_until(lambda: documents(se, case)[-1][2] == "delivered", "the X009 delivered")
    assert [sed for sed, _, _ in documents(fi, case)] == ["H001", "X009"]
