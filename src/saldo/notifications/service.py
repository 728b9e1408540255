"""Notifications: the authority tells the payer that made a payment what it found — the evidence, the
rule and its reason in plain language — and the payer decides. The payer's outcome comes back as an
appended record; a later outcome supersedes an earlier one and both stay.

A notification and its message in the payer's feed are written in one transaction, so a payer is
told exactly what was decided to tell it, once, in order, through the API and its webhook."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from saldo.accesslog.service.purposes import NOTIFY_PAYER
from saldo.analysis.service.catalogue import load_catalogue
from saldo.cases.models import CaseEventKind, CaseStatus
from saldo.cases.repository import CaseRepository
from saldo.cases.service import (
    actor_of,
    case_event,
    case_findings,
    case_for_update,
    case_payments,
    case_persons,
    log_disclosure,
    record_status,
)
from saldo.kit import clock
from saldo.messages.models import MessageKind
from saldo.messages.service import post_message
from saldo.notifications.errors import NothingToNotifyError, NotificationNotFoundError, OutcomeRejectedError
from saldo.notifications.models import Notification, NotificationOutcome, OutcomeKind
from saldo.notifications.repository import NotificationRepository
from saldo.payers.service import payer_name
from saldo.staff.models import Role
from saldo.staff.schemas import StaffPrincipal
from saldo.staff.service import require_role


def notify_payers(
    session: Session, principal: StaffPrincipal, case_id: int, *, summary: str, channel: str = "api"
) -> list[Notification]:
    """Notify every payer whose payments the case is about, each of its own payments only."""
    require_role(principal, Role.AUDITOR)
    if not summary.strip():
        raise OutcomeRejectedError("a notification needs the auditor's summary of what was found")
    case = case_for_update(session, case_id)
    payments = case_payments(session, case_id)
    if not payments:
        raise NothingToNotifyError(f"case {case.reference} has no payment in the registry")
    findings = case_findings(session, case_id)
    subject = next((p for p in case_persons(session, case_id) if p.subject), None)
    rules = {r.id: r for r in load_catalogue()}
    rule = rules.get(case.rule_id)
    by_payer: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for payment in payments:
        by_payer[int(payment["payer_id"])].append(payment)
    notifications = []
    for payer_id, own in sorted(by_payer.items()):
        scheme, identifier = (subject.person_scheme, subject.person_id) if subject else _person_of(own[0])
        own_ids = {int(p["payment_id"]) for p in own}
        relevant = [f for f in findings if own_ids & set(f.payment_ids)] or list(findings)
        evidence = {
            "summary": summary.strip(),
            "case": case.reference,
            "findings": [{"rule": f.rule_id, "version": f.rule_version, "facts": f.facts} for f in relevant],
            "payments": [
                {
                    "reference": p["reference"],
                    "amount_minor": int(p["amount_minor"]),
                    "currency": p["currency"],
                    "period_start": p["period_start"].isoformat(),
                    "period_end": p["period_end"].isoformat(),
                    "status": str(p["status"]),
                }
                for p in own
            ],
        }
        notification = Notification(
            payer_id=payer_id,
            case_id=case.id,
            person_scheme=scheme,
            person_id=identifier,
            payment_ids=sorted(own_ids),
            rule_id=case.rule_id,
            rule_version=relevant[0].rule_version,
            reason_sv="\n".join(f.reason_sv for f in relevant),
            reason_en="\n".join(f.reason_en for f in relevant),
            evidence=evidence,
            amount_at_risk_minor=sum(f.amount_at_risk_minor for f in relevant),
            currency=case.currency,
            created_by=principal.username,
        )
        session.add(notification)
        session.flush()
        post_message(
            session,
            payer_id=payer_id,
            kind=MessageKind.NOTIFICATION,
            ref_id=notification.id,
            body=notification_body(notification, rule_title=(rule.title_sv, rule.title_en) if rule else None),
        )
        log_disclosure(
            session,
            principal,
            case_id=case.id,
            person=(scheme, identifier),
            purpose=NOTIFY_PAYER,
            channel=channel,
            details={"notification": notification.id, "payer_id": payer_id, "payer": payer_name(session, payer_id)},
        )
        notifications.append(notification)
    case_event(
        session,
        case.id,
        CaseEventKind.NOTIFIED,
        actor_of(principal),
        {"notifications": [n.id for n in notifications], "payers": sorted(by_payer)},
    )
    if case.status is not CaseStatus.NOTIFIED:
        record_status(CaseRepository(session), case, CaseStatus.NOTIFIED, actor_of(principal), "payers notified")
    return notifications


def _person_of(payment: dict[str, Any]) -> tuple[str, str]:
    return str(payment["scheme"]), str(payment["identifier"])


def notification_body(notification: Notification, *, rule_title: tuple[str, str] | None) -> dict[str, Any]:
    """What the payer is told (the feed message and the API resource)."""
    return {
        "notification_id": notification.id,
        "person": {"scheme": notification.person_scheme, "identifier": notification.person_id},
        "payment_ids": notification.payment_ids,
        "rule": {
            "id": notification.rule_id,
            "version": notification.rule_version,
            "title_sv": rule_title[0] if rule_title else None,
            "title_en": rule_title[1] if rule_title else None,
        },
        "reason_sv": notification.reason_sv,
        "reason_en": notification.reason_en,
        "evidence": notification.evidence,
        "amount_at_risk_minor": notification.amount_at_risk_minor,
        "currency": notification.currency,
        "note": "A lead for the payer to assess, not a decision: the payer decides what to do and reports its outcome.",
    }


def payer_notifications(
    session: Session, payer_id: int, *, after_id: int = 0, limit: int = 100
) -> Sequence[Notification]:
    return NotificationRepository(session).of_payer(payer_id, after_id, limit)


def case_notifications(session: Session, case_id: int) -> Sequence[Notification]:
    """The notifications a case sent, to every payer (for the authority's case page)."""
    return NotificationRepository(session).of_case(case_id)


def payer_notification(session: Session, payer_id: int, notification_id: int) -> Notification:
    """A notification of this payer; another payer's is as unknown as a missing one."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.payer_id != payer_id:
        raise NotificationNotFoundError(f"no notification {notification_id}")
    return notification


def outcomes_of(session: Session, notification_id: int) -> Sequence[NotificationOutcome]:
    return NotificationRepository(session).outcomes(notification_id)


def record_outcome(
    session: Session,
    *,
    payer_id: int,
    recorded_by: str,
    notification_id: int,
    kind: OutcomeKind,
    amount_minor: int | None = None,
    note: str | None = None,
    decided_on: dt.date | None = None,
) -> NotificationOutcome:
    """Record the payer's outcome. A recovery claim needs its amount; a payment stopped may give the
    amount stopped; "no error" carries none. Re-sending the current outcome changes nothing."""
    notification = session.get(Notification, notification_id, with_for_update=True)
    if notification is None or notification.payer_id != payer_id:
        raise NotificationNotFoundError(f"no notification {notification_id}")
    if kind is OutcomeKind.RECOVERY_CLAIM and not amount_minor:
        raise OutcomeRejectedError("amount_minor: a recovery claim needs the amount claimed")
    if amount_minor is not None and amount_minor < 0:
        raise OutcomeRejectedError("amount_minor: an amount cannot be negative")
    if kind in (OutcomeKind.NO_ERROR, OutcomeKind.CORRECTED, OutcomeKind.REPORTED_TO_POLICE) and amount_minor:
        raise OutcomeRejectedError(f"amount_minor: an outcome {kind.value} carries no amount")
    if decided_on is not None and decided_on > clock.today():
        raise OutcomeRejectedError("decided_on: an outcome cannot be decided in the future")
    history = outcomes_of(session, notification_id)
    if history:
        last = history[-1]
        if (last.kind, last.amount_minor, last.note, last.decided_on) == (kind, amount_minor, note, decided_on):
            return last
    outcome = NotificationOutcome(
        notification_id=notification_id,
        kind=kind,
        amount_minor=amount_minor,
        currency=notification.currency,
        note=note,
        decided_on=decided_on,
        recorded_by=recorded_by,
    )
    session.add(outcome)
    session.flush()
    case_event(
        session,
        notification.case_id,
        CaseEventKind.OUTCOME,
        recorded_by,
        {"notification": notification_id, "outcome": kind.value, "amount_minor": amount_minor},
    )
    return outcome
