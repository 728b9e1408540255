"""The register keeper's API: the authority that keeps a register sends its extracts over HTTP with a
token of its own, checked whole like a file the authority loads; nobody else may send them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from saldo.registers.errors import InvalidKeeperError, KeeperExistsError
from saldo.registers.models import IncomeRecord, PopulationRecord, RegisterKeeperToken, RegisterKind
from saldo.registers.schemas import RegisterLoaded
from saldo.registers.service import create_keeper, issue_keeper_token, load_register, revoke_keeper_token
from tests.conftest import live_database
from tests.factories import OTHER_PNR, VALID_PNR, auth, make_payer, make_token
from tests.registers.test_loads import POPULATION_HEADER

SKATTEVERKET = "2021005448"
CSV = {"Content-Type": "text/csv"}
EXTRACT = "\n".join(
    [
        POPULATION_HEADER,
        f"se_personnummer,{VALID_PNR},M,1981-12-28,,,,7,Storgatan 1,11122,0180,,",
        f"se_personnummer,{OTHER_PNR},F,1949-07-13,2026-02-01,,,8,,,1480,,",
    ]
)


def keeper_token(session: Session, *registers: RegisterKind, number: str = SKATTEVERKET) -> str:
    create_keeper(session, organisation_number=number, name="Skatteverket", registers=list(registers))
    token = issue_keeper_token(session, organisation_number=number, label="test").token
    session.commit()
    return token


def count(session: Session, model: type[PopulationRecord] | type[IncomeRecord]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_keeper_sends_an_extract_and_sending_it_again_changes_nothing(client: TestClient, session: Session) -> None:
    token = keeper_token(session, RegisterKind.POPULATION, RegisterKind.INCOME)
    headers = {**auth(token), **CSV}
    first = client.put("/api/v1/registers/population?filename=fb-2026-11.csv", content=EXTRACT, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json() | {"load_id": 0} == {"load_id": 0, "kind": "population", "rows": 2, "already_loaded": False}
    again = client.put("/api/v1/registers/population", content=EXTRACT, headers=headers)
    assert again.json() == {**first.json(), "already_loaded": True}
    assert count(session, PopulationRecord) == 2

    income = f"person_scheme,person_id,employer_id,month,amount_minor\nse_personnummer,{VALID_PNR},E1,2026-10,3150000"
    assert client.put("/api/v1/registers/income", content=income, headers=headers).status_code == 200
    assert count(session, IncomeRecord) == 1

    [latest, earliest] = client.get("/api/v1/registers/loads", headers=auth(token)).json()
    assert (latest["kind"], earliest["kind"]) == ("income", "population")
    assert earliest["filename"] == "fb-2026-11.csv"
    assert earliest["loaded_by"].startswith("keeper:")
    assert len(earliest["content_sha256"]) == 64


def test_a_bad_extract_is_refused_whole_with_line_and_field(client: TestClient, session: Session) -> None:
    token = keeper_token(session, RegisterKind.POPULATION)
    bad = EXTRACT + "\nse_personnummer,198112289875,X,1981-12-28,,,,7,,,0180,,"
    response = client.put("/api/v1/registers/population", content=bad, headers={**auth(token), **CSV})
    assert response.status_code == 422
    problem = response.json()
    assert problem["error"] == "file_rejected"
    assert {(e["line"], e["field"]) for e in problem["errors"]} == {(4, "person_id"), (4, "sex")}
    assert count(session, PopulationRecord) == 0


def test_an_excluded_category_is_refused_at_the_header(client: TestClient, session: Session) -> None:
    token = keeper_token(session, RegisterKind.POPULATION)
    lines = EXTRACT.split("\n")
    with_nationality = "\n".join([lines[0] + ",nationality", *(line + ",SE" for line in lines[1:])])
    response = client.put("/api/v1/registers/population", content=with_nationality, headers={**auth(token), **CSV})
    assert response.status_code == 422
    assert any("nationality" in e["reason"] or e["field"] == "nationality" for e in response.json()["errors"])
    assert count(session, PopulationRecord) == 0


def test_only_the_keeper_of_a_register_may_send_it(client: TestClient, session: Session) -> None:
    income_only = keeper_token(session, RegisterKind.INCOME)
    refused = client.put("/api/v1/registers/population", content=EXTRACT, headers={**auth(income_only), **CSV})
    assert (refused.status_code, refused.json()["error"]) == (403, "not_the_keeper")
    assert "does not keep the population register" in refused.json()["detail"]

    payer_token = make_token(session, make_payer(session))
    session.commit()
    for token in (payer_token, "saldoreg_0000_nonsense"):
        response = client.put("/api/v1/registers/population", content=EXTRACT, headers={**auth(token), **CSV})
        assert response.status_code == 401
    assert client.put("/api/v1/registers/population", content=EXTRACT, headers=CSV).status_code == 401
    assert count(session, PopulationRecord) == 0


def test_a_revoked_token_is_refused(client: TestClient, session: Session) -> None:
    token = keeper_token(session, RegisterKind.POPULATION)
    revoke_keeper_token(session, newest_token_id(session))
    session.commit()
    response = client.put("/api/v1/registers/population", content=EXTRACT, headers={**auth(token), **CSV})
    assert response.status_code == 401


def test_an_empty_body_an_unknown_register_and_a_bad_filename_are_refused(client: TestClient, session: Session) -> None:
    headers = {**auth(keeper_token(session, RegisterKind.POPULATION)), **CSV}
    assert client.put("/api/v1/registers/population", content=b"", headers=headers).status_code == 422
    assert client.put("/api/v1/registers/church", content=EXTRACT, headers=headers).status_code == 422
    assert client.put("/api/v1/registers/population?filename=../x", content=EXTRACT, headers=headers).status_code == 422


def test_a_keeper_needs_a_valid_number_a_name_and_a_register(session: Session) -> None:
    with pytest.raises(InvalidKeeperError, match="organisationsnummer"):
        create_keeper(session, organisation_number="2021005449", name="X", registers=[RegisterKind.INCOME])
    with pytest.raises(InvalidKeeperError, match="at least one register"):
        create_keeper(session, organisation_number=SKATTEVERKET, name="Skatteverket", registers=[])
    create_keeper(session, organisation_number=SKATTEVERKET, name="Skatteverket", registers=[RegisterKind.INCOME])
    with pytest.raises(KeeperExistsError):
        create_keeper(session, organisation_number=SKATTEVERKET, name="Skatteverket", registers=[RegisterKind.INCOME])


def newest_token_id(session: Session) -> int:
    return int(session.scalar(select(func.max(RegisterKeeperToken.id))) or 0)


def test_the_same_extract_sent_twice_at_once_is_loaded_once(tmp_path: Path, worker_id: str) -> None:
    _, engine = live_database(f"saldo_register_race_{worker_id}", tmp_path / "data")
    path = tmp_path / "extract.csv"
    path.write_text(EXTRACT + "\n", encoding="utf-8")
    results: list[RegisterLoaded] = []
    try:
        with Session(engine) as first:
            loaded = load_register(first, RegisterKind.POPULATION, path, loaded_by="keeper:1:token:1")

            def second() -> None:
                with Session(engine) as other:
                    results.append(load_register(other, RegisterKind.POPULATION, path, loaded_by="keeper:1:token:2"))
                    other.commit()

            racer = threading.Thread(target=second)
            racer.start()
            with engine.connect() as probe:  # the second load waits on the register's lock
                deadline = time.monotonic() + 10
                while not probe.scalar(
                    text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                ):
                    assert time.monotonic() < deadline, "the second load never waited"
                    time.sleep(0.02)
            first.commit()
            racer.join(timeout=10)
        assert [(r.already_loaded, r.load_id) for r in results] == [(True, loaded.load_id)]
    finally:
        engine.dispose()
