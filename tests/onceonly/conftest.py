"""Two gateways of the once-only network: SE provides the statement of a person's public payments
and works in the test's transaction (its pages in a TestClient); FI asks for it, with a database of
its own. Keys come from the EESSI tests' CA; one directory file (the common services) lists both and
a German authority that provides nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from saldo.db.engine import create_session_factory, unit_of_work
from saldo.http import i18n
from saldo.onceonly import service
from saldo.onceonly.pages import statement_evidence
from saldo.settings import Settings
from tests.conftest import app_in_transaction
from tests.eessi.conftest import Pki, fi_engine, pki  # noqa: F401 — fixtures by name
from tests.web_login import route_provider_calls_to

SE_PARTY, FI_PARTY, DE_PARTY = "saldo-se", "saldo-fi", "drv-de"
SE_BASE = "https://saldo.se.test"
FI_BASE = "https://saldo.fi.test"
STATEMENT = "5b0e7b4e-3c1d-4f5e-9a51-7d2f3c6a9e10"  # the evidence type SE provides
RESIDENCE = "0f9a3e1c-2b7d-4c5e-8f6a-1d2c3b4a5e6f"  # an evidence type nobody here provides
PERSON_PNR = "195203041230"  # Aino Virtanen, a Swede by personnummer, who applies in FI


def directory_file(path: Path, pki: Pki) -> Path:  # noqa: F811 — the fixture imported above
    def party(
        party_id: str, country: str, name: str, agent: str, scheme: str, base: str, keys: Any, provides: list[str]
    ) -> dict[str, Any]:
        return {
            "id": party_id,
            "country": country,
            "name": name,
            "agent_id": agent,
            "agent_scheme": scheme,
            "endpoint": f"{base}/oots/as4",
            "certificates": [keys.certificate_pem],
            "provides": provides,
        }

    kinds = [
        {
            "id": STATEMENT,
            "classification": f"https://sr.oots.tech.europa.eu/evidencetypeclassifications/se/{STATEMENT}",
            "title": "Statement of public payments",
            # in every language of the pages, as the common services list it (here: the catalogue's words)
            "titles": {
                lang: i18n.translations(lang).gettext("Statement of public payments") for lang in i18n.LANGUAGES
            },
            "description": "The public payments made to the person in a calendar year, by payer and benefit.",
            "format": "application/pdf",
            "requirement": "https://sr.oots.tech.europa.eu/requirements/urn:uuid:7c1b9f2e-5a3d-4e6f-8b7a-2c9d1e0f3a4b",
            "requirement_name": "Proof of benefits received",
            "procedures": ["U1", "U3"],
        },
        {
            "id": RESIDENCE,
            "classification": f"https://sr.oots.tech.europa.eu/evidencetypeclassifications/de/{RESIDENCE}",
            "title": "Proof of residence",
            "description": "Where the person is registered as resident.",
            "format": "application/pdf",
            "requirement": "https://sr.oots.tech.europa.eu/requirements/urn:uuid:1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            "requirement_name": "Proof of residence",
            "procedures": ["U1"],
        },
    ]
    parties = [
        party(SE_PARTY, "SE", "Utbetalningsmyndigheten", "2021006883", "0007", SE_BASE, pki.se, [STATEMENT]),
        party(FI_PARTY, "FI", "Kela", "0246246-0", "0037", FI_BASE, pki.fi, []),
        party(DE_PARTY, "DE", "Deutsche Rentenversicherung", "DE123456789", "9930", "https://127.0.0.1:3", pki.de, []),
    ]
    path.write_text(json.dumps({"evidence_types": kinds, "parties": parties}, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def oots_directory(tmp_path: Path, pki: Pki) -> Path:  # noqa: F811 — the fixture imported above
    return directory_file(tmp_path / "oots.json", pki)


@pytest.fixture
def se_gateway(pki: Pki, oots_directory: Path) -> service.Gateway:  # noqa: F811 — the fixture imported above
    return service.Gateway(SE_PARTY, pki.se, oots_directory, SE_BASE)


@pytest.fixture
def fi_gateway(pki: Pki, oots_directory: Path) -> service.Gateway:  # noqa: F811 — the fixture imported above
    return service.Gateway(FI_PARTY, pki.fi, oots_directory, FI_BASE)


@pytest.fixture
def fi_sessions(fi_engine: Engine) -> sessionmaker[Session]:  # noqa: F811 — the fixture imported above
    with fi_engine.begin() as connection:
        connection.execute(text("TRUNCATE evidence_messages, evidence_exchanges RESTART IDENTITY CASCADE"))
    return create_session_factory(fi_engine)


def se_settings(settings: Settings, pki_files: tuple[Path, Path], directory: Path) -> Settings:
    return settings.model_copy(
        update={
            "dev_login": True,
            "onceonly_party": SE_PARTY,
            "onceonly_directory": directory,
            "eessi_key": pki_files[0],
            "eessi_certificate": pki_files[1],
            "public_url": SE_BASE,
            "allowed_hosts": [*settings.allowed_hosts, "saldo.se.test"],
        }
    )


@pytest.fixture
def se_app(
    settings: Settings,
    engine: Engine,
    connection: Connection,
    pki: Pki,  # noqa: F811 — the fixture imported above
    oots_directory: Path,
    tmp_path: Path,
) -> FastAPI:
    key, certificate = tmp_path / "se.key", tmp_path / "se.pem"
    pki.se.write(key, certificate)
    app = app_in_transaction(se_settings(settings, (key, certificate), oots_directory), engine, connection)
    route_provider_calls_to(app)
    return app


@pytest.fixture
def se_web(se_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(se_app, base_url=SE_BASE) as client:
        yield client


@pytest.fixture(autouse=True)
def _statement() -> None:
    service.provide_with(statement_evidence("Utbetalningsmyndigheten"))


Post = Callable[[str, dict[str, str], bytes], tuple[int, bytes]]


def to_se(session: Session, gateway: service.Gateway) -> Post:
    """A post that hands the message to SE's endpoint, in the test's transaction."""

    def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        session.expire_all()  # a fresh look, as the endpoint's own session has (the pages wrote beside it)
        with session.begin_nested():
            answer = service.receive(session, gateway, headers, body)
        return answer.status, answer.body

    return post


def to_fi(sessions: sessionmaker[Session], gateway: service.Gateway) -> Post:
    """A post that hands the message to FI's endpoint, committed as the endpoint commits."""

    def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        with unit_of_work(sessions) as session:
            answer = service.receive(session, gateway, headers, body)
        return answer.status, answer.body

    return post


def deliver_all(session: Session, gateway: service.Gateway, post: Post) -> list[service.Delivery]:
    done = []
    while (delivery := service.deliver_one(session, gateway, post)) is not None:
        if delivery.outcome != "built":
            done.append(delivery)
        session.flush()
    return done


def deliver_fi(sessions: sessionmaker[Session], gateway: service.Gateway, post: Post) -> list[service.Delivery]:
    done = []
    while True:
        with unit_of_work(sessions) as session:
            delivery = service.deliver_one(session, gateway, post)
        if delivery is None:
            return done
        if delivery.outcome != "built":
            done.append(delivery)
