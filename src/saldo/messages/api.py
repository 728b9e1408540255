"""The payer's feed (pull) and its webhook (push) of messages from the authority."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from saldo.http.deps import MAX_ID, AppSettings, DbSession
from saldo.kit.problem import Problem, problem_responses
from saldo.messages.errors import NoWebhookError
from saldo.messages.models import PayerMessage
from saldo.messages.schemas import MessageOut, WebhookIn, WebhookOut
from saldo.messages.service import WebhookPolicy, feed, set_webhook, webhook_of
from saldo.payers.http import CurrentPayer

router = APIRouter(prefix="/api/v1", tags=["payer: messages"], responses=problem_responses(401, 404, 422))


def message_out(message: PayerMessage) -> MessageOut:
    return MessageOut(
        message_id=message.id,
        seq=message.seq,
        kind=message.kind,
        payer_id=message.payer_id,
        ref_id=message.ref_id,
        created_at=message.created_at,
        data=message.body,
    )


@router.get("/feed", response_model=list[MessageOut], summary="The payer's messages, in order")
def get_feed(
    payer: CurrentPayer,
    session: DbSession,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="The last seq you have; 0 for the start.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[MessageOut]:
    """Notifications, information requests and reminders addressed to the calling payer, numbered
    without gaps. Whether or not they were also pushed to a webhook, they are all here."""
    return [message_out(m) for m in feed(session, payer.payer_id, after=after, limit=limit)]


@router.put("/webhook", response_model=WebhookOut, summary="Set the payer's webhook")
def put_webhook(body: WebhookIn, payer: CurrentPayer, session: DbSession, settings: AppSettings) -> WebhookOut:
    """Messages are POSTed to ``url`` in order, signed with a new secret returned once here
    (`Saldo-Signature`, docs/formats/payer-messages.md), and retried until the receiver answers 2xx."""
    webhook = set_webhook(
        session,
        payer_id=payer.payer_id,
        url=body.url,
        enabled=body.enabled,
        policy=WebhookPolicy.from_settings(settings),
    )
    out = WebhookOut(
        url=webhook.url, enabled=webhook.enabled, failing_since=None, last_error=None, secret=webhook.secret
    )
    session.commit()
    return out


@router.get(
    "/webhook",
    response_model=WebhookOut,
    summary="The payer's webhook and whether it is failing",
    responses={404: {"model": Problem, "description": "No webhook set"}},
)
def get_webhook(payer: CurrentPayer, session: DbSession) -> WebhookOut:
    webhook = webhook_of(session, payer.payer_id)
    if webhook is None:
        raise NoWebhookError("no webhook is set; messages are in the feed")
    return WebhookOut(
        url=webhook.url, enabled=webhook.enabled, failing_since=webhook.failing_since, last_error=webhook.last_error
    )
