"""POST /api/v1/decisions: a payer sends the decisions behind its payments as a CSV file."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saldo.decisions.models import Decision
from tests.factories import VALID_PNR, make_payer, make_token

HEADER = (
    "decision_reference,payee_scheme,payee_id,benefit,period_start,period_end,amount_minor,currency,"
    "household_size,declared_income_minor\n"
)
GOOD = f"EKB-1,se_personnummer,{VALID_PNR},EKB,2026-03-01,2026-03-31,800000,SEK,2,120000\n"


def post(client: TestClient, token: str, body: str) -> tuple[int, dict[str, object]]:
    response = client.post(
        "/api/v1/decisions",
        content=body.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )
    return response.status_code, response.json()


class TestSendDecisions:
    def test_decisions_are_stored_for_the_calling_payer_and_a_resend_changes_nothing(
        self, client: TestClient, session: Session
    ) -> None:
        payer = make_payer(session, benefits=("EKB",))
        token = make_token(session, payer)
        session.commit()
        assert post(client, token, HEADER + GOOD) == (200, {"records": 1, "new": 1, "amended": 0, "unchanged": 0})
        assert post(client, token, HEADER + GOOD) == (200, {"records": 1, "new": 0, "amended": 0, "unchanged": 1})
        stored = session.scalar(select(func.count()).select_from(Decision).where(Decision.payer_id == payer.id))
        assert stored == 1

    def test_a_bad_file_is_rejected_whole_with_every_fault(self, client: TestClient, session: Session) -> None:
        payer = make_payer(session, benefits=("EKB",))
        token = make_token(session, payer)
        session.commit()
        bad = GOOD.replace("EKB-1", "EKB-2").replace("800000", "-5").replace(",EKB,", ",BB,")
        status, body = post(client, token, HEADER + GOOD + bad)
        assert status == 422
        assert body["error"] == "file_rejected"
        faults = {(e["line"], e["field"]) for e in body["errors"]}  # type: ignore[attr-defined]
        assert faults == {(3, "amount_minor"), (3, "benefit")}
        assert session.scalar(select(func.count()).select_from(Decision).where(Decision.payer_id == payer.id)) == 0

    def test_an_excluded_category_column_is_refused(self, client: TestClient, session: Session) -> None:
        payer = make_payer(session, benefits=("EKB",))
        token = make_token(session, payer)
        session.commit()
        status, body = post(client, token, HEADER.replace("\n", ",diagnosis\n") + GOOD.replace("\n", ",F32\n"))
        assert status == 422
        assert body["errors"][0]["field"] == "diagnosis"  # type: ignore[index]

    def test_without_a_token_nothing_is_read(self, client: TestClient) -> None:
        assert client.post("/api/v1/decisions", content=(HEADER + GOOD).encode()).status_code == 401
