"""A large payment file stored over several connections (decision 0013) survives ``saldo ingest``
killed before its parts are prepared, between preparing them and committing the batch, and after
the batch committed but before its parts did. Nothing of a batch that did not commit is ever
visible; a batch that did is made whole by a running worker within seconds, and says meanwhile
that its payments are not all visible yet; the same file sent again is stored exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from saldo.payments.service.query import get_batch_result
from tests.crash.conftest import Lab, free_port, wait_until
from tests.factories import csv_file, make_payer, payment_body
from tests.payments.test_batch_parts import stored

PAYMENTS = 3_000
PARTS = {"SALDO_INGEST_PARALLEL_BYTES": "0", "SALDO_INGEST_WRITERS": "2"}  # parts for any file, however small


def payer_and_file(lab: Lab) -> tuple[str, int, Path]:
    with lab.sessions() as session:
        payer = make_payer(session)
        session.commit()
        organisation_number, payer_id = payer.organisation_number, payer.id
    path = lab.folder / "payments.csv"
    path.write_text(csv_file([payment_body() for _ in range(PAYMENTS)]), encoding="utf-8")
    return organisation_number, payer_id, path


@pytest.mark.parametrize("point", ["ingest.before_prepare", "ingest.prepared"])
def test_an_ingest_killed_before_its_batch_commits_leaves_nothing_and_the_file_goes_in_once(
    lab: Lab, point: str
) -> None:
    organisation_number, _, path = payer_and_file(lab)
    lab.kill_at(lab.start("ingest", organisation_number, str(path), halt_at=point, **PARTS), point)
    assert stored(lab.engine)[:2] == (0, 0)

    lab.start("worker")  # a running worker rolls back what the dead process left prepared
    wait_until(lambda: stored(lab.engine) == (0, 0, 0), "the parts being rolled back")

    output = lab.finish(lab.start("ingest", organisation_number, str(path), **PARTS))
    assert f"{PAYMENTS} new" in output
    assert stored(lab.engine) == (PAYMENTS, 1, 0)


@pytest.mark.parametrize("settler", ["worker", "serve"])
def test_an_ingest_killed_after_its_batch_committed_is_made_visible_by_a_running_process(
    lab: Lab, settler: str
) -> None:
    """A worker or a web process that is running (or starts) commits the parts within seconds."""
    organisation_number, payer_id, path = payer_and_file(lab)
    point = "ingest.committed"
    lab.kill_at(lab.start("ingest", organisation_number, str(path), halt_at=point, **PARTS), point)
    payments, batches, prepared = stored(lab.engine)
    assert (batches, prepared) == (1, 2)
    assert payments < PAYMENTS
    with lab.sessions() as session:
        batch_id = int(session.execute(text("SELECT id FROM payment_batches")).scalar_one())
        pending = get_batch_result(session, payer_id=payer_id, batch_id=batch_id)
    assert pending.registered == PAYMENTS
    assert pending.visible is False  # accepted, and it says its payments are not all visible yet

    lab.start(*(["serve", "--port", str(free_port()), "--workers", "1"] if settler == "serve" else ["worker"]))
    wait_until(lambda: stored(lab.engine) == (PAYMENTS, 1, 0), "the parts being committed")  # within WAIT_S
    with lab.sessions() as session:
        assert get_batch_result(session, payer_id=payer_id, batch_id=batch_id).visible is True

    output = lab.finish(lab.start("ingest", organisation_number, str(path), **PARTS))
    assert "received before; nothing changed" in output
    assert stored(lab.engine) == (PAYMENTS, 1, 0)
