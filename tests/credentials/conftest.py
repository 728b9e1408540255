"""An issuer under a test root (its key, chain and the root as the verifier's trusted list), the
app configured as that issuer, a member of staff who issues, and the independent peer: the
OpenWallet Foundation's sd-jwt-js in Node, which checks what Saldo issues and makes what Saldo's
verifier must accept — among it a person's PID and their bank's account attestation, signed under
roots of their own."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from saldo.credentials.service.keys import IssuerKeys, TrustAnchor, certificate_pem, issue_issuer, issue_trust_anchor
from saldo.settings import Settings
from saldo.staff.models import Role
from saldo.staff.service import create_staff, issue_staff_token
from tests.conftest import app_in_transaction
from tests.factories import auth
from tests.web_login import route_provider_calls_to

PEER_DIR = Path(__file__).parent / "peer"
INSTITUTION = "SE:FKA01"


@dataclass(frozen=True)
class CredentialPki:
    anchor: TrustAnchor
    issuer: IssuerKeys
    key: Path
    chain: Path
    anchors: Path
    stranger: TrustAnchor  # a root no one trusts

    @property
    def anchor_pem(self) -> str:
        return certificate_pem(self.anchor.certificate)


@pytest.fixture(scope="session")
def credential_pki(tmp_path_factory: pytest.TempPathFactory) -> CredentialPki:
    folder = tmp_path_factory.mktemp("credential-pki")
    anchor = issue_trust_anchor()
    issuer = issue_issuer(anchor, "Försäkringskassan", "SE")
    issuer.write(folder / "issuer.key", folder / "issuer.pem")
    (folder / "anchors.pem").write_text(certificate_pem(anchor.certificate), encoding="ascii")
    return CredentialPki(
        anchor, issuer, folder / "issuer.key", folder / "issuer.pem", folder / "anchors.pem", issue_trust_anchor()
    )


def issuer_settings(settings: Settings, pki: CredentialPki) -> Settings:
    return settings.model_copy(
        update={
            "eessi_institution": INSTITUTION,
            "credentials_key": pki.key,
            "credentials_chain": pki.chain,
            "credentials_trust_anchors": pki.anchors,
            "credentials_status_list_size": 4096,
            "public_url": "http://testserver",
        }
    )


@pytest.fixture
def issuer_app(settings: Settings, credential_pki: CredentialPki, engine: Engine, connection: Connection) -> FastAPI:
    return app_in_transaction(issuer_settings(settings, credential_pki), engine, connection)


@pytest.fixture
def issuer_client(issuer_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(issuer_app) as client:
        yield client


@pytest.fixture
def officer(session: Session) -> dict[str, str]:
    """A member of staff with the issuer role, as API headers."""
    create_staff(session, username="ida.issuer", name="Ida", roles=[Role.ISSUER])
    token = issue_staff_token(session, username="ida.issuer", label="test")
    session.commit()
    return auth(token)


def _peer_missing() -> str | None:
    if shutil.which("node") is None:
        return "no node to run the independent SD-JWT implementation"
    if not (PEER_DIR / "node_modules" / "@sd-jwt" / "sd-jwt-vc").exists():
        return "tests/credentials/peer/node_modules missing (python3 run.py test installs it with npm)"
    return None


Peer = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def peer() -> Peer:
    """Ask the independent implementation: ``peer("verify", presentation=…, …)`` → its JSON answer."""
    missing = _peer_missing()
    if missing:
        pytest.skip(missing)

    def ask(command: str, **request: Any) -> dict[str, Any]:
        done = subprocess.run(
            ["node", str(PEER_DIR / "peer.mjs")],
            input=json.dumps({"command": command, **request}),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer

    return ask


@pytest.fixture
def issuer_web(
    settings: Settings, credential_pki: CredentialPki, engine: Engine, connection: Connection
) -> Iterator[TestClient]:
    """The issuer's app with the development eID on, as a browser uses it (cookies kept)."""
    app = app_in_transaction(
        issuer_settings(settings, credential_pki).model_copy(update={"dev_login": True}), engine, connection
    )
    route_provider_calls_to(app)
    with TestClient(app) as client:
        yield client


# --- a person's wallet holding their PID and their bank's account attestation ---------------------


@dataclass(frozen=True)
class WalletPki:
    """A PID provider and a bank abroad, each under its own root, as the issuers of what a person's
    wallet holds; the peer signs with their keys."""

    pid: IssuerKeys
    bank: IssuerKeys
    pid_anchors: Path
    bank_anchors: Path


@pytest.fixture(scope="session")
def wallet_pki(tmp_path_factory: pytest.TempPathFactory) -> WalletPki:
    folder = tmp_path_factory.mktemp("wallet-pki")
    pid_root, bank_root = issue_trust_anchor(), issue_trust_anchor()
    (folder / "pid.pem").write_text(certificate_pem(pid_root.certificate), encoding="ascii")
    (folder / "banks.pem").write_text(certificate_pem(bank_root.certificate), encoding="ascii")
    return WalletPki(
        pid=issue_issuer(pid_root, "Skatteverket PID", "SE"),
        bank=issue_issuer(bank_root, "Nordea Bank Abp", "FI"),
        pid_anchors=folder / "pid.pem",
        bank_anchors=folder / "banks.pem",
    )


def designation_settings(settings: Settings, pki: CredentialPki, wallet: WalletPki) -> Settings:
    return issuer_settings(settings, pki).model_copy(
        update={
            "credentials_pid_trust_anchors": wallet.pid_anchors,
            "credentials_bank_trust_anchors": wallet.bank_anchors,
            "dev_login": True,
        }
    )


@pytest.fixture
def designation_web(
    settings: Settings, credential_pki: CredentialPki, wallet_pki: WalletPki, engine: Engine, connection: Connection
) -> Iterator[TestClient]:
    """Saldo offering the wallet path to designate an account, as a browser uses it."""
    app = app_in_transaction(designation_settings(settings, credential_pki, wallet_pki), engine, connection)
    route_provider_calls_to(app)
    with TestClient(app) as client:
        yield client
