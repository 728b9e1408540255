"""The payment archive (decision 0035): a month's payments, once out of the payment runs' hands and
settled for two months, leave the payments table for their persons' year rows and the payers' keys,
in one transaction — whole or not at all, and a month archived again moves only what came since.

A late change to an archived payment (a bank's return after settlement, a report withdrawn) brings
it back into the table first, in the change's own transaction (:func:`bring_back`)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from saldo.db.engine import unit_of_work
from saldo.kit.crash_points import reach
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


def bring_back(session: Session, payment_ids: Sequence[int], *, payer_id: int | None = None) -> list[int]:
    """Bring archived payments (of ``payer_id``, if given) back into the table, for a late change to
    them in the caller's transaction; the ids brought back. Ids not archived are left alone."""
    return ArchiveRepository(session).restore(payment_ids, payer_id=payer_id)


@dataclass(frozen=True, slots=True)
class ArchivedMonth:
    month: dt.date
    payments: int
    seconds: float


def archivable_months(session: Session, *, today: dt.date) -> list[dt.date]:
    """Every month with payments that may be archived today, oldest first: from the month of the
    oldest archivable payment in the table to the last month settled for two months."""
    oldest = ArchiveRepository(session).oldest_archivable_due_date()
    last = _month_after(today.replace(day=1), -(1 + SETTLED_MONTHS))
    months, month = [], None if oldest is None else oldest.replace(day=1)
    while month is not None and month <= last:
        months.append(month)
        month = _month_after(month)
    return months


def archive_settled(
    sessions: sessionmaker[Session], *, today: dt.date, through: dt.date | None = None
) -> list[ArchivedMonth]:
    """Archive every month that may be archived today (up to ``through``, if given), each month in a
    transaction of its own: a run stopped part way leaves whole months archived, and running it
    again archives what is left. After each month the year rows are vacuumed, so that a run over
    many months (the first, or one after a pause) does not keep a version of each for every month:
    eight months of the 0.98 M year left them about three times their compact size, 4.7 without.
    The archive's monthly job, and ``saldo payments archive``."""
    with sessions() as session:
        months = archivable_months(session, today=today)
    done = []
    for month in months:
        if through is not None and month > through:
            break
        began = time.perf_counter()
        with unit_of_work(sessions) as session:
            moved = archive_month(session, month, today=today)
            reach("archive.moved")  # the month moved in its transaction, not committed
        reach("archive.month")  # the month committed, the next not begun
        with sessions() as session:
            ArchiveRepository(session).reclaim_year_rows()
        done.append(ArchivedMonth(month, moved, time.perf_counter() - began))
    return done
