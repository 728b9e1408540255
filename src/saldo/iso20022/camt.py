"""``camt.054.001.08`` debit/credit notifications and ``camt.053.001.08`` statements: reading the
entries on a debtor account as a stream, and writing a notification (for the synthetic bank).

Both carry the same entry structure (ReportEntry10). Each booked entry's transaction details name
the end-to-end id Saldo gave the payment; a debit means the money left for the payee, a credit
with return information means it came back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from saldo.iso20022.messages import MessageType
from saldo.iso20022.pain001 import account_xml, escape
from saldo.iso20022.validate import MessageError, expect_message, iter_elements, line_of
from saldo.kit.account_number import AccountScheme
from saldo.kit.money import to_decimal_text

_ROOTS = {MessageType.CAMT_054: ("BkToCstmrDbtCdtNtfctn", "Ntfctn"), MessageType.CAMT_053: ("BkToCstmrStmt", "Stmt")}


@dataclass(frozen=True, slots=True)
class AccountReport:
    message_id: str
    account_iban: str | None
    account_other: str | None  # Othr/Id: a BBAN or Bankgiro number


@dataclass(frozen=True, slots=True)
class EntryTransaction:
    line: int
    end_to_end_id: str | None
    amount: str | None
    currency: str | None
    debit: bool  # CdtDbtInd of the transaction (or of its entry)
    booked: bool  # the entry's status is BOOK
    reversal: bool
    return_reason: str | None  # RtrInf/Rsn/Cd: the money came back
    account: AccountReport | None = None  # the notification or statement it is reported in


def _qualify(namespace: str, path: str) -> str:
    return "/".join(f"{{{namespace}}}{part}" for part in path.split("/"))


def read_account_report(path: Path, message: MessageType) -> tuple[AccountReport, Iterator[EntryTransaction]]:
    """The notification's or statement's account, and the transactions of its entries in order.
    The file is schema-validated while it is read; apply nothing until the iterator is exhausted."""
    if message not in _ROOTS:
        raise ValueError(f"{message.value} is not an account report")
    expect_message(path, message)
    ns = message.namespace

    def child_text(element: etree._Element, sub: str) -> str | None:
        found = element.find(_qualify(ns, sub))
        return found.text.strip() if found is not None and found.text else None

    elements = iter_elements(path, message, ("GrpHdr", "Acct", "TxDtls", "Ntry"))
    message_id = ""
    report: AccountReport | None = None
    for element in elements:
        tag = etree.QName(element).localname
        if tag == "GrpHdr":
            message_id = child_text(element, "MsgId") or ""
        elif tag == "Acct":
            report = AccountReport(
                message_id=message_id,
                account_iban=child_text(element, "Id/IBAN"),
                account_other=child_text(element, "Id/Othr/Id"),
            )
            break
    if report is None:
        raise MessageError(f"the {message.value} names no account (Acct)")
    return report, _transactions(elements, message, report)


@dataclass(frozen=True, slots=True)
class _EntryHead:
    """What an entry says before its details: read once per entry, shared by its transactions."""

    line: int
    amount: str | None
    currency: str | None
    debit: bool
    booked: bool
    reversal: bool


def _transactions(
    elements: Iterator[etree._Element], message: MessageType, first: AccountReport
) -> Iterator[EntryTransaction]:
    """Each transaction detail as soon as it is read, so memory stays flat even for one batch entry
    of a million transactions (the reader drops each detail behind it). The entry's own fields come
    before its details in the document, so they are known when the first detail arrives. A message
    may hold several notifications or statements (ISO 20022 allows any number, for one account or
    several): each transaction names the one it is in."""
    ns = message.namespace

    def child_text(element: etree._Element, sub: str) -> str | None:
        found = element.find(_qualify(ns, sub))
        return found.text.strip() if found is not None and found.text else None

    def head_of(entry: etree._Element) -> _EntryHead:
        amount = entry.find(_qualify(ns, "Amt"))
        return _EntryHead(
            line=line_of(entry),
            amount=amount.text.strip() if amount is not None and amount.text else None,
            currency=amount.get("Ccy") if amount is not None else None,
            debit=child_text(entry, "CdtDbtInd") == "DBIT",
            booked=child_text(entry, "Sts/Cd") == "BOOK",
            reversal=child_text(entry, "RvslInd") == "true",
        )

    account = first
    entry: etree._Element | None = None
    head: _EntryHead | None = None
    seen = 0  # details of the current entry
    amountless: list[EntryTransaction] = []  # take the entry's amount if they are its only detail
    for element in elements:
        tag = etree.QName(element).localname
        if tag == "Acct":
            parent = element.getparent()
            if parent is not None and etree.QName(parent).localname == _ROOTS[message][1]:
                account = AccountReport(
                    message_id=first.message_id,
                    account_iban=child_text(element, "Id/IBAN"),
                    account_other=child_text(element, "Id/Othr/Id"),
                )
        elif tag == "TxDtls":
            details = element.getparent()
            owner = details.getparent() if details is not None else None
            if owner is None:
                continue
            if owner is not entry:
                entry, head, seen = owner, head_of(owner), 0
            assert head is not None
            seen += 1
            tx = _detail(element, head, child_text, account)
            if tx.amount is None:
                amountless.append(tx)
            else:
                yield tx
        elif tag == "Ntry":
            own = head if element is entry and head is not None else head_of(element)
            if seen == 0:
                yield EntryTransaction(
                    own.line, None, own.amount, own.currency, own.debit, own.booked, own.reversal, None, account
                )
            for tx in amountless:
                single = seen == 1
                yield replace(tx, amount=own.amount if single else None, currency=own.currency if single else None)
            entry, head, seen, amountless = None, None, 0, []


def _detail(
    tx: etree._Element,
    head: _EntryHead,
    child_text: Callable[[etree._Element, str], str | None],
    account: AccountReport,
) -> EntryTransaction:
    ns = etree.QName(tx).namespace or ""
    amount = tx.find(_qualify(ns, "Amt"))
    if amount is None:
        amount = tx.find(_qualify(ns, "AmtDtls/TxAmt/Amt"))
    indicator = child_text(tx, "CdtDbtInd")
    return EntryTransaction(
        line=line_of(tx) or head.line,
        end_to_end_id=child_text(tx, "Refs/EndToEndId"),
        amount=amount.text.strip() if amount is not None and amount.text else None,
        currency=amount.get("Ccy") if amount is not None else None,
        debit=(indicator == "DBIT") if indicator else head.debit,
        booked=head.booked,
        reversal=head.reversal,
        return_reason=child_text(tx, "RtrInf/Rsn/Cd") or child_text(tx, "RtrInf/Rsn/Prtry"),
        account=account,
    )


@dataclass(frozen=True, slots=True)
class NotifiedTransaction:
    end_to_end_id: str
    amount_minor: int
    currency: str
    return_reason: str | None = None  # None: the debit was booked; a code: the money came back


@dataclass(frozen=True, slots=True)
class NotifiedEntry:
    """One booked entry: a batch debit of several transactions, or a single return credit."""

    booking_date: dt.date
    transactions: list[NotifiedTransaction]


def write_debit_credit_notification(
    out: BinaryIO,
    *,
    message_id: str,
    created_at: dt.datetime,
    account_scheme: AccountScheme,
    account_number: str,
    entries: Iterable[NotifiedEntry],
) -> None:
    """Write a camt.054.001.08 for one account: debits for paid transactions (batch-booked entries
    with their details), credits with return information for money that came back."""
    message = MessageType.CAMT_054
    created = created_at.astimezone(dt.UTC).isoformat(timespec="seconds")
    account, _ = account_xml(account_scheme, account_number)
    out.write(
        (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{message.namespace}">\n<BkToCstmrDbtCdtNtfctn>\n'
            f"<GrpHdr><MsgId>{escape(message_id)}</MsgId><CreDtTm>{created}</CreDtTm></GrpHdr>\n"
            f"<Ntfctn><Id>{escape(message_id)}</Id><Acct>{account}</Acct>\n"
        ).encode()
    )
    for entry in entries:
        if not entry.transactions:
            continue
        currency = entry.transactions[0].currency
        total = sum(t.amount_minor for t in entry.transactions)
        returned = entry.transactions[0].return_reason is not None
        indicator = "CRDT" if returned else "DBIT"
        family = "RRTN" if returned else "ESCT"
        parts = [
            f'<Ntry><Amt Ccy="{currency}">{to_decimal_text(total, currency)}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{entry.booking_date.isoformat()}</Dt></BookgDt>"
            f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>{family}</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls><Btch><NbOfTxs>{len(entry.transactions)}</NbOfTxs></Btch>\n"
        ]
        for t in entry.transactions:
            why = f"<RtrInf><Rsn><Cd>{t.return_reason}</Cd></Rsn></RtrInf>" if t.return_reason else ""
            parts.append(
                f"<TxDtls><Refs><EndToEndId>{escape(t.end_to_end_id)}</EndToEndId></Refs>"
                f'<Amt Ccy="{t.currency}">{to_decimal_text(t.amount_minor, t.currency)}</Amt>'
                f"<CdtDbtInd>{indicator}</CdtDbtInd>{why}</TxDtls>\n"
            )
        parts.append("</NtryDtls></Ntry>\n")
        out.write("".join(parts).encode())
    out.write(b"</Ntfctn>\n</BkToCstmrDbtCdtNtfctn>\n</Document>\n")
