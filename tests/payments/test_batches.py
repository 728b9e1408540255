"""Registering batches: all or nothing, every bad record reported, idempotent re-sends."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saldo.payees.models import Payee
from saldo.payments.models import Payment
from tests.factories import CSV_HEADER, auth, csv_file, csv_line, payment_body

CSV = {"Content-Type": "text/csv"}
NDJSON = {"Content-Type": "application/x-ndjson"}


def post(client: TestClient, token: str, content: str | bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/payment-batches", content=content, headers={**auth(token), **headers})


def stored_payments(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Payment)) or 0)


class TestAcceptedBatch:
    @pytest.mark.parametrize("fmt", ["csv", "ndjson", "json"])
    def test_every_payment_is_registered(self, client: TestClient, token: str, session: Session, fmt: str) -> None:
        bodies = [payment_body(payee_id=pnr) for pnr in ("198112289874", "194907131843", "197010632391")]
        bodies[2]["payee_scheme"] = "se_samordningsnummer"
        if fmt == "csv":
            response = post(client, token, csv_file(bodies), CSV)
        elif fmt == "ndjson":
            response = post(client, token, "\n".join(json.dumps(b) for b in bodies), NDJSON)
        else:
            response = client.post("/api/v1/payment-batches", json={"payments": bodies}, headers=auth(token))
        assert response.status_code == 201, response.json()
        assert response.json() | {"batch_id": 0} == {
            "status": "accepted",
            "batch_id": 0,
            "records": 3,
            "registered": 3,
            "already_registered": 0,
            "replayed": False,
            "visible": True,
        }
        listed = client.get(f"/api/v1/payments?batch_id={response.json()['batch_id']}", headers=auth(token)).json()
        assert sorted(p["reference"] for p in listed["items"]) == sorted(str(b["reference"]) for b in bodies)

    def test_large_csv_takes_the_columnar_path_and_keeps_every_row(
        self, client: TestClient, token: str, session: Session
    ) -> None:
        bodies = [payment_body(amount_minor=100 + i) for i in range(2_000)]
        bodies[700]["payee_id"] = "19811228-9874"  # not canonical: the record validator takes this row
        response = post(client, token, csv_file(bodies), CSV)
        assert response.status_code == 201, response.json()
        assert response.json()["registered"] == 2_000
        total = session.scalar(select(func.sum(Payment.amount_minor)))
        assert total == sum(100 + i for i in range(2_000))

    def test_semicolon_separated_csv_from_a_nordic_spreadsheet_is_read(self, client: TestClient, token: str) -> None:
        body = payment_body()
        content = CSV_HEADER.replace(",", ";") + "\n" + ";".join(str(v) for v in body.values()) + "\n"
        assert post(client, token, content, CSV).status_code == 201

    def test_optional_remittance_column_may_be_left_out(self, client: TestClient, token: str) -> None:
        body = payment_body()
        body.pop("remittance_info")
        content = ",".join(body) + "\n" + csv_line(body) + "\n"
        assert post(client, token, content, CSV).status_code == 201


class TestIdempotency:
    def test_resent_batch_returns_the_first_result(self, client: TestClient, token: str, session: Session) -> None:
        content = csv_file([payment_body(), payment_body()])
        first = post(client, token, content, CSV)
        again = post(client, token, content, CSV)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == {**first.json(), "replayed": True}
        assert stored_payments(session) == 2

    def test_partly_resent_batch_registers_only_the_new_payments(
        self, client: TestClient, token: str, session: Session
    ) -> None:
        old, new = payment_body(), payment_body()
        post(client, token, csv_file([old]), CSV)
        response = post(client, token, csv_file([old, new]), CSV)
        assert response.status_code == 201
        assert (response.json()["registered"], response.json()["already_registered"]) == (1, 1)
        assert stored_payments(session) == 2

    def test_reference_reused_for_other_content_rejects_the_batch(
        self, client: TestClient, token: str, session: Session
    ) -> None:
        old = payment_body()
        post(client, token, csv_file([old]), CSV)
        response = post(client, token, csv_file([payment_body(), {**old, "amount_minor": 1}]), CSV)
        assert response.status_code == 422
        error = response.json()["errors"][0]
        assert (error["line"], error["field"]) == (3, "reference")
        assert "already used by payment" in error["reason"]
        assert stored_payments(session) == 1

    def test_reference_twice_in_one_file_is_reported_with_both_lines(self, client: TestClient, token: str) -> None:
        twice = payment_body()
        response = post(client, token, csv_file([twice, payment_body(), twice]), CSV)
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {
                "line": 4,
                "record": None,
                "field": "reference",
                "reason": f"reference '{twice['reference']}' also on line 2",
            }
        ]


class TestRejectedBatch:
    def test_every_bad_record_is_reported_and_nothing_is_stored(
        self, client: TestClient, token: str, session: Session
    ) -> None:
        bodies = [payment_body() for _ in range(5)]
        bodies[1]["payee_id"] = "198112289875"
        bodies[3]["amount_minor"] = "12.50"
        bodies[3]["due_date"] = "2026-02-30"
        payees_before = session.scalar(select(func.count()).select_from(Payee))
        response = post(client, token, csv_file(bodies), CSV)
        assert response.status_code == 422
        report = response.json()
        assert report["status"] == "rejected"
        assert report["errors_total"] == 3
        assert [(e["line"], e["record"], e["field"]) for e in report["errors"]] == [
            (3, 2, "payee_id"),
            (5, 4, "amount_minor"),
            (5, 4, "due_date"),
        ]
        assert stored_payments(session) == 0
        assert session.scalar(select(func.count()).select_from(Payee)) == payees_before

    def test_report_lists_at_most_the_configured_number(self, client: TestClient, token: str, app: FastAPI) -> None:
        app.state.settings = app.state.settings.model_copy(update={"max_reported_errors": 10})
        response = post(client, token, csv_file([payment_body(amount_minor=0) for _ in range(30)]), CSV)
        report = response.json()
        assert (report["errors_total"], len(report["errors"]), report["truncated"]) == (30, 10, True)

    @pytest.mark.parametrize(
        ("content", "line", "reason"),
        [
            ("", None, "empty"),
            ("reference,amount_minor\nx,1\n", 1, "missing column"),
            (CSV_HEADER + ",colour\n", 1, "unknown column"),
            (CSV_HEADER + "\na,b\n", 2, "expected 14 fields as in the header, found 2"),
            (CSV_HEADER + '\n"unterminated,1\n', 2, "malformed CSV: unexpected end of data"),
            ("reference\r,payee_id\n", 1, "malformed CSV header"),
        ],
    )
    def test_unreadable_csv_is_named(
        self, client: TestClient, token: str, content: str, line: int | None, reason: str
    ) -> None:
        response = post(client, token, content, CSV)
        assert response.status_code == 422
        body = response.json()
        if line is None:  # nothing to read at all: an error about the request
            assert reason in body["detail"]
        else:  # a rejection report that names the line
            assert body["status"] == "rejected"
            assert body["errors"][0]["line"] == line
            assert reason in body["errors"][0]["reason"]

    def test_ndjson_line_that_is_not_json_is_named(self, client: TestClient, token: str) -> None:
        content = json.dumps(payment_body()) + "\n{not json}\n" + json.dumps(payment_body()) + "\n"
        report = post(client, token, content, NDJSON).json()
        assert report["errors"][0]["line"] == 2
        assert report["errors"][0]["reason"].startswith("not valid JSON")

    def test_not_utf8_is_named(self, client: TestClient, token: str) -> None:
        content = (CSV_HEADER + "\n").encode() + csv_line(payment_body(payee_name="Åsa")).encode("latin-1") + b"\n"
        report = post(client, token, content, CSV).json()
        assert "UTF-8" in report["errors"][0]["reason"]

    def test_json_batch_must_be_a_list_of_objects(self, client: TestClient, token: str) -> None:
        response = client.post("/api/v1/payment-batches", json={"payment": []}, headers=auth(token))
        assert response.status_code == 422
        assert "array of payments" in response.json()["errors"][0]["reason"]

    def test_batch_over_the_size_limit_is_refused(
        self, client: TestClient, token: str, app: FastAPI, session: Session
    ) -> None:
        app.state.settings = app.state.settings.model_copy(update={"max_upload_bytes": 4096})
        response = post(client, token, csv_file([payment_body() for _ in range(30)]), CSV)
        assert response.status_code == 413
        assert "limit is 4096" in response.json()["detail"]
        assert stored_payments(session) == 0

    def test_unknown_media_type_is_refused(self, client: TestClient, token: str) -> None:
        assert post(client, token, "x", {"Content-Type": "application/xml"}).status_code == 415


def test_bad_utf8_in_a_csv_batch_is_reported_on_its_line(client: TestClient, token: str) -> None:
    lines = csv_file([payment_body(), payment_body(), payment_body()]).encode().split(b"\n")
    lines[3] = lines[3].replace(b"Anna", b"\xffnna")
    response = client.post(
        "/api/v1/payment-batches", content=b"\n".join(lines), headers={**auth(token), "Content-Type": "text/csv"}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"line": 4, "record": None, "field": None, "reason": "not UTF-8 text at byte 43 (save the file as UTF-8)"}
    ]
