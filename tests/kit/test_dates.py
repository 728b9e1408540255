"""Dates from outside are ISO calendar dates within bounds; nothing else becomes a date."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from saldo.kit.dates import IsoDate
from saldo.kit.national_id import IdScheme, InvalidIdentifierError, normalize_identifier
from tests.factories import auth, make_payer, make_token, payment_body

DATES = TypeAdapter(IsoDate)


@pytest.mark.parametrize(
    "value",
    [
        0,
        "0",
        1700000000,
        "1700000000",
        "20260105",
        "2026-01-05T00:00:00",
        "1900-01-01",
        "2100-01-01",
        "2026-02-30",
        "",
        None,
        2026.5,
    ],
)
def test_only_an_iso_date_within_bounds_is_a_date(value: object) -> None:
    with pytest.raises(ValidationError):
        DATES.validate_python(value)


def test_an_iso_date_is_read_as_itself() -> None:
    assert DATES.validate_python("2026-03-31") == dt.date(2026, 3, 31)
    assert DATES.validate_json('"1901-01-01"') == dt.date(1901, 1, 1)


def test_a_plus_sign_that_would_make_someone_older_than_anyone_living_is_refused() -> None:
    with pytest.raises(InvalidIdentifierError, match="marks a person over 100, so born 1882"):
        normalize_identifier(IdScheme.SE_PERSONNUMMER, "820322+7098")
    assert normalize_identifier(IdScheme.SE_PERSONNUMMER, "121212+1212") == "191212121212"  # 114 years: lawful


def test_the_api_refuses_a_number_for_a_date_in_a_body_and_a_filter(client: TestClient, session: Session) -> None:
    payer_token = make_token(session, make_payer(session))
    session.commit()
    posted = client.post("/api/v1/payments", json=payment_body(due_date=0), headers=auth(payer_token))
    assert posted.status_code == 422
    assert posted.json()["errors"][0]["reason"].startswith("a date is written YYYY-MM-DD")
    listed = client.get("/api/v1/payments", params={"due_to": "0"}, headers=auth(payer_token))
    assert listed.status_code == 422
    old = client.post("/api/v1/payments", json=payment_body(period_start="1900-01-01"), headers=auth(payer_token))
    assert old.status_code == 422
