from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saldo.messages.models import PayerMessage, Webhook

_NEXT_SEQ = text(
    "INSERT INTO payer_message_counters (payer_id, last_seq) VALUES (:payer, 1) "
    "ON CONFLICT (payer_id) DO UPDATE SET last_seq = payer_message_counters.last_seq + 1 RETURNING last_seq"
)
_HEALTH = text(
    """
    SELECT w.payer_id, w.url, w.enabled, w.failing_since, w.alerted_at, w.last_error,
           count(m.id) AS pending, min(m.created_at) AS oldest_pending
      FROM payer_webhooks w LEFT JOIN payer_messages m ON m.payer_id = w.payer_id AND m.delivered_at IS NULL
     GROUP BY w.payer_id ORDER BY w.payer_id
    """
)


class MessageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def next_seq(self, payer_id: int) -> int:
        """The payer's next message number; the counter row stays locked until commit."""
        return int(self.session.execute(_NEXT_SEQ, {"payer": payer_id}).scalar_one())

    def add(self, message: PayerMessage) -> PayerMessage:
        self.session.add(message)
        self.session.flush()
        return message

    def feed(self, payer_id: int, after: int, limit: int) -> Sequence[PayerMessage]:
        query = (
            select(PayerMessage)
            .where(PayerMessage.payer_id == payer_id, PayerMessage.seq > after)
            .order_by(PayerMessage.seq)
            .limit(limit)
        )
        return self.session.scalars(query).all()

    def upsert_webhook(self, values: dict[str, Any]) -> Webhook:
        fresh = {"failing_since": None, "alerted_at": None, "last_error": None, "updated_at": text("now()")}
        statement = insert(Webhook).values(**values)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[Webhook.payer_id],
                set_={**{k: v for k, v in values.items() if k != "payer_id"}, **fresh},
            )
        )
        webhook = self.session.get(Webhook, values["payer_id"], populate_existing=True)
        assert webhook is not None
        return webhook

    def webhook(self, payer_id: int) -> Webhook | None:
        return self.session.get(Webhook, payer_id)

    def health(self) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self.session.execute(_HEALTH)]
