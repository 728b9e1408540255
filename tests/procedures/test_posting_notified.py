"""A posting's PDA1 granted on an application tells the state of work: the issuer chooses the
institution there, and the grant opens an LA_BUC_04 whose A009 goes, signed, to that institution's
node — a second node with its own database, which takes it in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from saldo.eessi.service import Node
from saldo.settings import Settings
from saldo.staff.models import Role
from tests.conftest import app_in_transaction
from tests.credentials.conftest import CredentialPki, issuer_settings
from tests.eessi.conftest import FI, SE, Pki, fi_engine, fi_sessions, pki, write_directory  # noqa: F401 — fixtures
from tests.eessi.test_exchange import deliver_all, to
from tests.factories import VALID_PNR
from tests.procedures.test_applications import apply_pda1, grant_on_page, log_in_staff, pda1_form
from tests.web_login import dev_login, route_provider_calls_to


@pytest.fixture
def directory(tmp_path: Path, pki: Pki) -> Path:  # noqa: F811
    return write_directory(
        tmp_path / "directory.json", pki, se_url="https://127.0.0.1:1/eessi/as4", fi_url="https://127.0.0.1:2/eessi/as4"
    )


@pytest.fixture
def node_web(
    settings: Settings,
    credential_pki: CredentialPki,
    pki: Pki,  # noqa: F811
    directory: Path,
    tmp_path: Path,
    engine: Engine,
    connection: Connection,
) -> Iterator[TestClient]:
    """The issuer's app on a node of the exchange: SE, with Kela (FI) in its directory."""
    pki.se.write(tmp_path / "se.key", tmp_path / "se.pem")
    changes = {
        "dev_login": True,
        "eessi_key": tmp_path / "se.key",
        "eessi_certificate": tmp_path / "se.pem",
        "eessi_directory": directory,
    }
    app = app_in_transaction(issuer_settings(settings, credential_pki).model_copy(update=changes), engine, connection)
    route_provider_calls_to(app)
    with TestClient(app) as client:
        yield client


def test_a_granted_posting_is_notified_to_the_state_of_work_with_an_a009(
    node_web: TestClient,
    session: Session,
    pki: Pki,  # noqa: F811
    directory: Path,
    fi_sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    reference = apply_pda1(node_web)
    log_in_staff(node_web, session, Role.ISSUER)
    page = node_web.get(f"/staff/applications/{reference}", params={"lang": "en"}).text
    assert f'<option value="{FI}">Kela ({FI})</option>' in page  # the institutions of the state of work only
    assert "DE:DRV01" not in page
    granted = grant_on_page(node_web, reference, notify=FI)
    assert granted.status_code == 303
    case_id, buc, partner = session.execute(
        text("SELECT c.case_id, c.buc_type, c.partner FROM applications a JOIN eessi_cases c ON c.id = a.eessi_case_pk")
    ).one()
    assert (buc, partner) == ("LA_BUC_04", FI)
    assert session.scalar(
        text("SELECT d.eessi_case_id = c.id FROM legislation_decisions d, eessi_cases c WHERE c.case_id = :c"),
        {"c": case_id},
    )

    delivered = deliver_all(session, Node(SE, pki.se, directory), to(Node(FI, pki.fi, directory), fi_sessions))
    assert [d.outcome for d in delivered] == ["delivered"]
    with fi_sessions() as fi:
        received = fi.execute(
            text(
                "SELECT d.sed_type, d.content, c.buc_type, c.owner FROM eessi_documents d "
                "JOIN eessi_cases c ON c.id = d.case_pk WHERE c.case_id = :c"
            ),
            {"c": case_id},
        ).one()
    assert received.sed_type == "A009"
    assert (received.buc_type, received.owner) == ("LA_BUC_04", SE)
    assert received.content["fields"]["employer"] == "Bygg AB"
    assert received.content["fields"]["countryWork"] == "FI"
    assert received.content["fields"]["period"]["startDate"] == pda1_form()["starting_date"]
    assert received.content["person"]["familyName"] == "Andersson"

    node_web.cookies.clear()
    dev_login(node_web, VALID_PNR)
    mine = node_web.get(f"/me/applications/{reference}", params={"lang": "en"}).text
    assert "The institution in the country you work in has been told of your posting." in mine
    assert "Work posted abroad" in node_web.get("/me", params={"lang": "en"}).text


def test_only_a_posting_is_notified_and_only_to_the_state_of_work(node_web: TestClient, session: Session) -> None:
    reference = apply_pda1(node_web, situation="02")
    log_in_staff(node_web, session, Role.ISSUER)
    refused = grant_on_page(node_web, reference, status_confirmation="02", notify=FI)
    assert refused.status_code == 422
    assert "an A009 tells of a posting" in refused.text
    elsewhere = grant_on_page(node_web, reference, status_confirmation="01", notify="DE:DRV01")
    assert "DE:DRV01 is not an institution of FI that takes part in LA_BUC_04" in elsewhere.text
    assert session.scalar(text("SELECT count(*) FROM eessi_cases")) == 0
    assert session.scalar(text("SELECT count(*) FROM legislation_decisions")) == 0
    assert session.scalar(text("SELECT state FROM applications")) == "submitted"
