"""The batch readers and the batch endpoint against inputs nobody wrote on purpose: random bytes, and
valid files cut short, with bytes flipped, lines dropped or doubled. No input crashes a reader (it
yields records or refuses the whole batch with BatchFormatError), the endpoint answers accepted or a
4xx that says why — never a 500 — and a refused batch leaves nothing behind."""

from __future__ import annotations

import io
import json

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.payments.errors import BatchFormatError
from saldo.payments.models import BatchFormat
from saldo.payments.service.readers import read_records
from tests.factories import csv_file, payment_body

CONTENT_TYPES = {BatchFormat.CSV: "text/csv", BatchFormat.NDJSON: "application/x-ndjson"}


def _valid(fmt: BatchFormat, count: int) -> bytes:
    bodies = [payment_body() for _ in range(count)]
    if fmt is BatchFormat.CSV:
        return csv_file(bodies).encode()
    return b"".join(json.dumps(b).encode() + b"\n" for b in bodies)


@st.composite
def damaged(draw: st.DrawFn, fmt: BatchFormat) -> bytes:
    """A valid file of a few payments with one kind of damage done to it."""
    data = bytearray(_valid(fmt, draw(st.integers(1, 4))))
    damage = draw(st.sampled_from(["cut", "flip", "drop_line", "double_line", "insert"]))
    if damage == "cut":
        del data[draw(st.integers(0, len(data) - 1)) :]
    elif damage == "flip":
        for _ in range(draw(st.integers(1, 5))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif damage == "insert":
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=20))
    else:
        lines = bytes(data).split(b"\n")
        index = draw(st.integers(0, len(lines) - 1))
        lines[index:index] = [lines[index]] if damage == "double_line" else []
        if damage == "drop_line":
            del lines[index]
        data = bytearray(b"\n".join(lines))
    return bytes(data)


@given(fmt=st.sampled_from(list(BatchFormat)), data=st.binary(max_size=2_000))
def test_a_reader_yields_records_or_refuses_the_whole_batch(fmt: BatchFormat, data: bytes) -> None:
    refused: str | None = None
    try:
        records = list(read_records(io.BytesIO(data), fmt, max_json_records=100))
    except BatchFormatError as exc:
        refused, records = str(exc), []
    assert refused is None or refused  # a refusal says why
    for line, number, fields in records:
        assert line is None or line >= 1
        assert number >= 1
        assert isinstance(fields, (str, dict)) or hasattr(fields, "keys")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fmt=st.sampled_from([BatchFormat.CSV, BatchFormat.NDJSON]), data=st.data())
def test_a_damaged_batch_is_accepted_whole_or_refused_whole_with_the_reason(
    client: TestClient, session: Session, token: str, fmt: BatchFormat, data: st.DataObject
) -> None:
    content = data.draw(damaged(fmt))
    before = session.execute(text("SELECT count(*) FROM payments")).scalar_one()
    response = client.post(
        "/api/v1/payment-batches",
        content=content,
        headers={"Authorization": f"Bearer {token}", "Content-Type": CONTENT_TYPES[fmt]},
    )
    assert response.status_code in (200, 201, 413, 415, 422), response.text
    answer = response.json()
    after = session.execute(text("SELECT count(*) FROM payments")).scalar_one()
    if response.status_code in (200, 201):
        assert answer["status"] == "accepted"
        assert after - before == answer["registered"]
    else:
        assert after == before  # nothing of a refused batch is kept
        assert answer.get("errors") or answer.get("detail")  # it says what and where
