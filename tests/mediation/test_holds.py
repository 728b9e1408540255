"""Holds and releases: a recorded human decision with who, when and why, seen by the payer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from saldo.kit.clock import today
from saldo.mediation.jobs import JobResources, execute_run
from saldo.mediation.models import RunStatus
from saldo.mediation.service.runs import plan_payment_runs, schedule_run
from saldo.payments.errors import TransitionError
from saldo.payments.service.hold import hold_payment, release_payment, staff_actor
from saldo.payments.service.verify import check_payment_accounts
from saldo.settings import Settings
from tests.factories import auth, make_payer, make_token
from tests.mediation.conftest import RegisterPayments, RunPayments


def act(
    client: TestClient, token: str, pid: int, verb: str, reason: str = "utredning pågår"
) -> tuple[int, dict[str, object]]:
    response = client.post(f"/api/v1/payments/{pid}/{verb}", json={"reason": reason}, headers=auth(token))
    return response.status_code, response.json()


class TestHold:
    def test_a_payer_holds_and_releases_its_payment_with_reasons_in_the_history(
        self, verified: RegisterPayments, client: TestClient, token: str, session: Session
    ) -> None:
        [pid] = verified(1)
        code, body = act(client, token, pid, "hold", "misstänkt felaktigt konto")
        assert code == 200
        assert body["status"] == "held"
        hold = body["hold"]
        assert isinstance(hold, dict)
        assert hold["reason"] == "misstänkt felaktigt konto"
        assert str(hold["held_by"]).startswith("payer:")
        code, body = act(client, token, pid, "release", "kontot bekräftat")
        assert code == 200
        assert body["status"] == "registered"
        assert body["hold"] is None
        history = client.get(f"/api/v1/payments/{pid}/history", headers=auth(token)).json()
        assert [(h["to_status"], h["reason"]) for h in history[-2:]] == [
            ("held", "held: misstänkt felaktigt konto"),
            ("registered", "released: kontot bekräftat"),
        ]
        check_payment_accounts(session)  # a release goes through the account check again
        session.commit()
        assert client.get(f"/api/v1/payments/{pid}", headers=auth(token)).json()["status"] == "verified"

    def test_the_account_check_never_lifts_a_human_hold(
        self, verified: RegisterPayments, client: TestClient, token: str, session: Session
    ) -> None:
        [pid] = verified(1)
        hold_payment(session, payment_id=pid, actor=staff_actor("Eva Granskare"), reason="kontroll")
        session.commit()
        check_payment_accounts(session)
        session.commit()
        assert client.get(f"/api/v1/payments/{pid}", headers=auth(token)).json()["status"] == "held"

    def test_a_hold_by_the_authority_is_not_the_payers_to_release(
        self, verified: RegisterPayments, client: TestClient, token: str, session: Session
    ) -> None:
        [pid] = verified(1)
        hold_payment(session, payment_id=pid, actor=staff_actor("Eva Granskare"), reason="kontroll")
        session.commit()
        code, body = act(client, token, pid, "release")
        assert code == 409
        assert "payment authority" in str(body["detail"])
        lifted = release_payment(session, payment_id=pid, actor=staff_actor("Eva Granskare"), reason="klart")
        assert lifted.released_by == "staff:Eva Granskare"
        assert lifted.released_at is not None

    def test_holding_twice_or_releasing_what_is_not_held_is_refused(
        self, verified: RegisterPayments, client: TestClient, token: str
    ) -> None:
        [pid] = verified(1)
        assert act(client, token, pid, "release")[0] == 409
        assert act(client, token, pid, "hold")[0] == 200
        code, body = act(client, token, pid, "hold")
        assert code == 409
        assert "already held" in str(body["detail"])

    def test_a_sent_payment_can_no_longer_be_held(
        self, verified: RegisterPayments, run_payments: RunPayments, client: TestClient, token: str, session: Session
    ) -> None:
        [pid] = verified(1)
        run_payments()
        code, body = act(client, token, pid, "hold")
        assert code == 409
        assert "sent and can no longer be held" in str(body["detail"])

    def test_another_payers_payment_is_not_found(
        self, verified: RegisterPayments, client: TestClient, session: Session
    ) -> None:
        [pid] = verified(1)
        other = make_token(session, make_payer(session, name="Annan kommun"))
        session.commit()
        assert act(client, other, pid, "hold")[0] == 404

    def test_a_payment_held_after_the_run_was_cut_stays_out_of_its_file(
        self,
        verified: RegisterPayments,
        sessions: sessionmaker[Session],
        session: Session,
        client: TestClient,
        token: str,
        run_settings: Settings,
    ) -> None:
        ids = verified(2)
        [run] = plan_payment_runs(session, execution_date=today(), requested_by="staff:test", max_file_transactions=10)
        schedule_run(session, run.id)
        session.commit()
        assert act(client, token, ids[0], "hold")[0] == 200
        resources = JobResources(settings=run_settings, sessions=sessions, database_url="unused")
        done = execute_run(resources, run.id)
        assert done.status is RunStatus.SENT
        assert [client.get(f"/api/v1/payments/{i}", headers=auth(token)).json()["run_id"] for i in ids] == [
            None,
            run.id,
        ]
        with pytest.raises(TransitionError, match="is sent and can no longer be held"):
            hold_payment(session, payment_id=ids[1], actor=staff_actor("Eva Granskare"), reason="för sent")
