"""Today's date where the payments are made. A due date is a Swedish banking day, so 'today' is the
date in Stockholm, not on the server's clock (which runs in UTC in production)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PAYMENT_ZONE = ZoneInfo("Europe/Stockholm")


def today() -> dt.date:
    """The current date in Stockholm."""
    return dt.datetime.now(PAYMENT_ZONE).date()


def utcnow() -> dt.datetime:
    """The current moment, timezone-aware in UTC (how every timestamp is stored)."""
    return dt.datetime.now(dt.UTC)
