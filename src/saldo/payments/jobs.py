"""Background work of the payments domain. Jobs own their transactions: they commit what they do."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session, sessionmaker

from saldo.db.engine import unit_of_work
from saldo.payments.service.verify import CheckSummary, check_payment_accounts, plan_account_check

# Half a million payments per transaction: each part commits in seconds, and a check interrupted
# part-way leaves whole parts done (the rerun takes only what is still registered).
CHECK_CHUNK_IDS = 500_000


def run_account_check(
    sessions: sessionmaker[Session],
    *,
    payer_id: int | None = None,
    batch_id: int | None = None,
    on: dt.date | None = None,
    workers: int = 2,
    chunk_ids: int = CHECK_CHUNK_IDS,
) -> CheckSummary:
    """The pre-payment account check in parts of ``chunk_ids`` ids, ``workers`` parts at a time, each
    in its own transaction. Idempotent: running it again checks only what is still to check."""
    with sessions() as session:
        ranges = plan_account_check(session, payer_id=payer_id, batch_id=batch_id, chunk_ids=chunk_ids)

    def check(ids: tuple[int, int]) -> CheckSummary:
        with unit_of_work(sessions) as session:
            return check_payment_accounts(session, payer_id=payer_id, batch_id=batch_id, on=on, ids=ids)

    if workers <= 1 or len(ranges) <= 1:
        return CheckSummary.combine([check(r) for r in ranges])
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="account-check") as pool:
        return CheckSummary.combine(list(pool.map(check, ranges)))
