"""The snapshot export streams: each table goes from PostgreSQL to its Parquet file a block at a
time, and gives the same snapshot however small the blocks; pseudonyms are the ones re-identification
computes; a COPY that fails part way, or a reader that fails, leaves no snapshot behind."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from saldo.analysis import repository as analysis_repository
from saldo.analysis.models import Snapshot
from saldo.analysis.repository import EXPORTS, AnalysisRepository
from saldo.analysis.service import snapshot as snapshot_module
from saldo.analysis.service.pseudonyms import Pseudonymiser, load_or_create_key
from saldo.analysis.service.snapshot import export_snapshot
from saldo.cli.country import load_country
from saldo.settings import Settings
from saldo.synthetic.country import generate_country

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stream-country")
    generate_country(folder, persons=600, seed=5, as_of=dt.date(2026, 11, 22), anomaly_rate=0.01)
    return folder


def test_many_pseudonyms_are_each_the_one_re_identification_computes() -> None:
    keys = Pseudonymiser(b"k" * 32)
    values = ["se_personnummer:198001011234", "", "fi_hetu:010180-123A", "Åsa:ünïcödé", "x" * 500]
    for domain in ("person", "account", "decision"):
        assert keys.many(domain, values) == [keys.one(domain, value) for value in values]
    assert keys.many("person", values) != keys.many("account", values)


def test_a_snapshot_streamed_in_small_blocks_is_the_same_and_its_pseudonyms_are_re_identifiable(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    country: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_country(sessions, settings, country, loaded_by="staff:test")
    whole = Path(export_snapshot(session, settings, created_by="staff:test").path)
    monkeypatch.setattr(analysis_repository, "CSV_BLOCK", 4096)  # a few dozen payments a block
    monkeypatch.setattr(snapshot_module, "BATCH_ROWS", 1000)
    blocks = Path(export_snapshot(session, settings, created_by="staff:test").path)

    for path in sorted(whole.glob("*.parquet")):
        first, second = pq.read_table(path), pq.read_table(blocks / path.name)
        order = [(column, "ascending") for column in first.column_names]
        assert first.schema == second.schema, path.name
        assert first.sort_by(order).equals(second.sort_by(order)), path.name
    payments = pq.ParquetFile(blocks / "payments.parquet")
    assert payments.metadata.num_rows > 3000
    assert payments.metadata.num_row_groups == -(-payments.metadata.num_rows // 1000)  # written 1,000 at a time

    # Every payee's pseudonym is the one a caseworker's re-identification computes from the registry.
    keys = Pseudonymiser(load_or_create_key(settings.pseudonym_key_path))
    payees = session.execute(
        text(
            "SELECT DISTINCT e.id_scheme || ':' || e.identifier FROM payments p JOIN payees e ON e.id = p.payee_id"
            " WHERE p.status <> 'cancelled'"
        )
    ).scalars()
    expected = {keys.one("person", payee) for payee in payees}
    assert set(payments.read(columns=["payee_key"]).column("payee_key").to_pylist()) == expected
    persons = session.execute(text("SELECT person_scheme || ':' || person_id FROM population_register")).scalars()
    snapshot_persons = pq.read_table(blocks / "persons.parquet", columns=["person_key"])
    assert set(snapshot_persons.column("person_key").to_pylist()) == {keys.one("person", p) for p in persons}


@pytest.mark.parametrize("breaks_at", [1, 20_001])
def test_a_copy_that_fails_part_way_leaves_no_snapshot(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch, breaks_at: int
) -> None:
    """The payers' table breaks at its first row, or after 20,000 of its rows have gone out: the
    export fails with the database's error, writes no snapshot, and leaves nothing in the snapshots
    folder."""
    broken = f"SELECT n AS payer_id, 'state_agency' AS kind, (1 / ({breaks_at} - n))::text AS connection_model" + (
        " FROM generate_series(1, 40000) AS n"
    )
    monkeypatch.setitem(EXPORTS, "payers", (broken, EXPORTS["payers"][1]))
    settings.snapshots.mkdir(parents=True, exist_ok=True)
    before = sorted(settings.snapshots.iterdir())
    snapshots = session.scalar(select(func.count()).select_from(Snapshot))

    with pytest.raises(psycopg.errors.DivisionByZero):
        export_snapshot(session, settings, created_by="staff:test")
    session.rollback()

    assert sorted(settings.snapshots.iterdir()) == before
    assert session.scalar(select(func.count()).select_from(Snapshot)) == snapshots


def test_a_reader_that_fails_ends_the_copy_and_raises_its_own_error(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(EXPORTS, "many", ("SELECT n, repeat('x', 100) AS t FROM generate_series(1, 2000000) n", {}))
    read: list[int] = []

    def read_a_batch_and_give_up() -> None:
        with AnalysisRepository(session).export_stream("many") as rows:
            read.append(rows.read_next_batch().num_rows)
            raise RuntimeError("the reader gave up")

    with pytest.raises(RuntimeError, match="the reader gave up"):
        read_a_batch_and_give_up()
    assert 0 < read[0] < 2_000_000
    session.rollback()
    assert session.scalar(text("SELECT 1")) == 1  # the connection is usable again


def test_identities_are_each_payee_with_its_latest_payment_not_cancelled(
    session: Session, sessions: sessionmaker[Session], settings: Settings, country: Path
) -> None:
    """What identity linkage reads, found by grouping, is row for row and in order what sorting every
    payment by payee gives, with a latest payment cancelled and one paid to a new account."""
    load_country(sessions, settings, country, loaded_by="staff:test")
    twice = session.execute(
        text(
            "SELECT p.payee_id, max(p.id), min(p.id) FROM payments p JOIN payees e ON e.id = p.payee_id"
            " WHERE e.kind = 'person' GROUP BY p.payee_id HAVING count(*) > 1 ORDER BY p.payee_id LIMIT 2"
        )
    ).all()
    assert len(twice) == 2
    (payee, cancelled, _), (_, moved, _) = twice
    session.execute(
        text("UPDATE payments SET status = 'cancelled', account_number = 'SE3550000000054910000003' WHERE id = :id"),
        {"id": cancelled},
    )
    session.execute(
        text("UPDATE payments SET account_number = 'SE7280000810340009783242' WHERE id = :id"), {"id": moved}
    )
    reference = session.execute(
        text(
            """SELECT DISTINCT ON (e.id) e.id_scheme, e.identifier, p.payee_name, p.account_number, p.id, e.id
               FROM payees e JOIN payments p ON p.payee_id = e.id
               WHERE e.kind = 'person' AND p.status <> 'cancelled' ORDER BY e.id, p.id DESC"""
        )
    ).all()
    latest = {row[5]: row[4] for row in reference}
    assert latest[payee] < cancelled  # the payee is still there, with the payment before the cancelled one
    assert moved in latest.values()

    exported = AnalysisRepository(session).export("identities").to_pylist()
    assert [tuple(row.values()) for row in exported] == [row[:4] for row in reference]
