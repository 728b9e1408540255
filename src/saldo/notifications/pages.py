"""The payer's notifications in its pages: what the authority found in its payments, and the
outcome the payer decided (appended to the history; the newest is in force)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from saldo.http.deps import DbSession, PathId
from saldo.http.rendering import render
from saldo.identity.http import CurrentPayerSession, check_csrf
from saldo.kit.clock import today
from saldo.notifications.errors import NotificationNotFoundError, OutcomeRejectedError
from saldo.notifications.models import OutcomeKind
from saldo.notifications.service import outcomes_of, payer_notification, payer_notifications, record_outcome
from saldo.payments.service.actors import name_actors

router = APIRouter(include_in_schema=False)


@router.get("/payer/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, session: DbSession, principal: CurrentPayerSession) -> HTMLResponse:
    payer = principal.as_payer()
    found = payer_notifications(session, payer.payer_id, limit=200)
    return render(request, "payer/notifications.html", {"notifications": found}, principal=principal)


@router.get("/payer/notifications/{notification_id}", response_class=HTMLResponse)
def notification_page(
    request: Request, session: DbSession, principal: CurrentPayerSession, notification_id: PathId
) -> HTMLResponse:
    return _notification(request, session, principal, notification_id, error=None, status=200)


@router.post("/payer/notifications/{notification_id}/outcome", response_class=HTMLResponse)
def outcome(
    request: Request,
    session: DbSession,
    principal: CurrentPayerSession,
    notification_id: PathId,
    kind: Annotated[str, Form(max_length=32)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Record the payer's decision on a notification: no error, corrected, recovery claim (with the
    amount), payment stopped, or reported to the police."""
    check_csrf(principal, csrf)
    payer = principal.as_payer()
    try:
        chosen = OutcomeKind(kind)
        amount_minor = _minor(amount)
        record_outcome(
            session,
            payer_id=payer.payer_id,
            recorded_by=f"payer:{payer.payer_id}/user:{payer.user_id}",
            notification_id=notification_id,
            kind=chosen,
            amount_minor=amount_minor,
            note=note.strip() or None,
            decided_on=today(),
        )
    except (ValueError, OutcomeRejectedError) as exc:
        session.rollback()
        return _notification(request, session, principal, notification_id, error=str(exc), status=422)
    session.commit()
    return RedirectResponse(f"/payer/notifications/{notification_id}", status_code=303)


def _minor(amount: str) -> int | None:
    """An amount in kronor as a person types it ("1 234,50") in öre; empty is none."""
    cleaned = amount.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not cleaned:
        return None
    whole, _, fraction = cleaned.partition(".")
    if not whole.isdigit() or (fraction and (not fraction.isdigit() or len(fraction) > 2)):
        raise ValueError(f"amount: {amount!r} is not an amount in kronor, e.g. 1234,50")
    return int(whole) * 100 + int(fraction.ljust(2, "0") or 0)


def _notification(
    request: Request,
    session: DbSession,
    principal: CurrentPayerSession,
    notification_id: int,
    *,
    error: str | None,
    status: int,
) -> HTMLResponse:
    payer = principal.as_payer()
    try:
        notification = payer_notification(session, payer.payer_id, notification_id)
    except NotificationNotFoundError:
        return render(request, "staff/not_found.html", {}, principal=principal, status_code=404)
    outcomes = outcomes_of(session, notification_id)
    context = {
        "n": notification,
        "outcomes": outcomes,
        "actors": name_actors(session, [o.recorded_by for o in outcomes]),
        "kinds": list(OutcomeKind),
        "error": error,
    }
    return render(request, "payer/notification.html", context, principal=principal, status_code=status)
