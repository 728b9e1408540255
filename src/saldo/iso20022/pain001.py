"""Writing ``pain.001.001.09`` customer credit transfer initiations as a stream.

A file is written front to back without building a tree: the group header needs the number of
transactions and the control sum up front, so the caller passes them (it knows them from the
database), and each payment-information block is written from an iterator of transactions.
Memory therefore stays flat however many transactions a file holds. What Nordic banks ask for is
written: debtor and creditor names, the creditor's account as IBAN, Swedish BBAN with its clearing
number, or Bankgiro number, a structured postal address where one is known, the end-to-end id,
unstructured remittance information, the category purpose and the batch-booking choice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from saldo.iso20022.charset import REMITTANCE_MAX, fit_for_bank, fit_name
from saldo.iso20022.messages import MessageType
from saldo.iso20022.validate import expect_message, iter_elements
from saldo.kit.account_number import AccountScheme
from saldo.kit.money import to_decimal_text

# Markup characters are escaped; characters XML 1.0 cannot carry at all become spaces: names and
# texts from payers are cleaned, not refused, because the payment was accepted earlier and its file
# must still be writable.
_XML_TEXT = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", **dict.fromkeys((*range(9), 11, 12, *range(14, 32)), " ")}
)
FLUSH_EVERY = 2_000  # transactions per write call: few system calls, little memory


def escape(text: str) -> str:
    """Text as XML character data or attribute value."""
    return text.translate(_XML_TEXT)


@dataclass(frozen=True, slots=True)
class PostalAddress:
    country: str  # ISO 3166 alpha-2
    town: str | None = None
    post_code: str | None = None
    street: str | None = None
    building_number: str | None = None

    def xml(self) -> str:
        parts = [
            ("StrtNm", self.street),
            ("BldgNb", self.building_number),
            ("PstCd", self.post_code),
            ("TwnNm", self.town),
            ("Ctry", self.country),
        ]
        return "<PstlAdr>" + "".join(f"<{t}>{escape(v)}</{t}>" for t, v in parts if v) + "</PstlAdr>"


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    organisation_id: str | None = None  # e.g. a Swedish organisation number
    address: PostalAddress | None = None

    def xml(self, tag: str) -> str:
        address = self.address.xml() if self.address else ""
        org = (
            f"<Id><OrgId><Othr><Id>{escape(self.organisation_id)}</Id></Othr></OrgId></Id>"
            if self.organisation_id
            else ""
        )
        return f"<{tag}><Nm>{escape(fit_name(self.name))}</Nm>{address}{org}</{tag}>"


def account_xml(scheme: AccountScheme, number: str) -> tuple[str, str]:
    """(account, agent) elements' content for an account: IBAN; Swedish BBAN with the clearing
    number as the agent's clearing-system member id (SESBA); Bankgiro number (proprietary BGNR)."""
    if scheme is AccountScheme.IBAN:
        return f"<Id><IBAN>{number}</IBAN></Id>", ""
    if scheme is AccountScheme.SE_CLEARING:
        clearing, account = number.split("-", 1)
        return (
            f"<Id><Othr><Id>{clearing}{account}</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id>",
            f"<FinInstnId><ClrSysMmbId><ClrSysId><Cd>SESBA</Cd></ClrSysId><MmbId>{clearing}</MmbId>"
            "</ClrSysMmbId></FinInstnId>",
        )
    return f"<Id><Othr><Id>{number}</Id><SchmeNm><Prtry>BGNR</Prtry></SchmeNm></Othr></Id>", ""


@dataclass(frozen=True, slots=True)
class Transaction:
    end_to_end_id: str  # Saldo's payment id
    amount_minor: int
    currency: str
    creditor_name: str
    account_scheme: AccountScheme
    account_number: str
    remittance_info: str | None = None
    creditor_address: PostalAddress | None = None


@dataclass(frozen=True, slots=True)
class PaymentInformation:
    """One debit of the debtor account: its transactions share execution date and category purpose."""

    id: str
    execution_date: dt.date
    debtor: Party
    debtor_account_scheme: AccountScheme
    debtor_account: str
    debtor_agent_bic: str | None  # None: the agent is derived by the bank (NOTPROVIDED)
    category_purpose: str  # ExternalCategoryPurpose1Code: PENS, SSBE, SUPP, SALA, GOVT
    batch_booking: bool
    transactions: int
    control_sum: str
    rows: Iterable[Transaction]


@dataclass(frozen=True, slots=True)
class GroupHeader:
    message_id: str
    created_at: dt.datetime
    transactions: int
    control_sum: str
    initiating_party: Party


def _transaction_xml(t: Transaction) -> str:
    account, agent = account_xml(t.account_scheme, t.account_number)
    address = t.creditor_address.xml() if t.creditor_address else ""
    text = fit_for_bank(t.remittance_info, REMITTANCE_MAX) if t.remittance_info else ""
    remittance = f"<RmtInf><Ustrd>{escape(text)}</Ustrd></RmtInf>" if text else ""
    return (
        f"<CdtTrfTxInf><PmtId><InstrId>{t.end_to_end_id}</InstrId><EndToEndId>{t.end_to_end_id}</EndToEndId></PmtId>"
        f'<Amt><InstdAmt Ccy="{t.currency}">{to_decimal_text(t.amount_minor, t.currency)}</InstdAmt></Amt>'
        f"{f'<CdtrAgt>{agent}</CdtrAgt>' if agent else ''}"
        f"<Cdtr><Nm>{escape(fit_name(t.creditor_name))}</Nm>{address}</Cdtr>"
        f"<CdtrAcct>{account}</CdtrAcct>{remittance}</CdtTrfTxInf>\n"
    )


def _payment_information_head(p: PaymentInformation) -> str:
    account, _ = account_xml(p.debtor_account_scheme, p.debtor_account)
    agent = f"<BICFI>{p.debtor_agent_bic}</BICFI>" if p.debtor_agent_bic else "<Othr><Id>NOTPROVIDED</Id></Othr>"
    return (
        f"<PmtInf><PmtInfId>{escape(p.id)}</PmtInfId><PmtMtd>TRF</PmtMtd>"
        f"<BtchBookg>{'true' if p.batch_booking else 'false'}</BtchBookg>"
        f"<NbOfTxs>{p.transactions}</NbOfTxs><CtrlSum>{p.control_sum}</CtrlSum>"
        f"<PmtTpInf><SvcLvl><Cd>NURG</Cd></SvcLvl><CtgyPurp><Cd>{p.category_purpose}</Cd></CtgyPurp></PmtTpInf>"
        f"<ReqdExctnDt><Dt>{p.execution_date.isoformat()}</Dt></ReqdExctnDt>"
        f"{p.debtor.xml('Dbtr')}<DbtrAcct>{account}</DbtrAcct><DbtrAgt><FinInstnId>{agent}</FinInstnId></DbtrAgt>"
        "<ChrgBr>SLEV</ChrgBr>\n"
    )


def write_pain001(out: BinaryIO, header: GroupHeader, blocks: Iterable[PaymentInformation]) -> int:
    """Write one pain.001.001.09 message; returns the number of transactions written. The caller's
    counts are checked against what was written, so a header can never disagree with its body."""
    created = header.created_at.astimezone(dt.UTC).isoformat(timespec="seconds")
    out.write(
        (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{MessageType.PAIN_001.namespace}">\n'
            "<CstmrCdtTrfInitn>\n"
            f"<GrpHdr><MsgId>{escape(header.message_id)}</MsgId><CreDtTm>{created}</CreDtTm>"
            f"<NbOfTxs>{header.transactions}</NbOfTxs><CtrlSum>{header.control_sum}</CtrlSum>"
            f"{header.initiating_party.xml('InitgPty')}</GrpHdr>\n"
        ).encode()
    )
    written = 0
    for block in blocks:
        out.write(_payment_information_head(block).encode())
        in_block = 0
        for chunk in _chunks(block.rows):
            out.write("".join(map(_transaction_xml, chunk)).encode())
            in_block += len(chunk)
        if in_block != block.transactions:
            raise ValueError(f"payment information {block.id}: header says {block.transactions}, wrote {in_block}")
        out.write(b"</PmtInf>\n")
        written += in_block
    out.write(b"</CstmrCdtTrfInitn>\n</Document>\n")
    if written != header.transactions:
        raise ValueError(f"message {header.message_id}: header says {header.transactions}, wrote {written}")
    return written


def _chunks(rows: Iterable[Transaction]) -> Iterator[list[Transaction]]:
    chunk: list[Transaction] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == FLUSH_EVERY:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True, slots=True)
class InitiatedTransfer:
    """A credit transfer as a bank reads it from a pain.001 file."""

    message_id: str
    payment_information_id: str
    execution_date: str
    debtor_account: str
    end_to_end_id: str
    amount: str
    currency: str
    creditor_name: str
    creditor_account: str


def read_credit_transfers(path: Path) -> Iterator[InitiatedTransfer]:
    """The transfers of a pain.001.001.09 file in order, validated against the schema as read
    (what the receiving bank does; Saldo itself uses it in the synthetic bank and the tests)."""
    message = MessageType.PAIN_001
    expect_message(path, message)
    ns = f"{{{message.namespace}}}"

    def child_text(element: etree._Element, sub: str) -> str:
        found = element.find("/".join(ns + part for part in sub.split("/")))
        return (found.text or "").strip() if found is not None else ""

    message_id = ""
    block = ("", "", "")
    for element in iter_elements(path, message, ("GrpHdr", "PmtInfId", "ReqdExctnDt", "DbtrAcct", "CdtTrfTxInf")):
        tag = etree.QName(element).localname
        if tag == "GrpHdr":
            message_id = child_text(element, "MsgId")
        elif tag == "PmtInfId":
            block = ((element.text or "").strip(), "", "")
        elif tag == "ReqdExctnDt":
            block = (block[0], child_text(element, "Dt"), "")
        elif tag == "DbtrAcct":
            block = (block[0], block[1], child_text(element, "Id/IBAN") or child_text(element, "Id/Othr/Id"))
        else:
            amount = element.find(f"{ns}Amt/{ns}InstdAmt")
            yield InitiatedTransfer(
                message_id=message_id,
                payment_information_id=block[0],
                execution_date=block[1],
                debtor_account=block[2],
                end_to_end_id=child_text(element, "PmtId/EndToEndId"),
                amount=(amount.text or "") if amount is not None else "",
                currency=amount.get("Ccy", "") if amount is not None else "",
                creditor_name=child_text(element, "Cdtr/Nm"),
                creditor_account=child_text(element, "CdtrAcct/Id/IBAN") or child_text(element, "CdtrAcct/Id/Othr/Id"),
            )
