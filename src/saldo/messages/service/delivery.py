"""Webhook delivery: push each payer's messages to its webhook, in order, signed, retried with backoff.

Lanes work in parallel, each on one payer at a time; a payer is held by a PostgreSQL advisory lock
on the lane's connection, so two lanes (or two workers) never send one payer's messages at once, and
a worker that dies releases its payers with its connection. A message is marked delivered right
after the receiver answers 2xx; a stop (SIGTERM) lets every lane finish the message it is sending
and mark it first, so a restart sends nothing twice. Only a worker killed between the receiver's
answer and the mark can send one message again: receivers deduplicate on the signed body's ``message_id``
(at least once; exactly once in effect). A message is never dropped: a failing receiver is retried
with growing pauses, later messages wait behind it, and an alert is raised."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import psycopg
from psycopg.rows import dict_row

from saldo.kit.crash_points import reach
from saldo.kit.outbound import guarded_transport
from saldo.kit.webhook_signature import HEADER, sign
from saldo.messages.service import PUBLIC_ONLY, WebhookPolicy

log = logging.getLogger(__name__)

LOCK_SPACE = 0x5A1D0  # the advisory lock namespace of webhook lanes (first key); the payer id is the second
BACKOFF_S: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600)  # after the 1st, 2nd ... failure; then hourly, for ever
ALERT_AFTER_ATTEMPTS = 4  # a payer's webhook failing this many times in a row raises an alert

_PAYERS_WAITING = """
SELECT w.payer_id FROM payer_webhooks w
 WHERE w.enabled AND EXISTS (SELECT 1 FROM payer_messages m WHERE m.payer_id = w.payer_id AND m.delivered_at IS NULL)
 ORDER BY random()
"""
_PENDING = """
SELECT id, seq, kind, ref_id, body, created_at, attempts, next_attempt_at FROM payer_messages
 WHERE payer_id = %s AND delivered_at IS NULL ORDER BY seq LIMIT %s
"""
_DELIVERED = "UPDATE payer_messages SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = %s"
_FAILED = (
    "UPDATE payer_messages SET attempts = attempts + 1, last_error = %s, "
    "next_attempt_at = now() + make_interval(secs => %s) WHERE id = %s RETURNING attempts"
)
_WEBHOOK_FAILING = (
    "UPDATE payer_webhooks SET failing_since = coalesce(failing_since, now()), last_error = %s WHERE payer_id = %s"
)
_ALERTED = (
    "UPDATE payer_webhooks SET alerted_at = now() WHERE payer_id = %s AND alerted_at IS NULL RETURNING failing_since"
)
_HEALTHY = (
    "UPDATE payer_webhooks SET failing_since = NULL, alerted_at = NULL, last_error = NULL "
    "WHERE payer_id = %s AND failing_since IS NOT NULL"
)


def payload_of(payer_id: int, message: dict[str, Any]) -> bytes:
    """The JSON a message is delivered as, the same in the pull feed (docs/formats/payer-messages.md)."""
    return orjson.dumps(
        {
            "message_id": message["id"],
            "seq": message["seq"],
            "kind": message["kind"],
            "payer_id": payer_id,
            "ref_id": message["ref_id"],
            "created_at": message["created_at"],
            "data": message["body"],
        }
    )


def backoff_seconds(attempts: int, steps: tuple[float, ...] = BACKOFF_S) -> float:
    """The pause after the ``attempts``-th failure in a row."""
    return steps[min(attempts, len(steps)) - 1] if attempts > 0 else 0


@dataclass
class DeliveryStats:
    delivered: int = 0
    failed: int = 0
    alerts: list[str] = field(default_factory=list)


class Deliverer:
    """Deliver pending messages until ``stop`` is set (or, with ``until_idle``, nothing is left to send)."""

    def __init__(
        self,
        conninfo: str,
        *,
        lanes: int = 8,
        batch: int = 200,
        timeout_s: float = 10.0,
        poll_s: float = 0.5,
        on_alert: Callable[[int, str], None] | None = None,
        backoff_s: tuple[float, ...] = BACKOFF_S,
        policy: WebhookPolicy = PUBLIC_ONLY,
    ) -> None:
        self.conninfo = conninfo
        self.lanes = lanes
        self.batch = batch
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.on_alert = on_alert
        self.backoff_s = backoff_s
        self.policy = policy
        self.stats = DeliveryStats()

    async def run(self, stop: asyncio.Event, *, until_idle: bool = False) -> DeliveryStats:
        limits = httpx.Limits(max_connections=self.lanes * 2, max_keepalive_connections=self.lanes * 2)
        # Unless receivers are local (demo, tests), every connection goes only to a checked public address.
        transport = None if self.policy.local_receivers else guarded_transport(self.policy.refused, limits=limits)
        async with httpx.AsyncClient(
            timeout=self.timeout_s, limits=limits, follow_redirects=False, transport=transport, trust_env=False
        ) as client:
            await asyncio.gather(*(self._lane(client, stop, until_idle) for _ in range(self.lanes)))
        return self.stats

    async def _lane(self, client: httpx.AsyncClient, stop: asyncio.Event, until_idle: bool) -> None:
        async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True, row_factory=dict_row) as db:
            while not stop.is_set():
                payer = await self._claim(db)
                if payer is None:
                    if until_idle:
                        return
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.poll_s)
                    continue
                try:
                    await self._deliver_payer(db, client, payer, stop)
                finally:
                    await db.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_SPACE, payer))

    async def _claim(self, db: psycopg.AsyncConnection[dict[str, Any]]) -> int | None:
        """A payer with due messages that no other lane holds, now held by this one; None when none."""
        waiting = [r["payer_id"] for r in await (await db.execute(_PAYERS_WAITING)).fetchall()]
        for payer in waiting:
            held = await (
                await db.execute("SELECT pg_try_advisory_lock(%s, %s) AS held", (LOCK_SPACE, payer))
            ).fetchone()
            if held is None or not held["held"]:
                continue
            first = await (await db.execute(_PENDING, (payer, 1))).fetchone()
            due = first is not None and (
                first["next_attempt_at"] is None or first["next_attempt_at"] <= dt.datetime.now(dt.UTC)
            )
            if due:
                return int(payer)
            await db.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_SPACE, payer))
        return None

    async def _deliver_payer(
        self, db: psycopg.AsyncConnection[dict[str, Any]], client: httpx.AsyncClient, payer: int, stop: asyncio.Event
    ) -> None:
        webhook = await (
            await db.execute("SELECT url, secret, failing_since FROM payer_webhooks WHERE payer_id = %s", (payer,))
        ).fetchone()
        if webhook is None:
            return
        healthy = webhook["failing_since"] is None
        for message in await (await db.execute(_PENDING, (payer, self.batch))).fetchall():
            if stop.is_set():
                return
            body = payload_of(payer, message)
            headers = {
                "Content-Type": "application/json",
                HEADER: sign(webhook["secret"], body),
                "Saldo-Message-Id": str(message["id"]),
                "Saldo-Sequence": str(message["seq"]),
                "Saldo-Payer": str(payer),
            }
            error = await self._post(client, webhook["url"], body, headers)
            if error is None:
                reach("delivery.answered")  # the receiver has the message; it is not yet marked delivered
                await db.execute(_DELIVERED, (message["id"],))
                self.stats.delivered += 1
                if not healthy:
                    await db.execute(_HEALTHY, (payer,))
                    healthy = True
                continue
            await self._failed(db, payer, message, error)
            return  # later messages wait: a payer's messages arrive in order

    async def _post(self, client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        """None when the receiver took the message (2xx); otherwise what went wrong."""
        try:
            response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        if 200 <= response.status_code < 300:
            return None
        # The status only: what a receiver answers is never kept or shown, so a webhook aimed at
        # someone else's service cannot be used to read it.
        return f"HTTP {response.status_code}"

    async def _failed(
        self, db: psycopg.AsyncConnection[dict[str, Any]], payer: int, message: dict[str, Any], error: str
    ) -> None:
        attempts = int(message["attempts"]) + 1
        await db.execute(_FAILED, (error, backoff_seconds(attempts, self.backoff_s), message["id"]))
        await db.execute(_WEBHOOK_FAILING, (error, payer))
        self.stats.failed += 1
        if attempts >= ALERT_AFTER_ATTEMPTS:
            raised = await (await db.execute(_ALERTED, (payer,))).fetchone()
            if raised is not None:
                alert = f"the webhook of payer {payer} has failed {attempts} times in a row: {error}"
                log.error("ALERT %s", alert)
                self.stats.alerts.append(alert)
                if self.on_alert is not None:
                    self.on_alert(payer, alert)
