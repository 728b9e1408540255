"""The demo's second node: Kela (FI:KELA01) as an installation of its own, with a database of its own
on the demo's server, served over HTTPS by a `saldo serve` and a `saldo worker` process, and the demo
node (SE:FKA01) configured to exchange SEDs with it. Once both answer, a few BUCs are played end to
end: SE asks Kela whether it pays the demo citizen a benefit (H_BUC_01) and Kela answers; Kela
notifies a death (H_BUC_07)."""

from __future__ import annotations

import ctypes
import datetime as dt
import logging
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from saldo.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from saldo.eessi.service.keys import NodeKeys
    from saldo.mediation.jobs import JobResources

HERE, PARTNER = "SE:FKA01", "FI:KELA01"
BUCS = ["H_BUC_01", "H_BUC_02a", "H_BUC_02b", "H_BUC_02c", "H_BUC_07", "LA_BUC_02", "LA_BUC_04"]
DATABASE = "saldo_partner_fi"
PR_SET_PDEATHSIG = 1  # linux/prctl.h
log = logging.getLogger(__name__)


@dataclass
class PartnerNode:
    """The running partner and what the demo node needs to talk to it."""

    settings: Settings  # the demo node's settings, with its EESSI identity
    partner_settings: Settings
    url: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def close(self) -> None:
        self.stop.set()
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _keys(folder: Path, institution: str, authority: NodeKeys) -> NodeKeys:
    from saldo.eessi.service.keys import issue_node, load_keys

    key, certificate = folder / f"{institution[:2].lower()}.key", folder / f"{institution[:2].lower()}.pem"
    if not key.exists():
        issue_node(authority, institution).write(key, certificate)
    return load_keys(key, certificate)


def _authority(folder: Path) -> NodeKeys:
    from saldo.eessi.service.keys import issue_authority, load_keys

    key, certificate = folder / "ca.key", folder / "ca.pem"
    if not key.exists():
        issue_authority("Saldo demo CA").write(key, certificate)
    return load_keys(key, certificate)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _partner_database(engine: Engine) -> str:
    """The partner's database on the demo's server, created and migrated when missing."""
    from saldo.db.engine import create_db_engine, sibling_database
    from saldo.db.migrate import upgrade_database

    partner_url = sibling_database(engine, DATABASE)
    partner = create_db_engine(Settings(database_url=partner_url))
    upgrade_database(partner)
    partner.dispose()
    return partner_url


def start_partner(settings: Settings, engine: Engine, folder: Path, *, own_url: str) -> PartnerNode:
    """Keys (made once), the directory, the partner's processes; returns once it answers."""
    from saldo.eessi.service.directory import entry, write
    from saldo.settings import child_environment

    folder.mkdir(parents=True, exist_ok=True)
    authority = _authority(folder)
    own, partner = _keys(folder, HERE, authority), _keys(folder, PARTNER, authority)
    port = _free_port()
    url = f"https://127.0.0.1:{port}"
    directory = folder / "directory.json"
    write(directory, [
        entry(HERE, "Försäkringskassan (this demo)", f"{own_url}/eessi/as4", BUCS, [own.certificate_pem]),
        entry(PARTNER, "Kela (the demo's second node)", f"{url}/eessi/as4", BUCS, [partner.certificate_pem]),
    ])  # fmt: skip
    ca = folder / "ca.pem"
    here = settings.model_copy(
        update={
            "eessi_institution": HERE, "eessi_key": folder / "se.key", "eessi_certificate": folder / "se.pem",
            "eessi_directory": directory, "eessi_ca_bundle": ca,
        }
    )  # fmt: skip
    partner_url = _partner_database(engine)
    there = Settings(
        database_url=partner_url, data_dir=folder / "fi-data", eessi_institution=PARTNER, eessi_key=folder / "fi.key",
        eessi_certificate=folder / "fi.pem", tls_certificate=folder / "fi.pem", tls_key=folder / "fi.key",
        eessi_directory=directory, eessi_ca_bundle=ca,
    )  # fmt: skip
    env = child_environment({
        "SALDO_DATABASE_URL": partner_url, "SALDO_DATA_DIR": str(folder / "fi-data"),
        "SALDO_EESSI_INSTITUTION": PARTNER, "SALDO_EESSI_KEY": str(folder / "fi.key"),
        "SALDO_EESSI_CERTIFICATE": str(folder / "fi.pem"), "SALDO_EESSI_DIRECTORY": str(directory),
        "SALDO_EESSI_CA_BUNDLE": str(folder / "ca.pem"), "SALDO_TLS_CERTIFICATE": str(folder / "fi.pem"),
        "SALDO_TLS_KEY": str(folder / "fi.key"), "SALDO_PUBLIC_URL": url,
    })  # fmt: skip
    node = PartnerNode(here, there, url)
    log_file = (folder / "partner.log").open("ab")
    for args in (["serve", "--port", str(port)], ["worker"]):
        node.processes.append(
            subprocess.Popen(  # noqa: S603 — this interpreter running saldo, with arguments of our own
                [sys.executable, "-m", "saldo.cli.main", *args],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 — only a prctl call, before exec
            )
        )
    return node


def _die_with_parent() -> None:
    """In the child, before exec: end when the demo ends, however it ends. Uvicorn re-raises the
    SIGTERM it stopped on, so the demo's own clean-up may never run (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _answers(url: str, ca: Path) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/health", verify=str(ca), timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def play(node: PartnerNode, engine: Engine, citizen: dict[str, str], own_url: str) -> None:
    """In the background: the demo node's outbox sent every second, and once both nodes answer, an
    H_BUC_01 asked and answered and an H_BUC_07 notified."""
    from saldo.db.engine import create_db_engine, create_session_factory
    from saldo.eessi.jobs import deliver
    from saldo.mediation.jobs import JobResources

    ca = node.settings.eessi_ca_bundle
    assert ca is not None
    sessions = create_session_factory(engine)
    resources = JobResources(node.settings, sessions, str(engine.url))
    partner_engine = create_db_engine(node.partner_settings)
    partner_sessions = create_session_factory(partner_engine)

    def run() -> None:
        try:
            deadline = time.monotonic() + 120
            while not (_answers(node.url, ca) and _answers(own_url, ca)):
                if node.stop.wait(0.5) or time.monotonic() > deadline:
                    return
            _exchange(node, sessions, partner_sessions, resources, citizen)
            while not node.stop.wait(1.0):
                deliver(resources)
        except Exception:
            log.exception("the demo's cross-border exchange stopped")
        finally:
            partner_engine.dispose()

    threading.Thread(target=run, name="cross-border demo", daemon=True).start()


def _exchange(node: PartnerNode, sessions: object, partner_sessions: object, resources: JobResources,
              citizen: dict[str, str]) -> None:  # fmt: skip
    from saldo.db.engine import unit_of_work
    from saldo.eessi import service
    from saldo.eessi.jobs import deliver
    from saldo.eessi.service import seds
    from saldo.mediation.jobs import JobResources

    here = service.node_from_settings(node.settings)
    there = service.node_from_settings(node.partner_settings)
    name = citizen.get("name", "Lars Holmgren").split(" ", 1)
    identifier = citizen.get("identifier", "196111011414")
    person = seds.PersonIdentification(
        forename=name[0], family_name=name[-1], date_birth=dt.date(int(identifier[:4]), int(identifier[4:6]),
        int(identifier[6:8])), pins=(seds.Pin(personal_identification_number=identifier, country="SE"),),
    )  # fmt: skip
    with unit_of_work(sessions) as session:  # type: ignore[arg-type]
        asked = service.open_case(
            session, here, buc_type="H_BUC_01", partner=PARTNER,
            content={"benefitType": "old_age", "period": {"startDate": "2026-01-01"},
                     "question": "Does Kela pay him an old-age pension for 2026?"},
            person=service.PersonRef("se_personnummer", identifier, person),
            purpose="The demo: is a Finnish pension paid beside the Swedish one?", by="demo",
        ).case_id  # fmt: skip
    deliver(resources)
    with unit_of_work(partner_sessions) as session:  # type: ignore[arg-type]
        case = service.get_case(session, asked)
        service.send_sed(session, there, case, "H002", {
            "receivesBenefit": True, "benefitType": "old_age", "period": {"startDate": "2026-01-01"},
            "amount": "412.18", "currency": "EUR", "frequency": "monthly",
        }, by="kela (demo)")  # fmt: skip
        service.open_case(
            session, there, buc_type="H_BUC_07", partner=HERE,
            content={"dateDeath": "2026-11-02", "countryDeath": "FI"},
            person=service.PersonRef(None, None, person.model_copy(update={"forename": "Eino", "pins": ()})),
            purpose="a death registered in Finland", by="kela (demo)",
        )  # fmt: skip
    # sent now (the partner's worker would within a minute); the H070 names no Swedish number, so the
    # demo node keeps it for staff to say who it is
    deliver(JobResources(node.partner_settings, partner_sessions, node.partner_settings.database_url or ""))  # type: ignore[arg-type]
