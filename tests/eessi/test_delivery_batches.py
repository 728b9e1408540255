"""The outbox delivered a batch at a time, as the worker does it: due SEDs claimed (each the first
unsent one of its case) and built in one transaction, then posted several side by side and their
outcomes recorded in another. Order within a case holds, a partner that cannot be reached is tried
once a round, and two deliveries never take the same SED."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from saldo.eessi import repository, service
from saldo.eessi.models import CaseStatus, CrossBorderDocument, DocumentStatus
from saldo.eessi.service import Node
from saldo.kit.clock import utcnow
from tests.eessi.conftest import SE
from tests.eessi.test_exchange import open_h_buc_01, to


def outcomes(deliveries: list[service.Delivery]) -> list[str]:
    return [d.outcome for d in deliveries]


def test_a_batch_is_built_then_posted_side_by_side_and_each_case_keeps_its_order(
    session: Session, se_node: Node, fi_node: Node, fi_sessions: sessionmaker[Session]
) -> None:
    cases = [open_h_buc_01(session, se_node) for _ in range(3)]
    service.send_sed(session, se_node, cases[0], "X001", {"reason": "asked elsewhere"}, by="anna")
    questions = [service.documents(session, c)[0] for c in cases]

    # Claimed and built: the first unsent SED of each case, not the X001 behind its case's H001.
    ready, built = service.claim_due(session, se_node, limit=10)
    assert (ready, outcomes(built)) == ([q.id for q in questions], ["built"] * 3)
    assert all(q.as4_message for q in questions)
    session.flush()  # as the worker commits the batch before it sends anything

    handed, lock = to(fi_node, fi_sessions), threading.Lock()
    active, peak = [0], [0]

    def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)  # long enough for the others to start meanwhile
        try:
            return handed(url, headers, body)
        finally:
            with lock:
                active[0] -= 1

    assert outcomes(service.send_claimed(session, se_node, ready, post, at_once=4)) == ["delivered"] * 3
    assert peak[0] > 1  # posted side by side
    assert all(q.status is DocumentStatus.DELIVERED and q.receipt for q in questions)
    session.flush()

    # The X001 is due now that its case's H001 is delivered, and closes the case in FI.
    ready, built = service.claim_due(session, se_node, limit=10)
    assert outcomes(built) == ["built"]
    assert outcomes(service.send_claimed(session, se_node, ready, handed)) == ["delivered"]
    session.flush()
    assert service.claim_due(session, se_node) == ([], [])
    with fi_sessions() as fi:
        assert service.get_case(fi, cases[0].case_id).status is CaseStatus.CLOSED
        assert [service.get_case(fi, c.case_id).status for c in cases[1:]] == [CaseStatus.OPEN] * 2


def test_a_partner_that_cannot_be_reached_is_tried_once_a_round(session: Session, se_node: Node) -> None:
    for _ in range(3):
        open_h_buc_01(session, se_node)
    tried: list[str] = []

    def down(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        tried.append(url)
        raise OSError("connection refused")

    ready, _ = service.claim_due(session, se_node)
    session.flush()
    first, *rest = service.send_claimed(session, se_node, ready, down, at_once=1)
    assert len(tried) == 1
    assert (first.outcome, first.detail) == ("retry", "FI:KELA01 could not be reached: connection refused")
    assert [(d.outcome, d.detail) for d in rest] == [
        ("retry", "FI:KELA01 could not be reached a moment ago; not tried in this round")
    ] * 2
    session.flush()
    waiting = session.scalars(select(CrossBorderDocument)).all()
    assert sorted(d.attempts for d in waiting) == [0, 0, 1]  # only the one tried counts an attempt
    assert all(d.status is DocumentStatus.QUEUED and d.next_attempt_at > utcnow() for d in waiting)
    assert service.claim_due(session, se_node) == ([], [])  # none due again before its backoff


def test_two_deliveries_never_take_the_same_sed(fi_node: Node, fi_sessions: sessionmaker[Session]) -> None:
    with fi_sessions() as fi:
        for number in range(2):
            service.open_case(
                fi, fi_node, buc_type="H_BUC_07", partner=SE, content={"dateDeath": "2026-10-02", "countryDeath": "FI"},
                person=None, purpose=f"death {number}", by="kela",
            )  # fmt: skip
        fi.commit()
    with fi_sessions() as one, fi_sessions() as other:
        [first], _ = service.claim_due(one, fi_node, limit=1)
        [second], _ = service.claim_due(other, fi_node, limit=10)  # the first is locked: skipped
        assert first != second
        one.commit()
        other.rollback()
    with fi_sessions() as one, fi_sessions() as other:
        assert [d.id for d in repository.queued_locked(one, [first, second])] == [first, second]
        never: Any = None  # no post may happen: every SED is held by the other delivery
        assert service.send_claimed(other, fi_node, [first, second], never) == []
