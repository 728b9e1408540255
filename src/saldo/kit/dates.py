"""Dates as Saldo takes them from outside: ISO 8601 calendar dates (YYYY-MM-DD), within sensible
bounds. Pydantic alone would also read ``0`` or ``"1700000000"`` as seconds since 1970 and take
1900-01-01, a common stand-in for "unknown"; neither is a date anyone meant."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

EARLIEST = dt.date(1901, 1, 1)  # after 1900-01-01, the usual "no date" of older systems
LATEST = dt.date(2099, 12, 31)
_ISO = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_only(value: object) -> object:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO.match(value):
        return value
    raise ValueError("a date is written YYYY-MM-DD, e.g. 2026-03-31")


def _within_bounds(value: dt.date) -> dt.date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"a date between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_only), AfterValidator(_within_bounds)]
