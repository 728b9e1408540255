"""Background work of the cross-border exchange: delivering the outbox (at once when a SED is
queued, and every minute for retries that come due) and reminding partners of overdue answers."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import procrastinate

from saldo.db.engine import unit_of_work
from saldo.eessi import service
from saldo.mediation.jobs import JobResources

DELIVER_TASK = "eessi_deliver"
DELIVER_QUEUE = "eessi"
DELIVER_LOCK = "eessi-deliver"
DELIVER_CRON = "* * * * *"
REMIND_TASK = "eessi_remind"
REMIND_CRON = "30 7 * * *"
TIMEOUT_S = 30.0

log = logging.getLogger(__name__)


def poster(node: service.Node) -> httpx.Client:
    return httpx.Client(verify=str(node.ca_bundle) if node.ca_bundle else True, timeout=TIMEOUT_S)


Post = Callable[[str, dict[str, str], bytes], tuple[int, bytes]]


def posting(client: httpx.Client) -> Post:
    """``post(url, headers, body)`` → (status, body) over ``client``, an unreachable partner
    raised as OSError: what the outboxes' delivery (``deliver_one``) calls."""

    def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        try:
            response = client.post(url, headers=headers, content=body)
        except httpx.TransportError as error:
            raise OSError(str(error) or type(error).__name__) from error
        return response.status_code, response.content

    return post


def deliver(resources: JobResources, *, limit: int = 10_000) -> dict[str, int]:
    """Send every SED that is due, a batch at a time: the batch claimed and built in one transaction
    (committed before anything is sent), then posted, several side by side, and the outcomes
    committed in another. A crash between the two resends the same bytes; the partner answers a
    message it has taken in with the receipt it kept. Returns the outcomes counted."""
    node = service.node_from_settings(resources.settings)
    counts: dict[str, int] = {}
    claimed_in_all = 0
    with poster(node) as client:
        post = posting(client)
        while claimed_in_all < limit:
            with unit_of_work(resources.sessions) as session:
                ready, outcomes = service.claim_due(
                    session, node, limit=min(service.DELIVERY_BATCH, limit - claimed_in_all)
                )
            if ready:
                with unit_of_work(resources.sessions) as session:
                    outcomes += service.send_claimed(session, node, ready, post)
            for delivery in outcomes:
                counts[delivery.outcome] = counts.get(delivery.outcome, 0) + 1
            if not outcomes:
                break
            claimed_in_all += len(ready) or len(outcomes)
    return counts


def deliver_job(context: procrastinate.JobContext, timestamp: int | None = None) -> dict[str, int]:
    resources = context.additional_context["resources"]
    assert isinstance(resources, JobResources)
    counts = deliver(resources)
    if counts:
        log.info("cross-border outbox: %s", counts)
    return counts


def remind_job(context: procrastinate.JobContext, timestamp: int) -> int:
    resources = context.additional_context["resources"]
    assert isinstance(resources, JobResources)
    node = service.node_from_settings(resources.settings)
    from saldo.kit.clock import today  # noqa: PLC0415

    with unit_of_work(resources.sessions) as session:
        return service.remind_overdue(session, node, today())


def register_tasks(app: procrastinate.App, *, enabled: bool) -> None:
    deliver_task = app.task(name=DELIVER_TASK, queue=DELIVER_QUEUE, pass_context=True)(deliver_job)
    remind_task = app.task(name=REMIND_TASK, queue=DELIVER_QUEUE, pass_context=True)(remind_job)
    if enabled:  # only a node that takes part in the exchange looks for work on a schedule
        app.periodic(cron=DELIVER_CRON, periodic_id=DELIVER_TASK)(deliver_task)
        app.periodic(cron=REMIND_CRON, periodic_id=REMIND_TASK)(remind_task)
