"""Institutions SE, FI and DE, each with keys from a test CA, one directory listing them, and FI's
and DE's own databases (nodes of their own: the SE node works in the test's transaction)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from saldo.db.engine import create_session_factory
from saldo.eessi.service import Node, seds
from saldo.eessi.service.directory import entry, write
from saldo.eessi.service.keys import NodeKeys, issue_authority, issue_node
from tests.conftest import live_database

SE = "SE:FKA01"
FI = "FI:KELA01"
DE = "DE:DRV01"  # a third institution in the directory: a partner of no case here
BUCS = ["H_BUC_01", "H_BUC_02a", "H_BUC_02b", "H_BUC_02c", "H_BUC_07", "LA_BUC_02", "LA_BUC_04"]


@dataclass(frozen=True)
class Pki:
    authority: NodeKeys
    se: NodeKeys
    fi: NodeKeys
    de: NodeKeys


@pytest.fixture(scope="session")
def pki() -> Pki:
    authority = issue_authority()
    return Pki(authority, issue_node(authority, SE), issue_node(authority, FI), issue_node(authority, DE))


def write_directory(path: Path, pki: Pki, *, se_url: str, fi_url: str) -> Path:
    write(
        path,
        [
            entry(SE, "Försäkringskassan", se_url, BUCS, [pki.se.certificate_pem]),
            entry(FI, "Kela", fi_url, BUCS, [pki.fi.certificate_pem]),
            entry(DE, "Deutsche Rentenversicherung", "https://127.0.0.1:3/eessi/as4", BUCS, [pki.de.certificate_pem]),
        ],
    )
    return path


@pytest.fixture
def directory(tmp_path: Path, pki: Pki) -> Path:
    return write_directory(
        tmp_path / "directory.json", pki, se_url="https://127.0.0.1:1/eessi/as4", fi_url="https://127.0.0.1:2/eessi/as4"
    )


@pytest.fixture
def se_node(pki: Pki, directory: Path) -> Node:
    return Node(SE, pki.se, directory)


@pytest.fixture
def fi_node(pki: Pki, directory: Path) -> Node:
    return Node(FI, pki.fi, directory)


def node_database(country: str, factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Engine]:
    """A node's own migrated database for the test session."""
    _, engine = live_database(f"saldo_eessi_{country}_{worker_id}", factory.mktemp(country))
    yield engine
    engine.dispose()


def emptied(engine: Engine) -> sessionmaker[Session]:
    """Sessions on a node's database with no case left from an earlier test."""
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE eessi_facts, eessi_documents, eessi_cases RESTART IDENTITY CASCADE"))
    return create_session_factory(engine)


@pytest.fixture(scope="session")
def fi_engine(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Engine]:
    yield from node_database("fi", tmp_path_factory, worker_id)


@pytest.fixture
def fi_sessions(fi_engine: Engine) -> sessionmaker[Session]:
    return emptied(fi_engine)


@pytest.fixture(scope="session")
def de_engine(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Engine]:
    yield from node_database("de", tmp_path_factory, worker_id)


@pytest.fixture
def de_sessions(de_engine: Engine) -> sessionmaker[Session]:
    return emptied(de_engine)


@pytest.fixture
def de_node(pki: Pki, directory: Path) -> Node:
    return Node(DE, pki.de, directory)


def person() -> seds.PersonIdentification:
    return seds.PersonIdentification(
        family_name="Virtanen",
        forename="Aino",
        date_birth=dt.date(1952, 3, 4),
        sex="female",
        pins=(
            seds.Pin(personal_identification_number="19520304-1230", country="SE", institution_id=SE),
            seds.Pin(personal_identification_number="040352-123C", country="FI"),
        ),
    )


Post = Callable[[str, dict[str, str], bytes], tuple[int, bytes]]
