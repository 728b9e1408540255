"""Saldo configured as an eIDAS service provider of a Connector Saldo did not write (pysaml2's
identity provider, tests/crossborder/connector.py), with the keys of both in a folder of the run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from saldo.crossborder.service.eidas import connector_from_settings, sp_metadata
from saldo.settings import Settings
from tests.conftest import app_in_transaction
from tests.credentials.conftest import WalletPki, peer, wallet_pki  # noqa: F401 — the PID provider and the peer
from tests.crossborder.connector import Connector, key_and_certificate
from tests.factories import make_bank, make_bank_token

BASE = "http://saldo.test"  # a dotted name: SAML metadata wants one


@dataclass(frozen=True)
class EidasFiles:
    connector: Connector
    sp_key: Path
    sp_cert: Path
    metadata: Path


@pytest.fixture(scope="session")
def eidas_files(tmp_path_factory: pytest.TempPathFactory) -> EidasFiles:
    if not Path("/usr/bin/xmlsec1").exists():
        pytest.skip("xmlsec1 (Debian's xmlsec1) runs the independent identity provider's cryptography")
    folder = tmp_path_factory.mktemp("eidas")
    connector = Connector(folder)
    sp_key, sp_cert = key_and_certificate(folder, "saldo-sp")
    connector.sp_cert = sp_cert
    return EidasFiles(connector, sp_key, sp_cert, connector.metadata())


def eidas_settings(settings: Settings, files: EidasFiles) -> Settings:
    return settings.model_copy(
        update={
            "eidas_connector_metadata": files.metadata,
            "eidas_sp_key": files.sp_key,
            "eidas_sp_cert": files.sp_cert,
            "public_url": BASE,
            "allowed_hosts": [*settings.allowed_hosts, "saldo.test"],
        }
    )


@pytest.fixture
def connector(settings: Settings, eidas_files: EidasFiles) -> Connector:
    """The identity provider, trusting Saldo's service provider metadata as Saldo publishes it."""
    eidas_files.connector.trust(sp_metadata(connector_from_settings(eidas_settings(settings, eidas_files))))
    return eidas_files.connector


@pytest.fixture
def eidas_web(
    settings: Settings, eidas_files: EidasFiles, engine: Engine, connection: Connection, connector: Connector
) -> Iterator[TestClient]:
    app = app_in_transaction(eidas_settings(settings, eidas_files), engine, connection)
    with TestClient(app, base_url=BASE) as client:
        yield client


@pytest.fixture
def wallet_web(
    settings: Settings,
    wallet_pki: WalletPki,  # noqa: F811 — the fixture imported above, by its name
    engine: Engine,
    connection: Connection,
) -> Iterator[TestClient]:
    """Saldo trusting a PID provider's root: login with the EU wallet is offered."""
    configured = settings.model_copy(
        update={
            "credentials_pid_trust_anchors": wallet_pki.pid_anchors,
            "public_url": BASE,
            "allowed_hosts": [*settings.allowed_hosts, "saldo.test"],
        }
    )
    app = app_in_transaction(configured, engine, connection)
    with TestClient(app, base_url=BASE) as client:
        yield client


@pytest.fixture
def accounts(session: Session) -> str:
    """A bank's token, to report the accounts (and their holders' names) a test needs."""
    token = make_bank_token(session, make_bank(session))
    session.commit()
    return token


def letters(session: Session, kind: str) -> list[tuple[Any, ...]]:
    """(addressee's identity number, payload) of each letter of ``kind`` in the outbox, oldest first."""
    rows = session.execute(
        text(
            "SELECT p.identifier, l.payload FROM letters l JOIN payees p ON p.id = l.payee_id "
            "WHERE l.kind = :kind ORDER BY l.id"
        ),
        {"kind": kind},
    )
    return [tuple(r) for r in rows]
