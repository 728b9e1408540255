"""Webhook delivery survives a worker killed between the receiver's answer and the mark: a new
worker delivers every message, in order per payer, and the one message the receiver had already
taken arrives again with the same message id (at least once; the receiver keeps it once)."""

from __future__ import annotations

from sqlalchemy import text

from saldo.messages.models import MessageKind
from saldo.messages.service import WebhookPolicy, post_message, set_webhook
from saldo.synthetic.webhooks import WebhookReceiver
from tests.conftest import serve_in_thread
from tests.crash.conftest import Lab, wait_until
from tests.factories import make_payer

LOCAL = WebhookPolicy(local_receivers=True)  # the receiver listens on this machine
MESSAGES = 30


def test_a_worker_killed_mid_delivery_loses_nothing_and_keeps_the_order(lab: Lab) -> None:
    receiver = WebhookReceiver(secrets={})
    url, stop = serve_in_thread(receiver)  # type: ignore[arg-type]
    try:
        with lab.sessions() as session:
            payer = make_payer(session)
            receiver.secrets[payer.id] = set_webhook(
                session, payer_id=payer.id, url=f"{url}/saldo", policy=LOCAL
            ).secret
            for n in range(MESSAGES):
                post_message(session, payer_id=payer.id, kind=MessageKind.NOTIFICATION, ref_id=n, body={"n": n})
            session.commit()

        lab.kill_at(lab.start("worker", halt_at="delivery.answered"), "delivery.answered")
        assert receiver.unique == 1  # the receiver took the first message; it was not marked delivered

        lab.start("worker")
        wait_until(lambda: receiver.unique == MESSAGES and pending(lab) == 0, "every message being delivered")
    finally:
        stop()
    assert receiver.taken[payer.id] == list(range(1, MESSAGES + 1))  # each once, in order
    assert receiver.out_of_order == 0
    assert receiver.bad_signatures == 0
    assert receiver.duplicates == 1  # the message answered just before the kill, sent again


def pending(lab: Lab) -> int:
    with lab.engine.connect() as connection:
        query = text("SELECT count(*) FROM payer_messages WHERE delivered_at IS NULL")
        return int(connection.execute(query).scalar_one())
