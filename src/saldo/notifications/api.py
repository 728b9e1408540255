"""Notifications: an auditor notifies the paying payers of a case; a payer reads its own
notifications and records its outcome on each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from saldo.analysis.service.catalogue import load_catalogue
from saldo.http.deps import MAX_ID, DbSession, PathId
from saldo.kit.problem import Problem, problem_responses
from saldo.notifications import service
from saldo.notifications.models import Notification
from saldo.notifications.schemas import NotificationOut, NotifyIn, OutcomeIn, OutcomeOut
from saldo.payers.http import CurrentPayer
from saldo.staff.http import CurrentStaff

UNAUTHENTICATED = problem_responses(401, 404, 409, 422)
router = APIRouter(prefix="/api/v1", tags=["payer: notifications"], responses=UNAUTHENTICATED)
staff_router = APIRouter(
    prefix="/api/v1/staff",
    tags=["staff: cases"],
    responses=problem_responses(401, 403, 404, 409, 422),
)


def notification_out(session: Session, notification: Notification) -> NotificationOut:
    rules = {r.id: r for r in load_catalogue()}
    rule = rules.get(notification.rule_id)
    return NotificationOut(
        id=notification.id,
        case_id=notification.case_id,
        created_at=notification.created_at,
        content=service.notification_body(notification, rule_title=(rule.title_sv, rule.title_en) if rule else None),
        outcomes=[OutcomeOut.model_validate(o) for o in service.outcomes_of(session, notification.id)],
    )


@router.get("/notifications", response_model=list[NotificationOut], summary="The payer's notifications")
def list_notifications(
    payer: CurrentPayer,
    session: DbSession,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[NotificationOut]:
    """Notifications to the calling payer, oldest first, with the outcomes it has recorded."""
    found = service.payer_notifications(session, payer.payer_id, after_id=after_id, limit=limit)
    return [notification_out(session, n) for n in found]


@router.get(
    "/notifications/{notification_id}",
    response_model=NotificationOut,
    summary="One notification",
    responses={404: {"model": Problem, "description": "No such notification for this payer"}},
)
def get_notification(notification_id: PathId, payer: CurrentPayer, session: DbSession) -> NotificationOut:
    return notification_out(session, service.payer_notification(session, payer.payer_id, notification_id))


@router.post(
    "/notifications/{notification_id}/outcomes",
    response_model=OutcomeOut,
    status_code=201,
    summary="Record the payer's outcome",
    responses={
        404: {"model": Problem, "description": "No such notification for this payer"},
        422: {"model": Problem, "description": "The outcome does not hold together"},
    },
)
def post_outcome(notification_id: PathId, body: OutcomeIn, payer: CurrentPayer, session: DbSession) -> OutcomeOut:
    """What the payer decided: no error, corrected going forward, a recovery claim (with the amount),
    payment stopped, or reported to the police. A later outcome supersedes an earlier one; both are
    kept. Re-sending the outcome in force changes nothing."""
    outcome = service.record_outcome(
        session,
        payer_id=payer.payer_id,
        recorded_by=f"payer:{payer.payer_id}/token:{payer.token_id}",
        notification_id=notification_id,
        kind=body.kind,
        amount_minor=body.amount_minor,
        note=body.note,
        decided_on=body.decided_on,
    )
    session.commit()
    return OutcomeOut.model_validate(outcome)


@staff_router.post(
    "/cases/{case_id}/notifications",
    response_model=list[NotificationOut],
    status_code=201,
    summary="Notify the paying payers",
)
def notify(case_id: PathId, body: NotifyIn, staff: CurrentStaff, session: DbSession) -> list[NotificationOut]:
    """Notify each payer whose payments the case is about, of its own payments: what was found, the
    evidence, the rule and its reason. Delivered through the payer's feed and webhook. Auditor."""
    notifications = service.notify_payers(session, staff, case_id, summary=body.summary)
    session.commit()
    return [notification_out(session, n) for n in notifications]
