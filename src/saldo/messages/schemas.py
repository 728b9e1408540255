from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from saldo.kit.problem import LINE_PATTERN
from saldo.messages.models import MessageKind


class MessageOut(BaseModel):
    """One message of a payer's feed: the same JSON its webhook is sent (docs/formats/payer-messages.md)."""

    message_id: int
    seq: int = Field(description="Per payer, from 1, without gaps: read the feed after the last one you have.")
    kind: MessageKind
    payer_id: int
    ref_id: int = Field(description="The notification's or information request's id.")
    created_at: dt.datetime
    data: dict[str, Any]


class WebhookIn(BaseModel):
    url: str = Field(
        min_length=8, max_length=500, pattern=LINE_PATTERN, description="Absolute https URL messages are POSTed to."
    )
    enabled: bool = True


class WebhookOut(BaseModel):
    url: str
    enabled: bool
    failing_since: dt.datetime | None
    last_error: str | None
    secret: str | None = Field(
        default=None, description="The signing secret: returned only when the webhook is set; store it."
    )
