"""The payment archive (decision 0035): a month's settled payments leave the table for their persons'
year rows and the payers' keys, whole, once; every reader by payee answers as before; and a payment
leaves the table no other way."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from saldo.analysis.repository import AnalysisRepository
from saldo.benefits.service import seed_catalogue
from saldo.citizens.service import person_overview
from saldo.cli.country import load_country
from saldo.db.engine import create_db_engine
from saldo.db.migrate import upgrade_database
from saldo.payments.jobs import ARCHIVE_TASK
from saldo.payments.models import PaymentStatus
from saldo.payments.repository import PaymentRepository
from saldo.payments.service.archive import archivable_from, archive_month, archive_settled, bring_back
from saldo.payments.service.query import registry_overview
from saldo.settings import Settings
from saldo.synthetic.country import generate_country
from saldo.worker import build_job_app
from tests.conftest import create_database
from tests.factories import load_migration
from tests.web_login import dev_login

pytestmark = pytest.mark.slow

AS_OF = dt.date(2026, 11, 22)
TODAY = dt.date(2026, 12, 7)  # September's payments are archivable from 1 December
YEAR = 2026


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("archive-country")
    generate_country(folder, persons=300, seed=11, as_of=AS_OF, anomaly_rate=0.02)
    return folder


@pytest.fixture
def paid(sessions: sessionmaker[Session], settings: Settings, country: Path, session: Session) -> None:
    """The country's year, with what the payment runs and banks would have made of it: payments due
    before November settled, a few returned, rejected or cancelled, one in 40 still held."""
    _pay(sessions, settings, country)


def _pay(sessions: sessionmaker[Session], settings: Settings, country: Path) -> None:
    load_country(sessions, settings, country, loaded_by="staff:test")
    with sessions() as session:
        session.execute(
            text(
                "UPDATE payments SET status = CASE WHEN status = 'reported' THEN 'reported' "
                "WHEN id % 40 = 0 THEN 'held' WHEN id % 53 = 0 THEN 'returned' WHEN id % 61 = 0 THEN 'rejected' "
                "WHEN id % 67 = 0 THEN 'cancelled' ELSE 'settled' END WHERE due_date < '2026-11-01'"
            )
        )
        session.commit()


def _counts(session: Session) -> dict[str, int]:
    return {
        name: int(session.scalar(text(sql)) or 0)
        for name, sql in {
            "table": "SELECT count(*) FROM payments",
            "keys": "SELECT count(*) FROM archived_payment_keys",
            "in_years": "SELECT count(*) FROM archived_payment_years y, unnest(y.payments) p",
            "by_payee": "SELECT count(*) FROM payments_by_payee",
            "referenced_in_years": "SELECT count(p.reference) FROM archived_payment_years y, unnest(y.payments) p",
        }.items()
    }


def _names_beside_year_rows(session: Session) -> list[tuple[int, int, list[str]]]:
    """Each year row's names, after checking that they are exactly the names its payments were paid
    under, each once and sorted: a name search reads them instead of the payments."""
    wrong = session.scalar(
        text(
            "SELECT count(*) FROM archived_payment_years y WHERE y.payee_names IS DISTINCT FROM coalesce(CAST(("
            "SELECT array_agg(DISTINCT p.payee_name ORDER BY p.payee_name) FROM unnest(y.payments) p"
            ") AS text[]), '{}')"
        )
    )
    assert wrong == 0
    rows = session.execute(text("SELECT payee_id, year, payee_names FROM archived_payment_years ORDER BY 1, 2"))
    return [(int(payee), int(year), list(names)) for payee, year, names in rows]


def _sorted(table: pa.Table) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=repr)


def _persons(session: Session) -> list[tuple[str, str]]:
    return [
        (str(s), str(i))
        for s, i in session.execute(
            text("SELECT id_scheme, identifier FROM payees WHERE kind = 'person' ORDER BY id LIMIT 60")
        )
    ]


def _readers(session: Session) -> dict[str, Any]:
    """What every reader by payee answers: the analysis snapshot's payments and identities, the
    start page's counts, and sixty persons' overviews."""
    exports = AnalysisRepository(session)
    answers: dict[str, Any] = {
        name: _sorted(exports.export(name)) for name in ("payments", "identities", "organisation_identities")
    }
    answers["registry"] = registry_overview(session)  # the start page's counts
    for scheme, identifier in _persons(session):
        answers[identifier] = person_overview(session, scheme, identifier, year=YEAR).model_dump(mode="json")
    return answers


@pytest.mark.usefixtures("paid")
def test_an_archived_month_leaves_the_table_whole_and_every_reader_by_payee_answers_the_same(
    session: Session,
) -> None:
    before, counts = _readers(session), _counts(session)
    assert counts["keys"] == 0

    moved = {month: archive_month(session, dt.date(YEAR, month, 1), today=TODAY) for month in range(1, 10)}

    after = _counts(session)
    assert all(n > 0 for n in moved.values()), moved
    assert after["keys"] == after["in_years"] == sum(moved.values())
    assert after["table"] + after["keys"] == counts["table"]
    assert after["by_payee"] == counts["by_payee"]
    assert after["referenced_in_years"] == 0  # the key holds the reference, the year row does not
    # what stayed: every payment due from October, and every one not yet out of the runs' hands
    left = session.execute(
        text(
            "SELECT count(*) FILTER (WHERE due_date < '2026-10-01' AND status NOT IN ('held')), count(*) FROM payments"
        )
    ).one()
    assert left[0] == 0
    assert session.scalar(text("SELECT count(*) FROM payments WHERE status = 'held' AND due_date < '2026-10-01'")) > 0
    # a key is the payment's own: its payer, its reference, its payee
    assert (
        session.scalar(
            text(
                "SELECT count(*) FROM archived_payment_keys k JOIN archived_payment_years y ON y.payee_id = k.payee_id "
                "CROSS JOIN LATERAL unnest(y.payments) p WHERE p.id = k.id AND p.payer_id = k.payer_id"
            )
        )
        == after["keys"]
    )
    for name, answer in _readers(session).items():
        assert answer == before[name], name
    # the names beside the year rows, as the archive wrote them month after month, and as the
    # migration that brought them writes them on a populated archive
    names = _names_beside_year_rows(session)
    assert any(len(row_names) > 0 for _, _, row_names in names)
    migration = load_migration("*_archived_payee_names.py")
    with Operations.context(MigrationContext.configure(session.connection())):
        migration.downgrade()
        migration.upgrade()
    assert _names_beside_year_rows(session) == names


@pytest.mark.usefixtures("paid")
def test_an_archived_payment_keeps_its_history_as_moments_and_gets_it_back_as_rows(session: Session) -> None:
    repository = PaymentRepository(session)
    ids = list(
        session.scalars(
            text("SELECT id FROM payments WHERE due_date < '2026-10-01' AND status = 'settled' ORDER BY id LIMIT 40")
        )
    )
    for n, payment_id in enumerate(ids):  # in one transaction, so one time: only the order tells them apart
        repository.add_event(payment_id, None, PaymentStatus.VERIFIED, actor="system:account-check", reason=None)
        repository.add_event(
            payment_id, PaymentStatus.VERIFIED, PaymentStatus.SENT, actor="system:payment-run", reason=f"file {n % 3}"
        )
        repository.add_event(payment_id, PaymentStatus.SENT, PaymentStatus.SETTLED, actor="bank:TEST", reason=None)

    def histories() -> dict[int, list[tuple[object, ...]]]:
        return {payment_id: [tuple(row) for row in repository.events(payment_id)] for payment_id in ids}

    def rows(payment_ids: list[int]) -> int:
        query = text("SELECT count(*) FROM payment_events WHERE payment_id = ANY(:ids)")
        return int(session.scalar(query, {"ids": payment_ids}) or 0)

    before = histories()
    assert all(len(history) >= 3 for history in before.values())
    assert [to for _, to, *_ in before[ids[0]]][-3:] == ["verified", "sent", "settled"]
    for month in range(1, 10):
        archive_month(session, dt.date(YEAR, month, 1), today=TODAY)

    assert rows(ids) == 0  # the histories left the table with their payments
    assert histories() == before
    # 120 transitions written here are five moments: three statuses, three files' notes for one of them
    written = session.scalar(
        text(
            "SELECT count(*) FROM payment_event_moments WHERE note_id IN (SELECT id FROM payment_event_notes "
            "WHERE actor IN ('system:account-check', 'system:payment-run', 'bank:TEST'))"
        )
    )
    assert written == 5
    # the migration on a populated archive: its downgrade writes the histories back as rows, its upgrade
    # moves them to the keys again
    migration = load_migration("*_archived_history.py")
    with Operations.context(MigrationContext.configure(session.connection())):
        migration.downgrade()
        assert rows(ids) == sum(len(history) for history in before.values())
        in_rows = text("SELECT to_status FROM payment_events WHERE payment_id = :id ORDER BY id")
        for payment_id, history in before.items():  # the reader of the head reads moments, not there now
            assert list(session.scalars(in_rows, {"id": payment_id})) == [to for _, to, *_ in history]
        migration.upgrade()
    assert rows(ids) == 0
    assert histories() == before
    # brought back for a late change: its history is rows again, in its order, and a transition follows it
    assert sorted(bring_back(session, ids[:5])) == ids[:5]
    assert rows(ids[:5]) == sum(len(before[payment_id]) for payment_id in ids[:5])
    assert histories() == before
    repository.add_event(ids[0], PaymentStatus.SETTLED, PaymentStatus.RETURNED, actor="bank:TEST", reason="late")
    assert [to for _, to, *_ in repository.events(ids[0])][-2:] == ["settled", "returned"]
    # a history leaves the table only for the archive
    with pytest.raises(DBAPIError, match="leaves the table only for the archive"), session.begin_nested():
        session.execute(text("DELETE FROM payment_events WHERE payment_id = :id"), {"id": ids[1]})


@pytest.mark.usefixtures("paid")
def test_a_month_archived_again_moves_only_what_came_since_and_merges_into_the_year_row(session: Session) -> None:
    september = dt.date(YEAR, 9, 1)
    first = archive_month(session, september, today=TODAY)
    assert first > 0
    assert archive_month(session, september, today=TODAY) == 0
    # a held payment of September is released and paid late: the next run takes it into its person's row
    late = session.execute(
        text(
            "SELECT id, payee_id FROM payments WHERE status = 'held' AND due_date >= :m AND due_date < '2026-10-01' "
            "ORDER BY id LIMIT 1"
        ),
        {"m": september},
    ).one()
    session.execute(
        text("UPDATE payments SET status = 'settled', payee_name = 'Late Latesson' WHERE id = :id"), {"id": late.id}
    )
    assert archive_month(session, september, today=TODAY) == 1
    ids = session.scalars(
        text(
            "SELECT p.id FROM archived_payment_years y, unnest(y.payments) p "
            "WHERE y.payee_id = :payee AND y.year = 2026"
        ),
        {"payee": late.payee_id},
    ).all()
    assert late.id in ids
    dates = session.scalars(
        text(
            "SELECT p.due_date FROM archived_payment_years y, unnest(y.payments) WITH ORDINALITY AS p "
            "WHERE y.payee_id = :payee AND y.year = 2026 ORDER BY ordinality"
        ),
        {"payee": late.payee_id},
    ).all()
    assert dates == sorted(dates)  # the year row stays in due-date order
    # the name it was paid under joins its row's names, and leaves them when it is brought back
    in_row = text("SELECT payee_names FROM archived_payment_years WHERE payee_id = :payee AND year = 2026")
    assert "Late Latesson" in session.scalar(in_row, {"payee": late.payee_id})
    _names_beside_year_rows(session)
    assert bring_back(session, [late.id]) == [late.id]
    assert "Late Latesson" not in (session.scalar(in_row, {"payee": late.payee_id}) or [])
    _names_beside_year_rows(session)


def test_a_month_not_settled_for_two_months_is_refused(session: Session) -> None:
    assert archivable_from(dt.date(2026, 9, 17)) == dt.date(2026, 12, 1)
    assert archivable_from(dt.date(2026, 11, 1)) == dt.date(2027, 2, 1)
    with pytest.raises(ValueError, match=r"2026-10 may be archived from 2027-01-01, not on 2026-12-07"):
        archive_month(session, dt.date(2026, 10, 1), today=TODAY)


@pytest.mark.usefixtures("paid")
@pytest.mark.parametrize(
    "prepare",
    [
        pytest.param("", id="nothing"),
        pytest.param(
            "INSERT INTO archived_payment_keys SELECT id, payee_id, payer_id, reference FROM payments WHERE id = :id",
            id="only-the-key",
        ),
        pytest.param(
            "INSERT INTO archived_payment_years SELECT payee_id, 2026, ARRAY[p], ARRAY[payee_name] FROM payments p"
            " WHERE id = :id",
            id="only-the-year-row",
        ),
    ],
)
def test_a_payment_leaves_the_table_only_for_the_archive(session: Session, prepare: str) -> None:
    payment = int(session.scalar(text("SELECT min(id) FROM payments WHERE due_date >= '2026-01-01'")) or 0)
    with session.begin_nested() as attempt:
        if prepare:
            session.execute(text(prepare), {"id": payment})
        with pytest.raises(DBAPIError, match="a payment leaves the table only for the archive"):
            session.execute(text("DELETE FROM payments WHERE id = :id"), {"id": payment})
        attempt.rollback()
    with pytest.raises(DBAPIError, match="TRUNCATE refused"), session.begin_nested():
        session.execute(text("TRUNCATE payments"))
    assert session.scalar(text("SELECT count(*) FROM payments WHERE id = :id"), {"id": payment}) == 1


@pytest.mark.usefixtures("paid")
def test_a_citizen_s_own_overview_shows_archived_payments_as_before(session: Session, web: TestClient) -> None:
    person = session.execute(
        text(
            "SELECT e.identifier FROM payees e JOIN payments p ON p.payee_id = e.id "
            "WHERE e.kind = 'person' AND e.id_scheme = 'se_personnummer' AND p.due_date < '2026-09-01' "
            "GROUP BY e.identifier ORDER BY count(*) DESC LIMIT 1"
        )
    ).scalar_one()
    dev_login(web, person)
    before = web.get("/api/v1/me/overview", params={"year": YEAR})
    page_before = web.get("/me", params={"year": YEAR, "lang": "en"})
    assert before.status_code == page_before.status_code == 200
    for month in range(1, 10):
        archive_month(session, dt.date(YEAR, month, 1), today=TODAY)
    session.commit()
    after = web.get("/api/v1/me/overview", params={"year": YEAR})
    assert after.json()["payments"] == before.json()["payments"]
    assert len(after.json()["payments"]) > 5
    assert after.json()["totals"] == before.json()["totals"]
    assert web.get("/me", params={"year": YEAR, "lang": "en"}).text == page_before.text


def test_the_worker_archives_monthly_unless_its_schedule_is_empty(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")  # the app is only built
    app = build_job_app(engine, settings)
    assert ARCHIVE_TASK in app.tasks
    [periodic] = [p for p in app.periodic_registry.periodic_tasks.values() if p.task.name == ARCHIVE_TASK]
    assert periodic.cron == "0 1 2 * *"  # before the index upkeep of the 2nd, which rebuilds what it thinned
    assert Settings(data_dir=tmp_path).index_upkeep_schedule == "0 4 2 * *"
    off = build_job_app(engine, settings.model_copy(update={"payment_archive_schedule": ""}))
    assert ARCHIVE_TASK in off.tasks
    assert not [p for p in off.periodic_registry.periodic_tasks.values() if p.task.name == ARCHIVE_TASK]


def test_a_run_over_many_months_reclaims_the_year_rows_it_wrote_anew(
    settings: Settings, country: Path, worker_id: str
) -> None:
    # A database of its own: what the run vacuums must be committed, outside the test's transaction.
    url = create_database(f"saldo_archive_reclaim_{worker_id}")
    engine = create_db_engine(settings, url=url)
    try:
        upgrade_database(engine)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        with sessions() as session:
            seed_catalogue(session)
            session.commit()
        _pay(sessions, settings, country)
        # each month writes anew the year row of every person it touches; vacuumed after each
        # month, the next month's rows take the old versions' space
        done = archive_settled(sessions, today=TODAY)
        assert [m.month.month for m in done] == list(range(1, 10))
        size = text("SELECT pg_total_relation_size('archived_payment_years')")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            left = int(connection.scalar(size) or 0)
            connection.execute(text("VACUUM FULL archived_payment_years"))
            compact = int(connection.scalar(size) or 0)
        # nine months here: three times the compact size as the run leaves it, six without the vacuum
        assert left < 4.5 * compact, (left, compact)
    finally:
        engine.dispose()
