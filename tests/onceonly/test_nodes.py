"""Two real gateways: SE and FI, each a `saldo serve` (HTTPS on loopback) and a `saldo worker` with a
database of its own. A person applies for a PDA1 at FI and has FI fetch the statement of their
public payments from SE: FI's page sends them to SE's preview, they approve there and come back, and
the evidence arrives. Then the same again with the processes killed (SIGKILL) mid-exchange — FI's
worker before it posts the second query, SE's endpoint before it commits taking it in — and
restarted: the evidence arrives once, is released once, and nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.eessi.conftest import Pki
from tests.eessi.test_nodes import NodeProcess, wait_until
from tests.onceonly.nodes import approve_at_se, ask_at_fi, browser, public, running_gateways, state


@pytest.fixture
def gateways(tmp_path: Path, pki: Pki, worker_id: str) -> Iterator[dict[str, NodeProcess]]:
    with running_gateways(tmp_path, pki, worker_id) as made:
        yield made


def test_a_person_has_fi_fetch_their_statement_from_se(gateways: dict[str, NodeProcess]) -> None:
    se, fi = gateways["se"], gateways["fi"]
    with browser(fi) as person:
        exchange_page = ask_at_fi(fi, person)
        wait_until(lambda: state(fi, "requester") == "preview", "FI told to send the person to SE's preview")
        back = approve_at_se(se, person.get(exchange_page, params={"lang": "en"}).text)
        assert back.startswith(public(fi))
        assert person.get(back).status_code == 303
        wait_until(lambda: state(fi, "requester") == "delivered", "the evidence arriving at FI")
        page = person.get(exchange_page, params={"lang": "en"})
        assert "The evidence arrived" in page.text
        document = person.get(f"{exchange_page}/document")
        assert document.headers["content-type"] == "application/pdf"
        assert document.content.startswith(b"%PDF")
    assert state(se, "provider") == "delivered"
    assert se.rows("SELECT count(*) FROM access_log WHERE action = 'release_evidence'")[0][0] == 1


def test_killed_mid_exchange_the_evidence_still_arrives_once(gateways: dict[str, NodeProcess]) -> None:
    se, fi = gateways["se"], gateways["fi"]
    with browser(fi) as person:
        exchange_page = ask_at_fi(fi, person)
        wait_until(lambda: state(fi, "requester") == "preview", "FI told to send the person to SE's preview")
        back = approve_at_se(se, person.get(exchange_page, params={"lang": "en"}).text)
        # FI's worker dies after building the second query, before posting it; SE's endpoint dies
        # after taking it in, before committing
        fi.kill("worker")
        fi.start("worker", halt_at="onceonly.before_post")
        se.kill("serve")
        se.start("serve", halt_at="onceonly.before_commit_received")
        assert person.get(back).status_code == 303
        fi.wait_halted("onceonly.before_post")
        fi.kill("worker")
        fi.start("worker")
        se.wait_halted("onceonly.before_commit_received")
        se.kill("serve")
        assert state(se, "provider") == "approved"  # nothing of the killed transaction stayed
        se.start("serve")
        wait_until(lambda: state(fi, "requester") == "delivered", "the evidence arriving at FI after the kills")
        assert person.get(f"{exchange_page}/document").content.startswith(b"%PDF")
    wait_until(lambda: not fi.rows("SELECT 1 FROM evidence_messages WHERE status = 'pending'"), "FI's outbox empty")
    wait_until(lambda: not se.rows("SELECT 1 FROM evidence_messages WHERE status = 'pending'"), "SE's outbox empty")
    assert se.rows("SELECT count(*) FROM access_log WHERE action = 'release_evidence'")[0][0] == 1
    sent: list[Any] = se.rows("SELECT action FROM evidence_messages WHERE direction = 'out' ORDER BY id")
    assert [a for (a,) in sent] == ["ExceptionResponse", "ExecuteQueryResponse"]
    taken: list[Any] = se.rows("SELECT count(*) FROM evidence_messages WHERE direction = 'in'")
    assert taken[0][0] == 2  # the first query and the second, each once
    assert fi.rows("SELECT count(*) FROM access_log WHERE action = 'receive_evidence'")[0][0] == 1
