"""``pain.002.001.10`` customer payment status reports: reading a bank's answer to a pain.001 file
as a stream, and writing one (the synthetic bank of the demo and the tests writes them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from saldo.iso20022.messages import MessageType
from saldo.iso20022.pain001 import escape
from saldo.iso20022.validate import MessageError, expect_message, iter_elements, line_of

MESSAGE = MessageType.PAIN_002
_NS = f"{{{MESSAGE.namespace}}}"


@dataclass(frozen=True, slots=True)
class StatusHeader:
    message_id: str
    original_message_id: str
    original_message_type: str
    group_status: str | None
    group_reason: str | None


@dataclass(frozen=True, slots=True)
class BlockStatus:
    """A status for a whole payment-information block, reported without its transactions."""

    line: int
    payment_information_id: str
    status: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class TransactionStatus:
    line: int
    end_to_end_id: str | None
    status: str | None
    reason: str | None
    amount: str | None  # OrgnlTxRef/Amt/InstdAmt, when the bank repeats it
    currency: str | None
    block_status: str | None = None  # PmtInfSts of the block it is listed in
    block_reason: str | None = None


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(_qualify(path))
    return found.text.strip() if found is not None and found.text else None


def _qualify(path: str) -> str:
    return "/".join(f"{_NS}{part}" for part in path.split("/"))


def _reason(element: etree._Element) -> str | None:
    return _text(element, "StsRsnInf/Rsn/Cd") or _text(element, "StsRsnInf/Rsn/Prtry")


def read_status_report(path: Path) -> tuple[StatusHeader, Iterator[BlockStatus | TransactionStatus]]:
    """The report's header, and its block and transaction statuses in document order. The whole file
    is schema-validated while it is read: a caller applies nothing until the iterator is exhausted."""
    expect_message(path, MESSAGE)
    elements = iter_elements(path, MESSAGE, ("GrpHdr", "OrgnlGrpInfAndSts", "OrgnlPmtInfAndSts", "TxInfAndSts"))
    message_id: str | None = None
    header: StatusHeader | None = None
    for element in elements:
        tag = etree.QName(element).localname
        if tag == "GrpHdr":
            message_id = _text(element, "MsgId")
        elif tag == "OrgnlGrpInfAndSts":
            header = StatusHeader(
                message_id=message_id or "",
                original_message_id=_text(element, "OrgnlMsgId") or "",
                original_message_type=_text(element, "OrgnlMsgNmId") or "",
                group_status=_text(element, "GrpSts"),
                group_reason=_reason(element),
            )
            break
    if header is None:
        raise MessageError("the status report has no original group information (OrgnlGrpInfAndSts)")
    return header, _statuses(elements)


def _statuses(elements: Iterator[etree._Element]) -> Iterator[BlockStatus | TransactionStatus]:
    for element in elements:
        if etree.QName(element).localname == "TxInfAndSts":
            amount = element.find(_qualify("OrgnlTxRef/Amt/InstdAmt"))
            # the schema puts a block's own status before its transactions, so it is parsed by now
            block = element.getparent()
            yield TransactionStatus(
                line=line_of(element),
                end_to_end_id=_text(element, "OrgnlEndToEndId"),
                status=_text(element, "TxSts"),
                reason=_reason(element),
                amount=amount.text.strip() if amount is not None and amount.text else None,
                currency=amount.get("Ccy") if amount is not None else None,
                block_status=_text(block, "PmtInfSts") if block is not None else None,
                block_reason=_reason(block) if block is not None else None,
            )
        else:  # OrgnlPmtInfAndSts: its transactions came first (they are its children)
            status = _text(element, "PmtInfSts")
            if status:
                yield BlockStatus(
                    line=line_of(element),
                    payment_information_id=_text(element, "OrgnlPmtInfId") or "",
                    status=status,
                    reason=_reason(element),
                )


@dataclass(frozen=True, slots=True)
class ReportedTransaction:
    end_to_end_id: str
    status: str  # ACCP, RJCT, ...
    reason: str | None = None


def write_status_report(
    out: BinaryIO,
    *,
    message_id: str,
    created_at: dt.datetime,
    original_message_id: str,
    group_status: str | None,
    group_reason: str | None = None,
    blocks: Iterable[tuple[str, Iterable[ReportedTransaction]]] = (),
    block_statuses: Mapping[str, tuple[str, str | None]] | None = None,
) -> None:
    """Write a pain.002.001.10 answering one pain.001 message: a group status, and per payment-
    information block its transactions' statuses (and optionally a status for the block itself)."""
    created = created_at.astimezone(dt.UTC).isoformat(timespec="seconds")
    out.write(
        (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{MESSAGE.namespace}">\n<CstmrPmtStsRpt>\n'
            f"<GrpHdr><MsgId>{escape(message_id)}</MsgId><CreDtTm>{created}</CreDtTm></GrpHdr>\n"
            f"<OrgnlGrpInfAndSts><OrgnlMsgId>{escape(original_message_id)}</OrgnlMsgId>"
            f"<OrgnlMsgNmId>{MessageType.PAIN_001.value}</OrgnlMsgNmId>"
            f"{_status('GrpSts', group_status, group_reason)}</OrgnlGrpInfAndSts>\n"
        ).encode()
    )
    statuses = block_statuses or {}
    for block_id, transactions in blocks:
        own = statuses.get(block_id)
        head = _status("PmtInfSts", own[0], own[1]) if own else ""
        out.write(f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{escape(block_id)}</OrgnlPmtInfId>{head}\n".encode())
        chunk: list[str] = []
        for row in transactions:
            chunk.append(
                f"<TxInfAndSts><OrgnlEndToEndId>{escape(row.end_to_end_id)}</OrgnlEndToEndId>"
                f"{_status('TxSts', row.status, row.reason)}</TxInfAndSts>\n"
            )
            if len(chunk) == 2_000:
                out.write("".join(chunk).encode())
                chunk = []
        out.write("".join(chunk).encode())
        out.write(b"</OrgnlPmtInfAndSts>\n")
    out.write(b"</CstmrPmtStsRpt>\n</Document>\n")


def _status(tag: str, status: str | None, reason: str | None) -> str:
    if not status:
        return ""
    why = f"<StsRsnInf><Rsn><Cd>{reason}</Cd></Rsn></StsRsnInf>" if reason else ""
    return f"<{tag}>{status}</{tag}>{why}"
