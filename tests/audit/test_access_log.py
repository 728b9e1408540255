"""The access log on a database of its own (its entries must really be committed): concurrent
appends make one gapless chain, the chain verifies, and every kind of tampering is detected."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from saldo.accesslog.service import Access, entries, log_access, verify_chain
from tests.conftest import live_database


@pytest.fixture(scope="module")
def log_engine(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Engine]:
    _, engine = live_database(f"saldo_test_access_log_{worker_id}", tmp_path_factory.mktemp("access-log"))
    yield engine
    engine.dispose()


def _append(engine: Engine, n: int, actor: str) -> None:
    for i in range(n):
        with Session(engine) as session:
            log_access(
                session,
                Access(
                    actor=actor,
                    role="auditor",
                    action="read_case",
                    purpose=f"case work {i}",
                    person_scheme="se_personnummer",
                    person_id=f"19800101{i % 10:04d}",
                    case_id=i,
                    details={"i": i, "text": "åäö ' \" \\ ,"},
                ),
            )
            session.commit()


def _tamper(engine: Engine, statement: str) -> None:
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE access_log DISABLE TRIGGER access_log_append_only"))
        connection.execute(text(statement))
        connection.execute(text("ALTER TABLE access_log ENABLE TRIGGER access_log_append_only"))


def test_concurrent_appends_form_one_chain_and_tampering_is_found(log_engine: Engine) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: _append(log_engine, 25, f"staff{k}"), range(8)))
    result = verify_chain(log_engine, chunk=37)  # ranges that do not fall on round numbers
    assert result.intact, result.faults
    assert (result.entries, result.head_seq) == (200, 200)
    anchor = (
        100,
        bytes(log_engine.connect().execute(text("SELECT hash FROM access_log WHERE seq = 100")).scalar_one()),
    )
    with Session(log_engine) as session:
        assert len(entries(session, actor="staff3", limit=1000)) == 25
        assert [e.seq for e in entries(session, after_seq=198)] == [199, 200]

    # The trigger refuses any change in the ordinary way.
    with pytest.raises(DBAPIError, match="refused"), log_engine.begin() as connection:
        connection.execute(text("UPDATE access_log SET purpose = 'x' WHERE seq = 1"))
    with pytest.raises(DBAPIError, match="refused"), log_engine.begin() as connection:
        connection.execute(text("DELETE FROM access_log WHERE seq = 1"))

    # A changed purpose breaks its own hash.
    _tamper(log_engine, "UPDATE access_log SET purpose = 'nothing to see' WHERE seq = 42")
    faults = verify_chain(log_engine).faults
    assert faults == ["entry 42: its content does not match its hash (changed)"]
    # A tamperer who knows the digest recomputes the entry's hash too ...
    _tamper(
        log_engine,
        "UPDATE access_log SET hash = access_log_digest(prev_hash, seq, at, actor, role, channel, action, "
        "person_scheme, person_id, case_id, purpose, details) WHERE seq = 42",
    )
    # ... which then breaks the link of the next entry.
    assert verify_chain(log_engine).faults == [
        "entry 43: it does not point at the entry before it (removed or inserted entries)"
    ]
    # Rewriting the whole chain from there on is consistent in itself: only an anchor shows it.
    _tamper(
        log_engine,
        """
        DO $$ DECLARE r record; previous bytea; BEGIN
          SELECT hash INTO previous FROM access_log WHERE seq = 42;
          FOR r IN SELECT * FROM access_log WHERE seq > 42 ORDER BY seq LOOP
            previous := access_log_digest(previous, r.seq, r.at, r.actor, r.role, r.channel, r.action,
                                          r.person_scheme, r.person_id, r.case_id, r.purpose, r.details);
            UPDATE access_log SET prev_hash = (SELECT hash FROM access_log WHERE seq = r.seq - 1), hash = previous
             WHERE seq = r.seq;
          END LOOP;
        END $$
        """,
    )
    rewritten = verify_chain(log_engine)
    assert rewritten.intact
    anchored = verify_chain(log_engine, anchor=anchor)
    assert anchored.faults == [f"anchor 100:{anchor[1].hex()} does not hold: that entry is gone or was rewritten"]
    # A removed entry leaves a gap.
    _tamper(log_engine, "DELETE FROM access_log WHERE seq = 7")
    gap = verify_chain(log_engine).faults
    assert "1 entries are missing: 199 entries but the last is number 200" in gap
    assert any(f.startswith("entry 8:") and "does not point" in f for f in gap)
