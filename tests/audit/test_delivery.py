"""Webhook delivery against a real receiver over HTTP, on a database of its own (messages must be
committed for the delivery lanes to see them): signed, in order per payer, once, retried with
backoff while a receiver is down (later messages wait), an alert, and nothing lost or sent twice
across a stop in the middle of a run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from saldo.messages.models import MessageKind
from saldo.messages.service import PUBLIC_ONLY, WebhookPolicy, post_message, set_webhook
from saldo.messages.service.delivery import ALERT_AFTER_ATTEMPTS, Deliverer
from saldo.synthetic.webhooks import WebhookReceiver
from saldo.worker import conninfo_of
from tests.conftest import live_database, serve_in_thread
from tests.factories import make_payer

LOCAL = WebhookPolicy(local_receivers=True)  # the tests' receivers listen on this machine


@pytest.fixture
def delivery_world(tmp_path: Path, worker_id: str) -> Iterator[tuple[Engine, WebhookReceiver, list[int]]]:
    _, engine = live_database(f"saldo_test_delivery_{worker_id}", tmp_path)
    receiver = WebhookReceiver(secrets={})
    url, stop = serve_in_thread(receiver)  # type: ignore[arg-type]
    with Session(engine) as session:
        payers = [make_payer(session, name=f"Payer {i}") for i in range(3)]
        for payer in payers:
            receiver.secrets[payer.id] = set_webhook(
                session, payer_id=payer.id, url=f"{url}/saldo", policy=LOCAL
            ).secret
        session.commit()
        ids = [p.id for p in payers]
    try:
        yield engine, receiver, ids
    finally:
        stop()
        engine.dispose()


def _post(engine: Engine, payer_ids: list[int], per_payer: int) -> None:
    with Session(engine) as session:
        for n in range(per_payer):
            for payer in payer_ids:
                post_message(session, payer_id=payer, kind=MessageKind.NOTIFICATION, ref_id=n, body={"n": n})
        session.commit()


def _deliver(engine: Engine, **options: object) -> Deliverer:
    deliverer = Deliverer(conninfo_of(engine), lanes=4, **{"policy": LOCAL, **options})  # type: ignore[arg-type]
    asyncio.run(deliverer.run(asyncio.Event(), until_idle=True))
    return deliverer


def _due_now(engine: Engine, payer_id: int) -> None:
    """The payer's pause after a failure is over."""
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE payer_messages SET next_attempt_at = now() WHERE payer_id = :p AND delivered_at IS NULL"),
            {"p": payer_id},
        )


def _pending(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(text("SELECT count(*) FROM payer_messages WHERE delivered_at IS NULL")).scalar_one()
        )


def test_messages_arrive_signed_in_order_once(delivery_world: tuple[Engine, WebhookReceiver, list[int]]) -> None:
    engine, receiver, payers = delivery_world
    _post(engine, payers, 40)
    stats = _deliver(engine).stats
    assert stats.delivered == 120
    assert _pending(engine) == 0
    assert receiver.bad_signatures == 0
    assert receiver.duplicates == 0
    assert receiver.out_of_order == 0
    assert {p: receiver.taken[p] for p in payers} == {p: list(range(1, 41)) for p in payers}
    assert _deliver(engine).stats.delivered == 0  # nothing is sent twice


def test_a_receiver_that_is_down_gets_retries_and_an_alert_and_loses_nothing(
    delivery_world: tuple[Engine, WebhookReceiver, list[int]],
) -> None:
    engine, receiver, payers = delivery_world
    down = payers[0]
    receiver.failing.add(down)
    _post(engine, payers, 5)
    alerts: list[str] = []
    for _ in range(ALERT_AFTER_ATTEMPTS):
        # A backoff no run outlasts, however slow the machine, so each run tries the message once;
        # then the pause is over, as if the time had passed.
        _deliver(engine, backoff_s=(3600,), on_alert=lambda payer, alert: alerts.append(alert))
        _due_now(engine, down)
    assert receiver.taken[down] == []  # its first message failed, so nothing after it was sent
    assert receiver.refused == ALERT_AFTER_ATTEMPTS
    assert len(alerts) == 1
    assert f"payer {down}" in alerts[0]
    assert "HTTP 503" in alerts[0]
    with engine.connect() as connection:
        failing = connection.execute(
            text("SELECT failing_since IS NOT NULL, alerted_at IS NOT NULL FROM payer_webhooks WHERE payer_id = :p"),
            {"p": down},
        ).one()
        attempts = connection.execute(
            text("SELECT attempts, last_error FROM payer_messages WHERE payer_id = :p AND seq = 1"), {"p": down}
        ).one()
    assert tuple(failing) == (True, True)
    assert attempts[0] == ALERT_AFTER_ATTEMPTS
    assert "503" in attempts[1]
    receiver.failing.clear()
    _deliver(engine, backoff_s=(3600,))
    assert receiver.taken[down] == [1, 2, 3, 4, 5]
    assert _pending(engine) == 0
    with engine.connect() as connection:
        healthy = connection.execute(text("SELECT failing_since FROM payer_webhooks WHERE payer_id = :p"), {"p": down})
        assert healthy.scalar() is None


def test_a_stop_in_the_middle_of_a_run_loses_and_repeats_nothing(
    delivery_world: tuple[Engine, WebhookReceiver, list[int]],
) -> None:
    engine, receiver, payers = delivery_world
    _post(engine, payers, 300)

    async def stop_midway() -> int:
        stop = asyncio.Event()
        deliverer = Deliverer(conninfo_of(engine), lanes=3, batch=50, policy=LOCAL)
        running = asyncio.create_task(deliverer.run(stop))
        while receiver.unique < 300:
            await asyncio.sleep(0.005)
        stop.set()
        await running
        return deliverer.stats.delivered

    first = asyncio.run(stop_midway())
    assert 300 <= first < 900
    assert _pending(engine) == 900 - first
    second = _deliver(engine).stats.delivered
    assert first + second == 900
    assert receiver.unique == 900
    assert receiver.duplicates == 0
    assert receiver.out_of_order == 0


def test_what_a_failing_receiver_answers_is_never_kept(tmp_path: Path, worker_id: str) -> None:
    """A webhook aimed at an internal service must not become a way to read that service."""

    async def internal(scope: dict[str, object], receive: object, send: Callable[..., Awaitable[None]]) -> None:
        body = b"internal admin: db password hunter2"
        await send({"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"35")]})
        await send({"type": "http.response.body", "body": body})

    _, engine = live_database(f"saldo_test_delivery_echo_{worker_id}", tmp_path)
    url, stop = serve_in_thread(internal)  # type: ignore[arg-type]
    try:
        with Session(engine) as session:
            payer_id = make_payer(session).id
            set_webhook(session, payer_id=payer_id, url=f"{url}/internal-admin", policy=LOCAL)
            session.commit()
        _post(engine, [payer_id], 1)
        _deliver(engine, backoff_s=(0.05,))
        with engine.connect() as connection:
            errors = connection.execute(
                text(
                    "SELECT m.last_error, w.last_error FROM payer_messages m JOIN payer_webhooks w USING (payer_id) "
                    "WHERE m.payer_id = :p"
                ),
                {"p": payer_id},
            ).one()
    finally:
        stop()
        engine.dispose()
    assert tuple(errors) == ("HTTP 500", "HTTP 500")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_webhook_that_points_inside_the_network_is_never_contacted(
    delivery_world: tuple[Engine, WebhookReceiver, list[int]], host: str
) -> None:
    """Checked again when connecting: a URL that passed when it was set (or whose name now resolves
    elsewhere) reaches no internal address. The receiver here listens on loopback."""
    engine, receiver, payers = delivery_world
    with engine.begin() as connection:
        url = connection.execute(text("SELECT url FROM payer_webhooks WHERE payer_id = :p"), {"p": payers[0]}).scalar()
        inside = str(url).replace("127.0.0.1", host)
        connection.execute(
            text("UPDATE payer_webhooks SET url = :u, enabled = (payer_id = :p)"), {"u": inside, "p": payers[0]}
        )
    _post(engine, payers[:1], 2)
    deliverer = _deliver(engine, policy=PUBLIC_ONLY, backoff_s=(60,))
    assert (deliverer.stats.delivered, receiver.unique) == (0, 0)
    with engine.connect() as connection:
        error = connection.execute(text("SELECT last_error FROM payer_webhooks WHERE payer_id = :p"), {"p": payers[0]})
        reason = str(error.scalar())
    assert reason.startswith(f"ConnectError: refused to connect to {host}: ")
    assert "is not a public internet address" in reason
