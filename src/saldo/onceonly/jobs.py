"""Background work of the once-only exchange: delivering the outbox, at once when a message is queued
and every minute for retries that come due."""

from __future__ import annotations

import logging

import httpx
import procrastinate

from saldo.db.engine import unit_of_work
from saldo.eessi.jobs import posting
from saldo.kit.clock import utcnow
from saldo.mediation.jobs import JobResources
from saldo.onceonly import service

DELIVER_TASK = "onceonly_deliver"
DELIVER_QUEUE = "onceonly"
DELIVER_LOCK = "onceonly-deliver"
DELIVER_CRON = "* * * * *"
EXPIRE_TASK = "onceonly_expire"
EXPIRE_CRON = "20 * * * *"  # hourly: a lapsed preview or evidence past its time is gone within the hour
TIMEOUT_S = 30.0

log = logging.getLogger(__name__)


def deliver(resources: JobResources, *, limit: int = 10_000) -> dict[str, int]:
    """Send every message that is due, each in its own transaction (built and committed first, then
    sent and its outcome committed); returns the outcomes counted."""
    gateway = service.gateway_from_settings(resources.settings)
    counts: dict[str, int] = {}
    verify = str(gateway.ca_bundle) if gateway.ca_bundle else True
    with httpx.Client(verify=verify, timeout=TIMEOUT_S) as client:
        post = posting(client)
        for _ in range(limit):
            with unit_of_work(resources.sessions) as session:
                delivery = service.deliver_one(session, gateway, post)
            if delivery is None:
                break
            counts[delivery.outcome] = counts.get(delivery.outcome, 0) + 1
    return counts


def deliver_job(context: procrastinate.JobContext, timestamp: int | None = None) -> dict[str, int]:
    resources = context.additional_context["resources"]
    assert isinstance(resources, JobResources)
    counts = deliver(resources)
    if counts:
        log.info("once-only outbox: %s", counts)
    return counts


def expire_job(context: procrastinate.JobContext, timestamp: int) -> dict[str, int]:
    resources = context.additional_context["resources"]
    assert isinstance(resources, JobResources)
    with unit_of_work(resources.sessions) as session:
        lapsed, deleted = service.expire(session, now=utcnow())
    if lapsed or deleted:
        log.info("once-only: %d requests lapsed, %d evidence deleted", lapsed, deleted)
    return {"lapsed": lapsed, "deleted": deleted}


def register_tasks(app: procrastinate.App, *, enabled: bool) -> None:
    deliver_task = app.task(name=DELIVER_TASK, queue=DELIVER_QUEUE, pass_context=True)(deliver_job)
    expire_task = app.task(name=EXPIRE_TASK, queue=DELIVER_QUEUE, pass_context=True)(expire_job)
    if enabled:  # only a node that takes part in the exchange looks for work on a schedule
        app.periodic(cron=DELIVER_CRON, periodic_id=DELIVER_TASK)(deliver_task)
        app.periodic(cron=EXPIRE_CRON, periodic_id=EXPIRE_TASK)(expire_task)
