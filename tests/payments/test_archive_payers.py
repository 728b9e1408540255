"""A payer and its archived payments (decision 0035): found by id and by reference as before, its
reference still its own — sent again alone or in a file it is the same payment or a conflict, never a
second one — and another payer's archived payments are not found."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from saldo.analysis.repository import AnalysisRepository
from saldo.cases.repository import CaseRepository
from saldo.kit.clock import today
from saldo.oversight.repository import OversightRepository
from saldo.payers.models import ConnectionModel
from saldo.payers.schemas import PayerPrincipal
from saldo.payments.errors import ReferenceConflictError
from saldo.payments.models import Payment, PaymentStatus
from saldo.payments.repository import PaymentRepository
from saldo.payments.schemas import PaymentIn
from saldo.payments.service.archive import archive_month
from saldo.payments.service.policy import RegistrationPolicy
from saldo.payments.service.register import register_payment
from saldo.settings import Settings
from tests.factories import OTHER_PNR, VALID_PNR, auth, csv_file, make_payer, make_token, payment_body

CSV = {"Content-Type": "text/csv"}


def _due_long_ago() -> dt.date:
    """A due date whose month may be archived today: four months back."""
    return today() - dt.timedelta(days=125)


@pytest.fixture
def paid(client: TestClient, token: str, session: Session) -> list[dict[str, Any]]:
    """Three of the payer's payments due four months ago, settled; the JSON the payer got for each."""
    due = _due_long_ago()
    start = due.replace(day=1)
    bodies = [
        payment_body(
            due_date=due.isoformat(),
            period_start=start.isoformat(),
            period_end=(start + dt.timedelta(days=27)).isoformat(),
            payee_id=payee,
        )
        for payee in (VALID_PNR, OTHER_PNR, VALID_PNR)
    ]
    ids = []
    for body in bodies:
        response = client.post("/api/v1/payments", json=body, headers=auth(token))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    session.execute(text("UPDATE payments SET status = 'settled' WHERE id = ANY(:ids)"), {"ids": ids})
    session.commit()
    return [{"body": body, "id": id_} for body, id_ in zip(bodies, ids, strict=True)]


def _archive(session: Session) -> None:
    assert archive_month(session, _due_long_ago(), today=today()) == 3
    session.commit()


def _count(session: Session) -> int:
    return int(session.scalar(text("SELECT count(*) FROM payments_by_payee")) or 0)


def test_a_payer_finds_its_archived_payment_by_id_and_by_reference_as_before(
    client: TestClient, token: str, session: Session, paid: list[dict[str, Any]]
) -> None:
    headers = auth(token)
    reads = [f"/api/v1/payments/{p['id']}" for p in paid]
    reads += [f"/api/v1/payments/by-reference/{p['body']['reference']}" for p in paid]
    reads += [f"/api/v1/payments/{p['id']}/history" for p in paid]
    before = [client.get(path, headers=headers) for path in reads]
    assert all(r.status_code == 200 for r in before), [r.text for r in before]
    _archive(session)
    assert session.scalar(text("SELECT count(*) FROM payments WHERE id = :id"), {"id": paid[0]["id"]}) == 0
    after = [client.get(path, headers=headers) for path in reads]
    assert [(r.status_code, r.json()) for r in after] == [(200, r.json()) for r in before]


def test_another_payer_finds_none_of_them(client: TestClient, session: Session, paid: list[dict[str, Any]]) -> None:
    other = make_token(session, make_payer(session, name="Annanstad kommun"))
    session.commit()
    _archive(session)
    for path in (
        f"/api/v1/payments/{paid[0]['id']}",
        f"/api/v1/payments/by-reference/{paid[0]['body']['reference']}",
        f"/api/v1/payments/{paid[0]['id']}/history",
    ):
        response = client.get(path, headers=auth(other))
        assert response.status_code == 404, path


def test_an_archived_reference_sent_again_is_the_same_payment_or_a_conflict(
    client: TestClient, token: str, session: Session, paid: list[dict[str, Any]]
) -> None:
    first = client.get(f"/api/v1/payments/{paid[0]['id']}", headers=auth(token)).json()
    _archive(session)
    stored = _count(session)
    again = client.post("/api/v1/payments", json=paid[0]["body"], headers=auth(token))
    assert again.status_code == 200, again.text  # already registered: the payment it was
    assert again.json() == first
    changed = client.post("/api/v1/payments", json={**paid[0]["body"], "amount_minor": 99}, headers=auth(token))
    assert changed.status_code == 409
    assert changed.json()["extra"] == {"payment_id": paid[0]["id"], "fields": ["amount_minor"]}
    assert _count(session) == stored


def test_a_file_with_an_archived_reference_registers_only_what_is_new_or_reports_the_conflict(
    client: TestClient, token: str, session: Session, paid: list[dict[str, Any]]
) -> None:
    _archive(session)
    stored = _count(session)
    new = payment_body()
    headers = {**auth(token), **CSV}
    resent = client.post("/api/v1/payment-batches", content=csv_file([paid[1]["body"], new]), headers=headers)
    assert resent.status_code == 201, resent.text
    assert (resent.json()["registered"], resent.json()["already_registered"]) == (1, 1)
    assert _count(session) == stored + 1
    changed = {**paid[2]["body"], "amount_minor": 1}
    response = client.post("/api/v1/payment-batches", content=csv_file([payment_body(), changed]), headers=headers)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["line"], error["field"]) == (3, "reference")
    assert f"already used by payment {paid[2]['id']}" in error["reason"]
    as_json = client.post(
        "/api/v1/payment-batches",
        content="\n".join(json.dumps(b) for b in (paid[0]["body"], payment_body())),
        headers={**auth(token), "Content-Type": "application/x-ndjson"},
    )
    assert (as_json.json()["registered"], as_json.json()["already_registered"]) == (1, 1)
    assert _count(session) == stored + 2


@pytest.mark.parametrize(
    "insert",
    [
        pytest.param("INSERT INTO payments SELECT * FROM payments WHERE false", id="nothing-is-fine"),
        pytest.param(
            "INSERT INTO payments (payer_id, reference, payee_id, payee_name, benefit_id, amount_minor, currency, "
            "decision_reference, period_start, period_end, due_date, account_scheme, account_number, status) "
            "SELECT payer_id, reference, payee_id, payee_name, benefit_id, amount_minor, currency, decision_reference, "
            "period_start, period_end, due_date, account_scheme, account_number, 'registered' "
            "FROM archived_payments WHERE id = :id",
            id="the-archived-one-again",
        ),
    ],
)
def test_the_table_takes_no_payment_with_an_archived_reference_whatever_the_path(
    session: Session, paid: list[dict[str, Any]], insert: str
) -> None:
    _archive(session)
    with session.begin_nested() as attempt:
        if "WHERE false" in insert:
            session.execute(text(insert))
            return
        with pytest.raises(DBAPIError, match=r"uq_payments_payer_id_reference") as refused:
            session.execute(text(insert), {"id": paid[0]["id"]})
        assert "is archived" in str(refused.value)
        attempt.rollback()


def _settled_long_ago(
    engine: Engine, settings: Settings
) -> tuple[RegistrationPolicy, PayerPrincipal, dict[str, Any], Payment]:
    """A new payer's payment due four months ago, registered and settled (with its transition), committed:
    the registration policy, the payer, the body it sent and the payment."""
    policy = RegistrationPolicy.from_settings(settings)
    due = _due_long_ago()
    body = payment_body(due_date=due.isoformat(), period_start=due.replace(day=1).isoformat())
    with Session(engine) as session:
        payer = make_payer(session)
        principal = PayerPrincipal(payer.id, payer.organisation_number, payer.name, payer.connection_model, 0)
        payment, created = register_payment(
            session, payer=principal, payment=PaymentIn.model_validate(body), policy=policy, today=today()
        )
        assert created
        PaymentRepository(session).move(payment, PaymentStatus.SETTLED, actor="bank:TEST", reason=None)
        session.commit()
    return policy, principal, body, payment


@pytest.mark.parametrize("amount", [125000, 99], ids=["the-same-payment", "other-content"])
def test_a_reference_sent_again_while_the_archive_moves_it_is_still_the_one_payment(
    live_engine: Engine, settings: Settings, amount: int
) -> None:
    """The race decision 0035 names: the archive has moved the reference out of the table but not yet
    committed, and the payer sends it again. The insert waits on the row the archive is deleting,
    goes in when the archive commits, and the archive's trigger refuses it: the answer is the
    archived payment, or a conflict, and the payment is never registered twice."""
    policy, principal, body, first = _settled_long_ago(live_engine, settings)
    due = _due_long_ago()
    resent = PaymentIn.model_validate({**body, "amount_minor": amount})
    outcome: list[object] = []

    def send_again() -> None:
        with Session(live_engine) as session:
            try:
                outcome.append(register_payment(session, payer=principal, payment=resent, policy=policy, today=today()))
                session.commit()
            except ReferenceConflictError as conflict:
                outcome.append(conflict)

    with Session(live_engine) as archiving:
        assert archive_month(archiving, due, today=today()) == 1  # moved, not yet committed
        sender = threading.Thread(target=send_again)
        sender.start()
        _wait_until_blocked(live_engine)
        archiving.commit()
    sender.join(timeout=30)
    assert not sender.is_alive()
    [answer] = outcome
    if amount == 125000:
        assert isinstance(answer, tuple)
        payment, created = answer
        assert (payment.id, payment.reference, payment.status, created) == (first.id, first.reference, "settled", False)
    else:
        assert isinstance(answer, ReferenceConflictError)
        assert (answer.payment_id, answer.fields) == (first.id, ["amount_minor"])
    with live_engine.connect() as connection:
        counts = connection.execute(
            text("SELECT (SELECT count(*) FROM payments), (SELECT count(*) FROM archived_payment_keys)")
        ).one()
    assert tuple(counts) == (0, 1)


def _wait_until_blocked(engine: Engine) -> None:
    """Until another connection waits on a lock: the resent payment's insert, on the archive's rows."""
    _wait_until_waiting(engine, "INSERT INTO payments%")


def test_a_report_withdrawn_after_it_was_archived_comes_back_cancelled(client: TestClient, session: Session) -> None:
    reporter = make_token(
        session, make_payer(session, name="Lunds kommun", connection_model=ConnectionModel.ANALYSIS_ONLY)
    )
    session.commit()
    due = _due_long_ago()
    body = payment_body(due_date=due.isoformat(), period_start=due.replace(day=1).isoformat())
    reported = client.post("/api/v1/payments", json=body, headers=auth(reporter)).json()
    assert reported["status"] == "reported"
    assert archive_month(session, due, today=today()) == 1
    session.commit()
    cancelled = client.post(
        f"/api/v1/payments/{reported['id']}/cancel", json={"reason": "reported twice"}, headers=auth(reporter)
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    where = session.execute(
        text(
            "SELECT (SELECT status FROM payments WHERE id = :id), "
            "(SELECT count(*) FROM archived_payment_keys WHERE id = :id), "
            "(SELECT count(*) FROM archived_payment_years)"
        ),
        {"id": reported["id"]},
    ).one()
    assert tuple(where) == ("cancelled", 0, 0)  # back in the table, its emptied year row gone
    history = client.get(f"/api/v1/payments/{reported['id']}/history", headers=auth(reporter)).json()
    assert [h["to_status"] for h in history] == ["reported", "cancelled"]


def test_a_change_refused_to_an_archived_payment_leaves_it_archived(
    client: TestClient, token: str, session: Session, paid: list[dict[str, Any]]
) -> None:
    _archive(session)
    shown = client.get(f"/api/v1/payments/{paid[0]['id']}", headers=auth(token)).json()
    for action in ("hold", "cancel"):
        refused = client.post(f"/api/v1/payments/{paid[0]['id']}/{action}", json={"reason": "x"}, headers=auth(token))
        assert refused.status_code == 409, refused.text
        assert "is settled" in refused.json()["detail"]
    other = make_token(session, make_payer(session, name="Annanstad kommun"))
    session.commit()
    assert (
        client.post(f"/api/v1/payments/{paid[0]['id']}/hold", json={"reason": "x"}, headers=auth(other)).status_code
        == 404
    )
    assert session.scalar(text("SELECT count(*) FROM archived_payment_keys")) == 3
    assert client.get(f"/api/v1/payments/{paid[0]['id']}", headers=auth(token)).json() == shown


def test_the_authority_s_reads_by_id_and_reference_find_archived_payments_as_before(
    session: Session, paid: list[dict[str, Any]]
) -> None:
    """Re-identifying a finding's payments (cases), the parties of a notification (oversight) and a
    finding's payment by its payer's reference (the analysis) read the archive too."""
    ids = [p["id"] for p in paid]
    org = session.scalar(text("SELECT organisation_number FROM payers p JOIN payments x ON x.payer_id = p.id LIMIT 1"))
    references = [(str(org), str(p["body"]["reference"])) for p in paid]

    def reads() -> tuple[object, ...]:
        return (
            CaseRepository(session).payees_of_payments(ids),
            [OversightRepository(session).payment_parties(i) for i in ids],
            AnalysisRepository(session).payment_ids_of(references),
        )

    before = reads()
    assert len(before[0]) == 3  # type: ignore[arg-type]
    _archive(session)
    assert reads() == before


def test_a_transition_committed_while_the_archive_waits_moves_with_its_payment(
    live_engine: Engine, settings: Settings
) -> None:
    """Decision 0040: the archive locks the month's payments before it reads their histories, so a
    transition made while it waits (a bank's return, committed once the archive holds on) is archived
    with its payment, not left behind in payment_events."""
    *_, payment = _settled_long_ago(live_engine, settings)
    due = _due_long_ago()
    with Session(live_engine) as session:
        before = [tuple(row) for row in PaymentRepository(session).events(payment.id)]
    moved: list[int] = []

    def archive() -> None:
        with Session(live_engine) as session:
            moved.append(archive_month(session, due, today=today()))
            session.commit()

    with Session(live_engine) as returning:  # the bank's late return, holding the payment
        repository = PaymentRepository(returning)
        locked = repository.lock(payment.id)
        assert locked is not None
        repository.move(locked, PaymentStatus.RETURNED, actor="bank:TEST", reason="account closed")
        archiver = threading.Thread(target=archive)
        archiver.start()
        _wait_until_waiting(live_engine, "%FOR UPDATE%")
        returning.commit()
    archiver.join(timeout=30)
    assert not archiver.is_alive()
    assert moved == [1]
    with Session(live_engine) as session:
        history = [tuple(row) for row in PaymentRepository(session).events(payment.id)]
        left = session.execute(
            text(
                "SELECT (SELECT count(*) FROM payments WHERE id = :id), "
                "(SELECT count(*) FROM payment_events WHERE payment_id = :id), "
                "(SELECT rare_status FROM archived_payment_keys WHERE id = :id)"
            ),
            {"id": payment.id},
        ).one()
    assert history[: len(before)] == before
    assert [(row[1], row[3]) for row in history[len(before) :]] == [("returned", "account closed")]
    assert tuple(left) == (0, 0, "returned")


def _wait_until_waiting(engine: Engine, query: str) -> None:
    """Until another connection's statement like ``query`` waits on a lock."""
    with engine.connect() as connection:
        for _ in range(200):
            waiting = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE :q"
                ),
                {"q": query},
            )
            if waiting:
                return
            connection.rollback()  # a transaction sees one snapshot of pg_stat_activity
            time.sleep(0.05)
    raise AssertionError(f"no statement like {query} waited on a lock")
