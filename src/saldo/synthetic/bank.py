"""A synthetic bank for the demo, the tests and the benchmarks: it reads Saldo's pain.001 files as a
bank would (schema-validated) and answers them — a pain.002 status report that rejects a few
transfers with realistic reason codes, and a camt.054 debit notification that books the rest in
one batch debit per payment-information block, with a few of them coming back as returns.

Which transfers are rejected or returned follows from the seed and the end-to-end id alone, so the
same file always gets the same answers."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from saldo.iso20022.camt import NotifiedEntry, NotifiedTransaction, write_debit_credit_notification
from saldo.iso20022.pain001 import read_credit_transfers
from saldo.iso20022.pain002 import ReportedTransaction, write_status_report
from saldo.kit.account_number import AccountScheme
from saldo.kit.money import from_decimal_text

# Why banks refuse or send back benefit payments, most common first (Nordic payout experience:
# closed and wrong accounts dominate; deaths after the decision are the classic return).
REJECT_REASONS = ("AC04", "AC01", "AC06", "BE01")
RETURN_REASONS = ("MD07", "AC04", "AC06")


@dataclass(frozen=True, slots=True)
class BankAnswers:
    status_report: Path
    notification: Path
    transfers: int
    rejected: int
    returned: int


def _draw(seed: int, end_to_end_id: str) -> float:
    digest = hashlib.blake2b(f"{seed}:{end_to_end_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def answer_payment_file(
    pain001: Path,
    out_dir: Path,
    *,
    seed: int = 0,
    reject_rate: float = 0.002,
    return_rate: float = 0.001,
    report_accepted: bool = False,
    booking_date: dt.date | None = None,
    created_at: dt.datetime | None = None,
) -> BankAnswers:
    """Write the bank's pain.002 and camt.054 for one pain.001 file into ``out_dir``.
    ``report_accepted`` lists every transfer in the pain.002 (ACCP or RJCT), not only the refused."""
    statuses: dict[str, list[ReportedTransaction]] = defaultdict(list)
    debits: dict[str, list[NotifiedTransaction]] = defaultdict(list)
    returns: list[NotifiedTransaction] = []
    message_id = debtor_account = execution_date = ""
    transfers = 0
    for transfer in read_credit_transfers(pain001):
        transfers += 1
        message_id, debtor_account, execution_date = (
            transfer.message_id,
            transfer.debtor_account,
            transfer.execution_date,
        )
        draw = _draw(seed, transfer.end_to_end_id)
        if draw < reject_rate:
            reason = REJECT_REASONS[int(draw * 1e9) % len(REJECT_REASONS)]
            statuses[transfer.payment_information_id].append(
                ReportedTransaction(transfer.end_to_end_id, "RJCT", reason)
            )
            continue
        if report_accepted:
            statuses[transfer.payment_information_id].append(ReportedTransaction(transfer.end_to_end_id, "ACCP"))
        amount = from_decimal_text(transfer.amount, transfer.currency)
        paid = NotifiedTransaction(transfer.end_to_end_id, amount, transfer.currency)
        debits[transfer.payment_information_id].append(paid)
        if draw > 1 - return_rate:
            reason = RETURN_REASONS[int(draw * 1e9) % len(RETURN_REASONS)]
            returns.append(NotifiedTransaction(transfer.end_to_end_id, amount, transfer.currency, reason))
    created = created_at or dt.datetime.now(dt.UTC)
    booked = booking_date or (dt.date.fromisoformat(execution_date) if execution_date else created.date())
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / f"{message_id}.pain002.xml"
    rejected = sum(1 for block in statuses.values() for s in block if s.status == "RJCT")
    with report.open("wb") as out:
        write_status_report(
            out,
            message_id=f"ST-{message_id}"[:35],
            created_at=created,
            original_message_id=message_id,
            group_status="PART" if rejected else "ACCP",
            blocks=statuses.items(),
        )
    notification = out_dir / f"{message_id}.camt054.xml"
    scheme = AccountScheme.IBAN if debtor_account[:2].isalpha() else AccountScheme.SE_BANKGIRO
    entries = [NotifiedEntry(booked, txs) for txs in debits.values()]
    entries += [NotifiedEntry(booked + dt.timedelta(days=3), [r]) for r in returns]
    with notification.open("wb") as out:
        write_debit_credit_notification(
            out,
            message_id=f"NT-{message_id}"[:35],
            created_at=created,
            account_scheme=scheme,
            account_number=debtor_account,
            entries=entries,
        )
    return BankAnswers(report, notification, transfers, rejected, len(returns))
