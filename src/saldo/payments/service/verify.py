"""The pre-payment check: before a payment is scheduled, its destination account is checked against
the account register. It must be known, open until the payment is due, held by the payee, and the
payee's designated account where one is designated. A payment that passes becomes verified; one
that fails is held with the reason, which its payer sees. Held payments are checked again each run,
so a corrected register or a new designation releases them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from saldo.kit.clock import today
from saldo.payments.models import AccountCheck
from saldo.payments.repository import PaymentRepository

CHECK_ACTOR = "system:account-check"


ALL_IDS = (0, 2**63 - 1)


@dataclass(frozen=True, slots=True)
class CheckSummary:
    checked: int
    verified: int
    held: dict[AccountCheck, int]  # failed checks by reason
    moved: int  # payments whose status changed

    @classmethod
    def combine(cls, parts: list[CheckSummary]) -> CheckSummary:
        """One summary for a check run in several parts."""
        held: dict[AccountCheck, int] = {}
        for part in parts:
            for code, n in part.held.items():
                held[code] = held.get(code, 0) + n
        return cls(
            checked=sum(p.checked for p in parts),
            verified=sum(p.verified for p in parts),
            held=held,
            moved=sum(p.moved for p in parts),
        )


def plan_account_check(
    session: Session, *, payer_id: int | None = None, batch_id: int | None = None, chunk_ids: int
) -> list[tuple[int, int]]:
    """Id ranges (inclusive) that together cover every payment the check would look at, each
    spanning at most ``chunk_ids`` ids, so a large check runs in parts that can go in parallel. A
    batch's payments are looked for in the range of ids it recorded (decision 0037)."""
    repository = PaymentRepository(session)
    ids = ALL_IDS
    if batch_id is not None:
        batch = repository.batch(batch_id)
        if batch is None:
            return []
        if batch.ids_from is not None and batch.ids_to is not None:
            ids = (batch.ids_from, batch.ids_to)
    found = repository.check_range(payer_id=payer_id, batch_id=batch_id, ids=ids)
    if found is None:
        return []
    low, high, _ = found
    return [(start, min(start + chunk_ids - 1, high)) for start in range(low, high + 1, chunk_ids)]


def check_payment_accounts(
    session: Session,
    *,
    payer_id: int | None = None,
    batch_id: int | None = None,
    on: dt.date | None = None,
    ids: tuple[int, int] = ALL_IDS,
) -> CheckSummary:
    """Check every registered payment (and every payment held by an earlier failed check) in one
    set-based statement; optionally only one payer's, one batch's, or a range of ids."""
    reasons = {check.value: f"account check: {check.explanation}" for check in AccountCheck}
    results = PaymentRepository(session).check_accounts(
        on=on or today(), payer_id=payer_id, batch_id=batch_id, ids=ids, actor=CHECK_ACTOR, reasons=reasons
    )
    by_check = {AccountCheck(code): n for code, n in results.counts.items()}
    held: dict[AccountCheck, int] = {c: n for c, n in by_check.items() if c is not AccountCheck.PASSED}
    return CheckSummary(
        checked=sum(by_check.values()),
        verified=by_check.get(AccountCheck.PASSED, 0),
        held=held,
        moved=results.moved,
    )
