"""What someone at the authority is expected to do next: on the workbench, the work that waits for
them by their roles; on a case, its next step by its state. Codes here; the pages say them in words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from saldo.analysis.repository import AnalysisRepository
from saldo.cases.models import Case, CaseStatus
from saldo.eessi import service as eessi
from saldo.inforequests.models import InformationRequest, RequestStatus
from saldo.notifications.models import Notification
from saldo.oversight.repository import OversightRepository
from saldo.staff.models import Role
from saldo.staff.schemas import StaffPrincipal

CROSS_BORDER = (*eessi.WORKING, Role.SUPERVISOR)  # who reads cross-border cases


@dataclass(frozen=True, slots=True)
class Waiting:
    """A kind of work that waits, how much, and where it is done."""

    code: str  # to_triage, unassigned, to_work, answered, overdue, to_close, cross_border_to_confirm, …
    count: int
    href: str


def waiting_work(session: Session, staff: StaffPrincipal, *, today: dt.date) -> list[Waiting]:
    """The work that waits for this person, by the roles they have (nothing for a role they lack)."""
    run = AnalysisRepository(session).latest_run()
    counts = OversightRepository(session).work(username=staff.username, run_id=run.id if run else None, today=today)
    mine = "/staff/cases?show=mine"
    shown: list[tuple[str, str]] = []
    if staff.has(Role.ANALYST) or staff.has(Role.SUPERVISOR):
        shown.append(("to_triage", "/staff/findings"))
    if staff.has(Role.SUPERVISOR):
        shown.append(("unassigned", "/staff/cases?show=unassigned"))
    if staff.has(Role.AUDITOR) or staff.has(Role.SUPERVISOR):
        shown += [("to_work", mine), ("answered", mine), ("overdue", mine), ("to_close", mine)]
    if any(staff.has(role) for role in CROSS_BORDER):  # the exchange's alerts: whoever works its cases
        counts = {**counts, **eessi.attention(session)}
        shown += [
            ("cross_border_to_confirm", "/staff/cross-border"),
            ("cross_border_undeliverable", "/staff/cross-border"),
        ]
    return [Waiting(code, counts[code], href) for code, href in shown]


@dataclass(frozen=True, slots=True)
class NextStep:
    code: str  # take, investigate, wait_answer, answer_overdue, read_answer, wait_outcomes, close
    deadline: dt.date | None = None
    done: int = 0
    total: int = 0


def case_next_step(
    session: Session,
    case: Case,
    requests: Sequence[InformationRequest],
    notifications: Sequence[Notification],
    *,
    today: dt.date,
) -> NextStep | None:
    """What the case needs next, or None when it is closed."""
    if case.status is CaseStatus.CLOSED:
        return None
    if case.assigned_to is None:
        return NextStep("take")
    if notifications:
        decided = OversightRepository(session).decided_notifications(case.id)
        code = "close" if decided == len(notifications) else "wait_outcomes"
        return NextStep(code, done=decided, total=len(notifications))
    if any(r.status is RequestStatus.ANSWERED for r in requests):
        return NextStep("read_answer")
    waiting = [r.deadline for r in requests if r.status is RequestStatus.OPEN]
    if waiting:
        first = min(waiting)
        return NextStep("answer_overdue" if first < today else "wait_answer", deadline=first)
    return NextStep("investigate")
