"""The payment archive (decision 0035): a month's payments, once out of the payment runs' hands and
settled for two months, leave the payments table for their persons' year rows and the payers' keys,
in one transaction — whole or not at all, and a month archived again moves only what came since.

Not on any schedule yet: the archive is switched on once registration checks a reference against
the archived keys too, and a late change to an archived payment (a bank's return after settlement)
brings the payment back first. Until then nothing calls :func:`archive_month` but the tests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from saldo.payments.repository import ArchiveRepository

# How long a month's payments stay in the table after the month ends: most late returns arrive
# within it, and a change to an archived payment costs a move back.
SETTLED_MONTHS = 2


def _month_after(month: dt.date, months: int = 1) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def archivable_from(month: dt.date) -> dt.date:
    """The first day the payments due in ``month`` may be archived."""
    return _month_after(month.replace(day=1), 1 + SETTLED_MONTHS)


def archive_month(session: Session, month: dt.date, *, today: dt.date) -> int:
    """Archive the payments due in ``month`` that are archivable (settled, returned, rejected,
    cancelled or reported); how many moved. A month not yet settled for two months is refused."""
    start = month.replace(day=1)
    if today < archivable_from(start):
        raise ValueError(
            f"the payments due in {start:%Y-%m} may be archived from {archivable_from(start).isoformat()}, "
            f"not on {today.isoformat()}"
        )
    return ArchiveRepository(session).archive(start, _month_after(start))
