"""A bank file cut short — its last bytes missing, or cut anywhere in the middle — is refused whole:
the reader never hands out what arrived before the cut as if it were the whole message."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from saldo.iso20022.camt import NotifiedEntry, NotifiedTransaction, read_account_report, write_debit_credit_notification
from saldo.iso20022.messages import MessageType
from saldo.iso20022.pain002 import ReportedTransaction, read_status_report, write_status_report
from saldo.iso20022.validate import MessageError
from saldo.kit.account_number import AccountScheme
from tests.factories import VALID_BANKGIRO

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def pain002() -> bytes:
    out = io.BytesIO()
    rows = [ReportedTransaction(str(n), "RJCT", "AC04") for n in range(1, 6)]
    write_status_report(
        out,
        message_id="ST-1",
        created_at=NOW,
        original_message_id="SALDO-R1-F1",
        group_status="PART",
        blocks=[("B", rows)],
    )
    return out.getvalue()


def camt054() -> bytes:
    out = io.BytesIO()
    entries = [
        NotifiedEntry(NOW.date(), [NotifiedTransaction(str(n), 100 * n, "SEK") for n in range(k, k + 2)])
        for k in (1, 3, 5)
    ]
    write_debit_credit_notification(
        out,
        message_id="NT-1",
        created_at=NOW,
        account_scheme=AccountScheme.SE_BANKGIRO,
        account_number=VALID_BANKGIRO,
        entries=entries,
    )
    return out.getvalue()


def read_all(path: Path, message: MessageType) -> None:
    if message is MessageType.PAIN_002:
        _, statuses = read_status_report(path)
        list(statuses)
    else:
        _, transactions = read_account_report(path, message)
        list(transactions)


@pytest.mark.parametrize(("make", "message"), [(pain002, MessageType.PAIN_002), (camt054, MessageType.CAMT_054)])
def test_a_file_cut_at_any_byte_is_refused(tmp_path: Path, make: object, message: MessageType) -> None:
    whole = make()  # type: ignore[operator]
    path = tmp_path / "answer.xml"
    path.write_bytes(whole)
    read_all(path, message)  # the whole file reads
    end = whole.rindex(b"</Document>") + len(b"</Document>")
    for cut in range(1, end):
        path.write_bytes(whole[:cut])
        with pytest.raises(MessageError):
            read_all(path, message)
