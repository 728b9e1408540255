"""A payment run whose payments were archived (decision 0035): its reconciliation counts them as
before, for the authority and for each payer; a bank's return months after settlement finds the
archived payment, brings it back and returns it; and a bank names no other bank's archived payment
back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.iso20022.camt import NotifiedEntry, NotifiedTransaction
from saldo.kit.clock import today
from saldo.mediation.service.reconcile import get_run
from saldo.payments.service.archive import archive_month
from tests.factories import auth, make_bank, make_bank_token
from tests.mediation.conftest import RegisterPayments, RunPayments
from tests.mediation.test_bank_answers import notification, post, status_of

LONG_AGO = dt.timedelta(days=125)  # a month that may be archived today


def _settled_and_archived(
    verified: RegisterPayments,
    run_payments: RunPayments,
    client: TestClient,
    session: Session,
    bank_token: str,
    tmp_path: Path,
) -> tuple[int, list[int]]:
    """Three payments paid in a run and settled by the bank's notification, then moved back four
    months (as if paid then) and archived; the run and the payments."""
    ids = verified(3)
    run = run_payments()
    paid = [NotifiedTransaction(str(p), 125000, "SEK") for p in ids]
    code, body = post(client, bank_token, notification(tmp_path, [NotifiedEntry(today(), paid)], name="paid.xml"))
    assert (code, body["applied"]) == (201, 3), body
    session.execute(
        text("UPDATE payments SET due_date = due_date - :back WHERE id = ANY(:ids)"), {"back": LONG_AGO, "ids": ids}
    )
    session.commit()
    assert archive_month(session, today() - LONG_AGO, today=today()) == 3
    session.commit()
    return run.id, ids


def _figures(session: Session, run_id: int, payer_id: int | None = None) -> dict[str, object]:
    """What a run's page shows of its payments: its reconciliation, for the run and for each payer."""
    described = get_run(session, run_id, payer_id=payer_id).model_dump(mode="json")
    return {key: described[key] for key in ("payments", "reconciliation", "by_payer")}


def test_a_run_s_reconciliation_counts_its_archived_payments_as_before(
    verified: RegisterPayments,
    run_payments: RunPayments,
    client: TestClient,
    session: Session,
    bank_token: str,
    tmp_path: Path,
) -> None:
    ids = verified(3)
    run = run_payments()
    paid = [NotifiedTransaction(str(p), 125000, "SEK") for p in ids]
    back = NotifiedTransaction(str(ids[2]), 125000, "SEK", return_reason="AC04")
    entries = [NotifiedEntry(today(), paid), NotifiedEntry(today(), [back])]
    assert post(client, bank_token, notification(tmp_path, entries))[0] == 201
    payer = int(session.scalar(text("SELECT payer_id FROM payments WHERE id = :id"), {"id": ids[0]}) or 0)
    before = (_figures(session, run.id), _figures(session, run.id, payer))
    assert before[0]
    session.execute(
        text("UPDATE payments SET due_date = due_date - :back WHERE id = ANY(:ids)"), {"back": LONG_AGO, "ids": ids}
    )
    session.commit()
    assert archive_month(session, today() - LONG_AGO, today=today()) == 3
    session.commit()
    assert session.scalar(text("SELECT count(*) FROM payments WHERE run_id = :r"), {"r": run.id}) == 0
    assert (_figures(session, run.id), _figures(session, run.id, payer)) == before


def test_a_return_months_after_settlement_brings_the_archived_payment_back_and_returns_it(
    verified: RegisterPayments,
    run_payments: RunPayments,
    client: TestClient,
    session: Session,
    token: str,
    bank_token: str,
    tmp_path: Path,
) -> None:
    run_id, (a, b, _) = _settled_and_archived(verified, run_payments, client, session, bank_token, tmp_path)
    reconciled = _figures(session, run_id)
    back = NotifiedTransaction(str(a), 125000, "SEK", return_reason="MD07")
    code, body = post(client, bank_token, notification(tmp_path, [NotifiedEntry(today(), [back])], name="late.xml"))
    assert code == 201, body
    assert (body["applied"], body["unmatched"]) == (1, 0)
    assert status_of(client, token, a) == "returned"
    history = client.get(f"/api/v1/payments/{a}/history", headers=auth(token)).json()
    assert [h["to_status"] for h in history[-2:]] == ["settled", "returned"]
    kept = session.execute(
        text("SELECT (SELECT count(*) FROM payments WHERE id = :a), (SELECT count(*) FROM archived_payment_keys)"),
        {"a": a},
    ).one()
    assert tuple(kept) == (1, 2)  # back in the table; the others stay archived
    assert status_of(client, token, b) == "settled"
    # the run counts the payment once, now as returned
    after = _figures(session, run_id)
    assert after != reconciled
    assert "returned" in str(after)


def test_another_bank_names_no_archived_payment_back(
    verified: RegisterPayments,
    run_payments: RunPayments,
    client: TestClient,
    session: Session,
    bank_token: str,
    tmp_path: Path,
) -> None:
    _run_id, (a, _, _) = _settled_and_archived(verified, run_payments, client, session, bank_token, tmp_path)
    other = make_bank_token(session, make_bank(session, bic="HANDSESS", name="Handelsbanken"))
    session.commit()
    back = NotifiedTransaction(str(a), 125000, "SEK", return_reason="MD07")
    code, body = post(client, other, notification(tmp_path, [NotifiedEntry(today(), [back])], name="other.xml"))
    assert code != 201 or body["applied"] == 0, body
    assert session.scalar(text("SELECT count(*) FROM archived_payment_keys WHERE id = :a"), {"a": a}) == 1
