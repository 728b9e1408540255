"""Payer messages: the feed a payer reads (pull) and the outbox its webhook is fed from (push).

A message is written in the caller's transaction, together with what it tells of (a notification,
an information request), so it exists exactly when that does: nothing can be told that did not
happen, and nothing that happened can go untold. Numbers are per payer and without gaps."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from saldo.kit.outbound import Network, RefusedAddressError, check_url, parse_networks
from saldo.messages.errors import InvalidWebhookError
from saldo.messages.models import MessageKind, PayerMessage, Webhook
from saldo.messages.repository import MessageRepository
from saldo.settings import Settings


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


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    """Where webhooks may point: https on the public internet, outside the authority's own ranges
    (``local_receivers`` lets the demo and tests use http to this machine)."""

    refused_networks: tuple[str, ...] = ()
    local_receivers: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookPolicy:
        return cls(tuple(settings.webhook_refused_networks), settings.webhook_local_receivers)

    @property
    def refused(self) -> list[Network]:
        return parse_networks(self.refused_networks)


PUBLIC_ONLY = WebhookPolicy()  # production's policy: https to public addresses only


def set_webhook(
    session: Session, *, payer_id: int, url: str, enabled: bool = True, policy: WebhookPolicy = PUBLIC_ONLY
) -> Webhook:
    """Set where the payer's messages are pushed; a new signing secret is made each time (returned
    once on the row; the payer stores it to check signatures). The URL must be https to a public
    address (checked again at every delivery, so a name cannot later resolve to an internal one)."""
    parts = urlsplit(url)
    allowed = ("https", "http") if policy.local_receivers else ("https",)
    if parts.scheme not in allowed or not parts.hostname:
        raise InvalidWebhookError(f"webhook URL {url!r} is not an absolute https URL")
    if parts.username or parts.password:
        raise InvalidWebhookError("a webhook URL carries no user name or password; messages are signed instead")
    if not policy.local_receivers:
        try:
            check_url(url, policy.refused)
        except RefusedAddressError as exc:
            raise InvalidWebhookError(f"webhook URL {url!r} is refused: {exc}") from exc
    secret = "whsec_" + secrets.token_urlsafe(32)
    return MessageRepository(session).upsert_webhook(
        {"payer_id": payer_id, "url": url, "secret": secret, "enabled": enabled}
    )


def webhook_of(session: Session, payer_id: int) -> Webhook | None:
    return MessageRepository(session).webhook(payer_id)


def webhook_health(session: Session) -> list[dict[str, Any]]:
    """Per payer with a webhook: pending messages, the oldest pending, and whether it is failing."""
    return MessageRepository(session).health()
