"""Writing a run's pain.001 files.

One file is written in one transaction: the run takes the file's payments (verified -> sent, with
the run and file set on each), they are streamed from the database into the XML writer, the file is
validated against the official schema and recorded with its SHA-256 — all or nothing. The file
becomes visible in the outbox (renamed from a hidden partial name, with its manifest beside it)
only after that transaction commits, so the bank never collects a file the database does not know.
Its content is a function of the database alone (no clock is read: the creation time is the
run's), so a file lost between commit and rename is written again byte for byte and checked
against the recorded hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from saldo.iso20022.messages import MessageType
from saldo.iso20022.pain001 import GroupHeader, Party, PaymentInformation, Transaction, write_pain001
from saldo.iso20022.validate import MessageError, validate_document
from saldo.kit.account_number import AccountScheme
from saldo.kit.digest import sha256_of_file
from saldo.kit.money import to_decimal_text
from saldo.mediation.errors import RunError, RunNotFoundError
from saldo.mediation.models import PaymentFile, PaymentRun
from saldo.mediation.repository import FileRow, RunRepository
from saldo.mediation.schemas import FileManifest
from saldo.mediation.service.runs import RUN_ACTOR
from saldo.payers.models import Payer


@dataclass(frozen=True, slots=True)
class Initiator:
    """Who the files say initiates the transfers: the payment authority (without its organisation
    number, the payer whose account is debited: see ``initiating_party``)."""

    name: str
    organisation_number: str | None


def message_id(run_id: int, sequence: int) -> str:
    """GrpHdr/MsgId of a run's file; unique for ever, at most 35 characters."""
    return f"SALDO-R{run_id}-F{sequence}"


def block_id(message: str, payer_id: int, category_purpose: str, currency: str) -> str:
    """PmtInfId of a block: the file, the payer and the category purpose (read back from pain.002)."""
    return f"{message}-P{payer_id}-{category_purpose}-{currency}"


def parse_block_id(value: str) -> tuple[str, int, str, str] | None:
    """(message id, payer id, category purpose, currency) of a block id Saldo wrote, else None."""
    head, sep, rest = value.rpartition("-P")
    parts = rest.split("-")
    if not sep or len(parts) != 3 or not parts[0].isdigit():
        return None
    return head, int(parts[0]), parts[1], parts[2]


def file_path(run: PaymentRun, sequence: int, bank_bic: str) -> Path:
    """Where a run's file goes, relative to the outbox: to the bank holding the debtor account (its
    folder is named by its BIC), by message type and execution date."""
    return (
        Path(bank_bic)
        / MessageType.PAIN_001.value
        / run.execution_date.isoformat()
        / f"{message_id(run.id, sequence)}.xml"
    )


def run_bank_bic(session: Session, run: PaymentRun) -> str:
    """The BIC of the bank a run's files go to (a run is given its bank before it is cut)."""
    bic = RunRepository(session).bank_bic(run.bank_id) if run.bank_id is not None else None
    if bic is None:
        raise RunError(f"payment run {run.id} has no bank to send its files to")
    return bic


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


class _HashingWriter:
    """A binary file that hashes and counts what goes through it."""

    def __init__(self, target: BinaryIO) -> None:
        self.target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.target.write(data)


@dataclass(frozen=True, slots=True)
class WrittenFile:
    sequence: int
    transactions: int  # 0: nothing of this file was left to send (held or cancelled meanwhile)
    file: PaymentFile | None


def write_run_file(
    session: Session, *, outbox: Path, run_id: int, sequence: int, initiator: Initiator, batch_booking: bool
) -> WrittenFile:
    """Write, validate and record one file of a run (once: a file already recorded is returned as
    it is). The caller commits, then calls ``publish_file``."""
    repository = RunRepository(session)
    run = repository.get_run(run_id)
    if run is None:
        raise RunNotFoundError(f"no payment run {run_id}")
    recorded = repository.file_of(run_id, sequence)
    if recorded is not None:
        return WrittenFile(sequence, recorded.transactions, recorded)
    reason = (
        f"in payment run {run_id} for {run.execution_date.isoformat()}, file {message_id(run_id, sequence)}, "
        "handed to the bank"
    )
    rows = repository.send_file_payments(run, sequence, actor=RUN_ACTOR, reason=reason)
    if not rows:
        return WrittenFile(sequence, 0, None)
    sent = len(rows)
    relative = file_path(run, sequence, run_bank_bic(session, run))
    target = _partial(outbox / relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size, transactions, control_sum = _write(session, run, sequence, rows, target, initiator, batch_booking)
    try:
        validated = validate_document(target, MessageType.PAIN_001, count="CdtTrfTxInf")
    except MessageError as exc:  # a bug in the writer, never the payer's data: stop the run loudly
        raise RunError(f"file {message_id(run_id, sequence)} failed schema validation, not sent: {exc}") from exc
    if validated != transactions or transactions != sent:
        raise RunError(
            f"file {message_id(run_id, sequence)}: {sent} payments sent, {transactions} written, {validated} validated"
        )
    file = repository.add_file(
        PaymentFile(
            run_id=run_id,
            sequence=sequence,
            message_id=message_id(run_id, sequence),
            path=relative.as_posix(),
            sha256=digest,
            size_bytes=size,
            transactions=transactions,
            control_sum=control_sum,
        )
    )
    return WrittenFile(sequence, transactions, file)


def publish_file(
    session: Session, *, outbox: Path, file: PaymentFile, initiator: Initiator, batch_booking: bool
) -> Path:
    """Make a recorded file visible in the outbox with its manifest. Idempotent; a partial file
    that went missing is written again from the database and must match the recorded hash."""
    final = outbox / file.path
    partial = _partial(final)
    if final.exists() and sha256_of_file(final) == file.sha256:
        _write_manifest(final, file)
        return final
    if not (partial.exists() and sha256_of_file(partial) == file.sha256):
        repository = RunRepository(session)
        run = repository.get_run(file.run_id)
        assert run is not None
        partial.parent.mkdir(parents=True, exist_ok=True)
        rows = repository.file_rows(file.run_id, file.sequence)
        digest, _, _, _ = _write(session, run, file.sequence, rows, partial, initiator, batch_booking)
        if digest != file.sha256:
            raise RunError(
                f"file {file.message_id} cannot be reproduced byte for byte (its payer data changed since it was "
                "written); the recorded file is the one the bank may have: recover it from backup"
            )
    _write_manifest(final, file)
    partial.replace(final)
    return final


def remove_leftovers(outbox: Path, run: PaymentRun, bank_bic: str) -> list[Path]:
    """Delete the partial files of a run that no recorded file owns any more: the writes of attempts
    that died before their transaction committed (that file was written again under the same name
    and published). Call once every recorded file is published; returns what was deleted."""
    folder = outbox / file_path(run, 1, bank_bic).parent
    prefix = f".{message_id(run.id, 0)[:-1]}"  # ".SALDO-R<run>-F": every file of this run, no other run's
    removed = []
    for leftover in sorted(folder.glob(f"{prefix}*.partial")) if folder.is_dir() else []:
        if leftover.name[len(prefix) :].split(".", 1)[0].isdigit():
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


def _write(
    session: Session,
    run: PaymentRun,
    sequence: int,
    rows: list[FileRow],
    target: Path,
    initiator: Initiator,
    batch_booking: bool,
) -> tuple[bytes, int, int, str]:
    """Write a file's rows: one block per (payer, category purpose, currency), each in id order —
    an order that depends on the rows alone, so the same payments always give the same bytes."""
    repository = RunRepository(session)
    payers = {p.id: p for p in repository.payers_of_account(run.debtor_account_scheme, run.debtor_account)}
    category = repository.category_purposes()
    bank_bic = run_bank_bic(session, run)
    keyed = sorted(((r[7], category[r[8]], r[2], r[0]), r) for r in rows)
    blocks: dict[tuple[int, str, str], list[FileRow]] = {}
    for (payer_id, purpose, currency, _), row in keyed:
        blocks.setdefault((payer_id, purpose, currency), []).append(row)
    mid = message_id(run.id, sequence)
    sums = {key: sum(r[1] for r in block) for key, block in blocks.items()}
    total = sum((Decimal(to_decimal_text(amount, key[2])) for key, amount in sums.items()), Decimal(0))
    header = GroupHeader(
        message_id=mid,
        created_at=run.created_at,
        transactions=len(rows),
        control_sum=str(total),
        initiating_party=initiating_party(initiator, payers),
    )
    with target.open("wb") as raw:
        out = _HashingWriter(raw)
        written = write_pain001(
            out,  # type: ignore[arg-type]  # a writable binary stream is all the writer needs
            header,
            _blocks(run, mid, blocks, sums, payers, batch_booking, bank_bic),
        )
        raw.flush()
        os.fsync(raw.fileno())
    return out.sha256.digest(), out.size, written, str(total)


def initiating_party(initiator: Initiator, payers: dict[int, Payer]) -> Party:
    """Who the file says initiates it, always with an identifier the bank can match: the payment
    authority with its organisation number when one is set (SALDO_AUTHORITY_ORGANISATION_NUMBER),
    else the payer whose account is debited — the bank's own customer, known by its organisation
    number (of several payers sharing the account, the first connected)."""
    if initiator.organisation_number:
        return Party(initiator.name, initiator.organisation_number)
    if not payers:
        raise RunError("the debtor account has no payer: nobody to name as initiating party")
    payer = payers[min(payers)]
    return Party(payer.name, payer.organisation_number)


def _blocks(
    run: PaymentRun,
    mid: str,
    blocks: dict[tuple[int, str, str], list[FileRow]],
    sums: dict[tuple[int, str, str], int],
    payers: dict[int, Payer],
    batch_booking: bool,
    bank_bic: str,
) -> Iterator[PaymentInformation]:
    """One payment-information block per (payer, category purpose, currency)."""
    for (payer_id, category, currency), rows in blocks.items():
        payer = payers.get(payer_id)
        if payer is None:
            raise RunError(f"payer {payer_id} no longer pays from {run.debtor_account}; file {mid} not written")
        yield PaymentInformation(
            id=block_id(mid, payer_id, category, currency),
            execution_date=run.execution_date,
            debtor=Party(payer.name, payer.organisation_number),
            debtor_account_scheme=run.debtor_account_scheme,
            debtor_account=run.debtor_account,
            debtor_agent_bic=bank_bic,
            category_purpose=category,
            batch_booking=batch_booking,
            transactions=len(rows),
            control_sum=to_decimal_text(sums[(payer_id, category, currency)], currency),
            rows=_transactions(rows),
        )


def _transactions(rows: list[FileRow]) -> Iterator[Transaction]:
    for pid, amount, currency, name, scheme, number, remittance, _, _ in rows:
        yield Transaction(
            end_to_end_id=str(pid),
            amount_minor=amount,
            currency=currency,
            creditor_name=name,
            account_scheme=AccountScheme(scheme),
            account_number=number,
            remittance_info=remittance,
        )


def _write_manifest(final: Path, file: PaymentFile) -> None:
    manifest = FileManifest(
        message_type=MessageType.PAIN_001,
        message_id=file.message_id,
        file=final.name,
        sha256=file.sha256.hex(),
        size_bytes=file.size_bytes,
        transactions=file.transactions,
        control_sum=file.control_sum,
        payment_run=file.run_id,
        sequence=file.sequence,
        written_at=file.written_at.astimezone(dt.UTC).isoformat() if file.written_at else None,
    )
    path = final.with_suffix(".manifest.json")
    partial = _partial(path)
    partial.write_text(json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
