"""A transition's actor and reason are kept once, as a note: the same words, however they were written.

The note's id is a digest the writers compute in Python and the migration that brought notes in
computed in SQL: the two must agree, and a populated history must read the same after the
migration (and after going back) as before."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session

from saldo.db.migrate import alembic_config
from saldo.payments.models import event_note_id
from saldo.payments.repository import PaymentRepository, record_event_notes
from tests.conftest import create_database
from tests.factories import index_plan, load_migration

BEFORE_NOTES = "d8f4b1c6e203"
NOTES: tuple[tuple[str, str | None], ...] = (
    ("system:account-check", "account check: the account is open and held by the payee"),
    ("payer:7:user:3", None),
    ("staff:åsa", "hållen: beslutet är överklagat — «ej» betalas\nförrän"),
    ("bank:ESSESESS:camt.054:9", ""),
)


def note_sql() -> str:
    return str(load_migration("*_payment_event_notes.py").NOTE_ID)


def test_the_digest_is_the_same_in_python_and_in_the_migrations_sql(connection: Connection) -> None:
    expression = note_sql()
    for actor, reason in NOTES:
        computed = connection.execute(
            text(f"SELECT {expression} FROM (SELECT CAST(:actor AS text) AS actor, CAST(:reason AS text) AS reason) n"),
            {"actor": actor, "reason": reason},
        ).scalar_one()
        assert computed == event_note_id(actor, reason), (actor, reason)
    # no reason and an empty reason are different notes
    assert event_note_id("system", None) != event_note_id("system", "")


def test_a_note_is_kept_once_however_often_it_is_said(session: Session) -> None:
    first = record_event_notes(session, [NOTES[0], NOTES[0], NOTES[1]])
    again = record_event_notes(session, [NOTES[1], NOTES[0]])
    assert first[0] == first[1] != first[2]
    assert again == [first[2], first[0]]
    kept = session.execute(
        text("SELECT id, actor, reason FROM payment_event_notes WHERE id = ANY(:ids)"), {"ids": first}
    ).all()
    assert {k[0]: (k[1], k[2]) for k in kept} == {first[0]: NOTES[0], first[2]: NOTES[1]}


def test_two_long_transactions_adding_the_same_new_note_do_not_wait_on_each_other(engine: Engine) -> None:
    """Two account checks (or payment runs) side by side, each in a long transaction, both saying a
    note never said before: the second neither waits for the first to end nor hits the lock
    timeout, and the note is kept once, at once, whatever the first then does."""
    note = ("system:account-check", f"account check: a reason said for the first time {uuid.uuid4()}")
    with Session(engine) as first, Session(engine) as second:
        first.execute(text("SELECT 1"))  # both transactions begun and held open
        second.execute(text("SELECT 1"))
        [id_first] = record_event_notes(first, [note])
        second.execute(text("SET LOCAL lock_timeout = '200ms'"))  # a wait would fail at once
        [id_second] = record_event_notes(second, [note])
        assert id_first == id_second == event_note_id(*note)
        first.rollback()  # the caller gives up: the note, said by the second too, stays
        second.commit()
    with engine.connect() as connection:
        kept = connection.execute(
            text("SELECT actor, reason FROM payment_event_notes WHERE id = :id"), {"id": id_first}
        ).all()
    assert [tuple(k) for k in kept] == [note]


@pytest.fixture
def before_notes(worker_id: str) -> Iterator[Engine]:
    engine = create_engine(create_database(f"saldo_test_notes_{worker_id}"))
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, BEFORE_NOTES)
    yield engine
    engine.dispose()


def migrate(engine: Engine, to: str, *, down: bool = False) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, to)


def test_a_populated_history_reads_the_same_after_the_migration_and_back(before_notes: Engine) -> None:
    written = [(pid, actor, reason) for pid in (1, 2, 3) for actor, reason in NOTES]
    with before_notes.begin() as connection:
        for pid, actor, reason in written:
            connection.execute(
                text(
                    "INSERT INTO payment_events (payment_id, from_status, to_status, actor, reason) "
                    "VALUES (:p, 'registered', 'held', :actor, :reason)"
                ),
                {"p": pid, "actor": actor, "reason": reason},
            )

    migrate(before_notes, "head")
    with before_notes.connect() as connection:
        read = connection.execute(
            text(
                "SELECT e.payment_id, n.actor, n.reason FROM payment_events e "
                "JOIN payment_event_notes n ON n.id = e.note_id ORDER BY e.id"
            )
        ).all()
        notes = connection.execute(text("SELECT count(*) FROM payment_event_notes")).scalar_one()
        columns = connection.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = 'payment_events'")
        ).scalars()
        assert {"actor", "reason"}.isdisjoint(columns)  # the texts are gone from every transition
    assert [tuple(r) for r in read] == written
    assert notes == len(NOTES)  # each said once, though each was written three times

    migrate(before_notes, BEFORE_NOTES, down=True)
    with before_notes.connect() as connection:
        back = connection.execute(text("SELECT payment_id, actor, reason FROM payment_events ORDER BY id")).all()
    assert [tuple(r) for r in back] == written


def test_a_history_is_read_in_order_through_its_key_before_and_after_the_keys_migration(session: Session) -> None:
    """The history's primary key, (payment, id), is the index a payment's history is read by: in the
    order written, without a sort. Its migration, down and up again in the test's transaction,
    leaves every history reading the same."""
    notes = record_event_notes(session, list(NOTES))
    for step, to in enumerate(("verified", "sent", "settled")):
        for payment_id in (7, 5, 9):  # interleaved, as a day's runs write them
            session.execute(
                text(
                    "INSERT INTO payment_events (payment_id, from_status, to_status, note_id) "
                    "VALUES (:p, 'registered', :to, :note)"
                ),
                {"p": payment_id, "to": to, "note": notes[(step + payment_id) % len(notes)]},
            )
    repository = PaymentRepository(session)

    def histories() -> list[list[tuple[object, ...]]]:
        return [[tuple(r[1:4]) for r in repository.events(p)] for p in (5, 7, 9)]

    def plan() -> str:
        return index_plan(session, "SELECT to_status FROM payment_events WHERE payment_id = 5 ORDER BY id")

    read = histories()
    assert [to for to, _, _ in read[0]] == ["verified", "sent", "settled"]
    assert read[0][0][1:] == NOTES[(0 + 5) % len(NOTES)]
    at_head = plan()
    assert "pk_payment_events" in at_head
    assert "Sort" not in at_head
    migration = load_migration("*_payment_history_keyed_by_payment.py")
    with Operations.context(MigrationContext.configure(session.connection())):
        migration.downgrade()
        assert "ix_payment_events_payment_id" in plan()
        assert histories() == read
        migration.upgrade()
    assert plan() == at_head
    assert histories() == read
