"""A payer's webhook receiver, as a payer would write one (the demo, tests and the delivery
benchmark run it): it checks each delivery's signature, takes a message once whatever the number of
times it arrives (by the signed body's ``message_id``), and counts what arrived out of order. It can be told to
fail (HTTP 503) for some payers, as a receiver that is down."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from saldo.kit.webhook_signature import HEADER, SignatureError, verify

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class WebhookReceiver:
    """An ASGI app: POST / takes one message. ``secrets`` per payer id."""

    secrets: dict[int, str]
    failing: set[int] = field(default_factory=set)
    taken: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # payer -> seqs in order
    deliveries: int = 0  # every POST that was signed right, duplicates included
    duplicates: int = 0
    out_of_order: int = 0
    bad_signatures: int = 0
    refused: int = 0
    _seen: set[int] = field(default_factory=set)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                return  # the sender went away mid-request: nothing was delivered
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status = self.take(headers, body)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    def take(self, headers: dict[str, str], body: bytes) -> int:
        payer = int(headers.get("saldo-payer", "0"))
        if payer in self.failing:
            self.refused += 1
            return 503
        try:
            verify(self.secrets.get(payer, ""), headers.get(HEADER.lower()), body)
        except SignatureError:
            self.bad_signatures += 1
            return 401
        message = orjson.loads(body)
        self.deliveries += 1
        if message["message_id"] in self._seen:
            self.duplicates += 1
            return 200
        self._seen.add(message["message_id"])
        seqs = self.taken[payer]
        if seqs and message["seq"] != seqs[-1] + 1:
            self.out_of_order += 1
        seqs.append(message["seq"])
        return 200

    @property
    def unique(self) -> int:
        return len(self._seen)
