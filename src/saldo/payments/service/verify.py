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


@dataclass(frozen=True, slots=True)
class CheckSummary:
    checked: int
    verified: int
    held: dict[AccountCheck, int]  # failed checks by reason
    moved: int  # payments whose status changed


def check_payment_accounts(
    session: Session, *, payer_id: int | None = None, batch_id: int | None = None, on: dt.date | None = None
) -> CheckSummary:
    """Check every registered payment (and every payment held by an earlier failed check) in one
    set-based statement; optionally only one payer's or one batch's."""
    reasons = {check.value: f"account check: {check.explanation}" for check in AccountCheck}
    results = PaymentRepository(session).check_accounts(
        on=on or today(), payer_id=payer_id, batch_id=batch_id, actor=CHECK_ACTOR, reasons=reasons
    )
    by_check = {AccountCheck(code): n for code, n in results.counts.items()}
    held: dict[AccountCheck, int] = {c: n for c, n in by_check.items() if c is not AccountCheck.PASSED}
    return CheckSummary(
        checked=sum(by_check.values()),
        verified=by_check.get(AccountCheck.PASSED, 0),
        held=held,
        moved=results.moved,
    )
