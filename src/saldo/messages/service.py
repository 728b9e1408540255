"""Payer messages: the feed a payer reads (pull) and the outbox its webhook is fed from (push).

A message is written in the caller's transaction, together with what it tells of (a notification,
an information request), so it exists exactly when that does: nothing can be told that did not
happen, and nothing that happened can go untold. Numbers are per payer and without gaps."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from saldo.messages.errors import InvalidWebhookError
from saldo.messages.models import MessageKind, PayerMessage, Webhook
from saldo.messages.repository import MessageRepository


def post_message(
    session: Session, *, payer_id: int, kind: MessageKind, ref_id: int, body: dict[str, Any]
) -> PayerMessage:
    """Add a message to the payer's feed (and its webhook outbox) in the caller's transaction."""
    repository = MessageRepository(session)
    seq = repository.next_seq(payer_id)
    return repository.add(PayerMessage(payer_id=payer_id, seq=seq, kind=kind, ref_id=ref_id, body={**body, "seq": seq}))


def feed(session: Session, payer_id: int, *, after: int = 0, limit: int = 100) -> Sequence[PayerMessage]:
    """The payer's messages after number ``after``, in order."""
    return MessageRepository(session).feed(payer_id, after, limit)


def set_webhook(session: Session, *, payer_id: int, url: str, enabled: bool = True) -> Webhook:
    """Set where the payer's messages are pushed; a new signing secret is made each time (returned
    once on the row; the payer stores it to check signatures)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise InvalidWebhookError(f"webhook URL {url!r} is not an absolute http(s) URL")
    secret = "whsec_" + secrets.token_urlsafe(32)
    return MessageRepository(session).upsert_webhook(
        {"payer_id": payer_id, "url": url, "secret": secret, "enabled": enabled}
    )


def webhook_of(session: Session, payer_id: int) -> Webhook | None:
    return MessageRepository(session).webhook(payer_id)


def webhook_health(session: Session) -> list[dict[str, Any]]:
    """Per payer with a webhook: pending messages, the oldest pending, and whether it is failing."""
    return MessageRepository(session).health()
