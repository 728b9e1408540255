"""Reading the bank's answers: pain.002 status reports, camt.054 notifications and camt.053
statements move sent payments to rejected, settled or returned, with the bank's reason in their
history. A message is applied whole or not at all: it is validated against its schema while its
entries are staged, and nothing is moved until the last entry has been read. Entries that cannot be
tied to one payment — unknown, outside the file or account the message is about, a different amount
or currency, a state the entry cannot follow — are reported as unmatched, never guessed. Reading
the same file again changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saldo.iso20022 import codes
from saldo.iso20022.camt import AccountReport, EntryTransaction, read_account_report
from saldo.iso20022.messages import MessageType
from saldo.iso20022.pain002 import BlockStatus, StatusHeader, TransactionStatus, read_status_report
from saldo.iso20022.validate import MessageError, sniff_message
from saldo.kit.account_number import AccountScheme
from saldo.kit.crash_points import reach
from saldo.kit.digest import sha256_of_file
from saldo.kit.money import from_decimal_text
from saldo.mediation.errors import BankMessageError, RunError
from saldo.mediation.models import BankMessage, PaymentFile
from saldo.mediation.repository import EntryScope, RunRepository
from saldo.mediation.schemas import BankMessageOut, UnmatchedOut
from saldo.mediation.service.files import parse_block_id
from saldo.mediation.service.runs import bank_of_debtor_account
from saldo.payments.service.archive import bring_back

SHOWN_UNMATCHED = 100  # unmatched entries returned with the answer; all are stored

# line, end-to-end id, action, code, amount, currency, and for a camt entry its debtor account
Staged = tuple[int, str | None, str, str | None, int | None, str | None, str | None, str | None]
UNREADABLE = "unreadable_amount"  # the staged action of an entry whose amount cannot be read
# Entries are applied in two phases, so one message may both book a payment and report it returned
# (a statement covering several days): what happened first is applied first.
PHASES = (("reject", "accept", "settle", "pending", "credit", UNREADABLE), ("return",))


def bank_actor(bank_bic: str, message: MessageType, message_id: str) -> str:
    """Who moved a payment, in its history: the bank (by BIC) and its message."""
    return f"bank:{bank_bic}:{message.value}:{message_id}"[:100]


def read_bank_message(
    session: Session, path: Path, *, filename: str | None, received_by: str, bank_id: int | None = None
) -> BankMessageOut:
    """Read one pain.002, camt.054 or camt.053 file and apply it; returns what it did. Raises
    BankMessageError (nothing applied) for a file that is not a valid message Saldo can apply.

    A message answers the runs of one bank: the bank holding the debtor account of the file a
    pain.002 answers, or of the accounts a camt reports on. With ``bank_id`` (a bank delivering
    its own messages) a message about another bank's runs is refused as if they did not exist."""
    repository = RunRepository(session)
    digest = sha256_of_file(path)
    known = repository.message_by_hash(digest)
    if known is not None:
        if bank_id is not None and known.bank_id != bank_id:
            raise BankMessageError("the message answers payments Saldo never sent to your bank")
        return describe_message(session, known, already_read=True)
    try:
        message = sniff_message(path)
        if message is MessageType.PAIN_001:
            raise BankMessageError("this is a payment initiation (pain.001), not an answer from the bank", line=1)
        with session.begin_nested():  # a refused message leaves nothing behind, not even staging
            repository.create_entry_staging()
            if message is MessageType.PAIN_002:
                bank_message_id, scope, summary = _stage_status_report(repository, path, bank_id)
            else:
                bank_message_id, scope, summary = _stage_account_report(session, path, message, bank_id)
            answering = repository.bank_bic(scope.bank_id) if scope.bank_id is not None else None
            actor = bank_actor(answering or "unknown", message, bank_message_id)
            reach("answers.staged")
            # a late answer about an archived payment brings it back to be applied, in this transaction
            bring_back(session, repository.archived_in_scope(scope))
            applied = 0
            for phase, actions in enumerate(PHASES):
                repository.classify_entries(scope, phase=phase, actions=actions)
                reasons = [
                    (status, code, _reason_text(message, status, code))
                    for status, code in repository.staged_codes(phase)
                ]
                applied += repository.apply_entries(phase=phase, actor=actor, reasons=reasons)
            outcomes = repository.entry_outcomes()
            earlier = repository.messages_with_bank_id(message.value, bank_message_id[:35])
            if earlier:  # other bytes under a message id already used: a resend with changes, or a bank's error
                summary["message_id_seen_before"] = earlier
            stored = repository.add_message(
                BankMessage(
                    message_type=message,
                    message_id=bank_message_id[:35],
                    bank_id=scope.bank_id,
                    sha256=digest,
                    filename=filename,
                    received_by=received_by,
                    entries=sum(outcomes.values()),
                    applied=applied,
                    unchanged=outcomes.get("unchanged", 0),
                    unmatched=outcomes.get("unmatched", 0),
                    summary=summary,
                )
            )
            repository.record_unmatched(stored.id)
            reach("answers.applied")  # every entry applied in the caller's transaction, not committed
    except MessageError as exc:
        raise BankMessageError(exc.reason, line=exc.line) from exc
    except IntegrityError:  # the same file, read at the same moment for another caller, won
        known = repository.message_by_hash(digest)
        if known is None:
            raise
        return describe_message(session, known, already_read=True)
    return describe_message(session, stored, already_read=False)


def describe_message(session: Session, message: BankMessage, *, already_read: bool = False) -> BankMessageOut:
    """A message as read, with its first unmatched entries."""
    unmatched = RunRepository(session).unmatched_of(message.id, limit=SHOWN_UNMATCHED)
    return BankMessageOut(
        id=message.id,
        message_type=message.message_type,
        message_id=message.message_id,
        filename=message.filename,
        already_read=already_read,
        entries=message.entries,
        applied=0 if already_read else message.applied,
        unchanged=message.unchanged,
        unmatched=message.unmatched,
        summary=message.summary,
        unmatched_entries=[UnmatchedOut.model_validate(u) for u in unmatched],
        received_at=message.received_at,
    )


def _stage_status_report(
    repository: RunRepository, path: Path, bank_id: int | None
) -> tuple[str, EntryScope, dict[str, object]]:
    header, statuses = read_status_report(path)
    if not header.original_message_type.startswith("pain.001"):
        raise BankMessageError(
            f"the report answers a {header.original_message_type or 'unnamed'} message, not a pain.001 Saldo sent"
        )
    file = repository.file_by_message_id(header.original_message_id)
    run = repository.get_run(file.run_id) if file is not None else None
    if file is None or run is None or (bank_id is not None and run.bank_id != bank_id):
        whom = " to your bank" if bank_id is not None else ""
        raise BankMessageError(
            f"the report answers message {header.original_message_id!r}, which Saldo never sent{whom}"
        )
    staged = 0
    blocks: list[BlockStatus] = []

    def rows() -> Iterator[Staged]:
        nonlocal staged
        for status in statuses:
            if isinstance(status, BlockStatus):
                blocks.append(status)
                continue
            staged += 1
            yield _staged_transaction(status, header)

    repository.stage_entries(rows())
    # A rejected group or block rejects every payment in it, listed or not (the listed ones are
    # staged above, rejected; the rest here). Under any other status only the listed move.
    if header.group_status == codes.REJECTED:
        repository.stage_file_payments(file.run_id, file.sequence, action="reject", code=header.group_reason)
    else:
        for block in blocks:
            if block.status == codes.REJECTED:
                _stage_block(repository, file, block)
    summary: dict[str, object] = {
        "original_message_id": header.original_message_id,
        "group_status": header.group_status,
        "group_reason": header.group_reason,
        "transaction_statuses": staged,
        "block_statuses": [{"id": b.payment_information_id, "status": b.status, "reason": b.reason} for b in blocks],
    }
    scope = EntryScope(run_id=file.run_id, sequence=file.sequence, bank_id=run.bank_id)
    return header.message_id, scope, summary


def transaction_outcome(status: TransactionStatus, header: StatusHeader) -> tuple[str | None, str | None]:
    """(status, reason) that holds for one listed transaction (ISO 20022 pain.002; EPC SCT
    implementation guidelines): a rejected group or block rejects it whatever it says itself;
    otherwise its own status, else its block's, else the group's."""
    if codes.REJECTED in (header.group_status, status.block_status):
        if status.status == codes.REJECTED and status.reason:
            return codes.REJECTED, status.reason
        scope = status.block_reason if status.block_status == codes.REJECTED else header.group_reason
        return codes.REJECTED, scope or status.reason
    if status.status:
        return status.status, status.reason
    if status.block_status:
        return status.block_status, status.block_reason
    return header.group_status, header.group_reason


def _staged_transaction(status: TransactionStatus, header: StatusHeader) -> Staged:
    outcome, reason = transaction_outcome(status, header)
    action = "reject" if outcome == codes.REJECTED else "accept"
    amount, readable = _amount(status.amount, status.currency)
    code = reason or outcome
    return (
        status.line,
        status.end_to_end_id,
        action if readable else UNREADABLE,
        code,
        amount,
        status.currency,
        None,
        None,
    )


def _stage_block(repository: RunRepository, file: PaymentFile, block: BlockStatus) -> None:
    parsed = parse_block_id(block.payment_information_id)
    if parsed is None or parsed[0] != file.message_id:  # reported as unmatched, under the block's id
        repository.stage_entries(
            [(block.line, block.payment_information_id, "reject", block.reason, None, None, None, None)]
        )
        return
    _, payer_id, category, currency = parsed
    repository.stage_file_payments(
        file.run_id,
        file.sequence,
        action="reject",
        code=block.reason,
        payer_id=payer_id,
        category=category,
        currency=currency,
    )


def _stage_account_report(
    session: Session, path: Path, message: MessageType, bank_id: int | None
) -> tuple[str, EntryScope, dict[str, object]]:
    repository = RunRepository(session)
    report, transactions = read_account_report(path, message)
    # Each notification's or statement's account, numbered as met; entries are staged with that
    # number and given the account once the stream is read (no query may run during the COPY).
    accounts: dict[AccountReport, int] = {report: 0}
    counts = {"debits": 0, "returns": 0, "not_booked": 0, "other_credits": 0}

    def rows() -> Iterator[Staged]:
        for tx in transactions:
            number = accounts.setdefault(tx.account or report, len(accounts))
            action = _account_action(tx)
            counts[{"settle": "debits", "return": "returns", "pending": "not_booked"}.get(action, "other_credits")] += 1
            amount, readable = _amount(tx.amount, tx.currency)
            kind = action if readable else UNREADABLE
            yield (tx.line, tx.end_to_end_id, kind, tx.return_reason, amount, tx.currency, None, str(number))

    repository.stage_entries(rows())
    names: set[str] = set()
    banks: set[int | None] = set()
    for where, number in accounts.items():  # every account of the message must be one Saldo pays from
        scheme, account = _debtor_account(repository, where)
        try:
            holder = bank_of_debtor_account(session, scheme, account)
        except RunError as exc:
            raise BankMessageError(str(exc)) from exc
        if bank_id is not None and holder != bank_id:
            shown = where.account_iban or where.account_other
            raise BankMessageError(
                f"the message is about account {shown}, which Saldo does not pay from through your bank"
            )
        repository.set_staged_account(str(number), scheme.value, account)
        names.add(account)
        banks.add(holder)
    if len(banks) > 1:
        raise BankMessageError("the message reports on accounts held by different banks; each bank reports its own")
    only = next(iter(names)) if len(names) == 1 else None
    summary: dict[str, object] = {"account": only, "accounts": sorted(names), **counts}
    return report.message_id, EntryScope(bank_id=banks.pop()), summary


def _account_action(tx: EntryTransaction) -> str:
    if not tx.booked:
        return "pending"
    if tx.return_reason is not None or (tx.reversal and tx.debit is False):
        return "return"
    return "settle" if tx.debit else "credit"


def _debtor_account(repository: RunRepository, report: AccountReport) -> tuple[AccountScheme, str]:
    """The debtor account a report is about, in Saldo's canonical form; refused if Saldo pays from
    no such account (a file for another customer of the bank)."""
    if report.account_iban:
        candidates = [(AccountScheme.IBAN, report.account_iban.replace(" ", "").upper())]
    else:
        number = (report.account_other or "").replace(" ", "").replace("-", "")
        candidates = [(AccountScheme.SE_BANKGIRO, number)]
        if len(number) > 5:
            candidates.append((AccountScheme.SE_CLEARING, f"{number[:4]}-{number[4:]}"))
    for scheme, account in candidates:
        if repository.is_debtor_account(scheme, account):
            return scheme, account
    shown = report.account_iban or report.account_other or "no account"
    raise BankMessageError(f"the message is about account {shown}, which is no debtor account Saldo pays from")


def _amount(value: str | None, currency: str | None) -> tuple[int | None, bool]:
    """The amount in minor units and whether it could be read (a currency Saldo does not pay in,
    or more decimals than the currency has, make the entry unmatched — not the whole message)."""
    if value is None or currency is None:
        return None, True
    try:
        return from_decimal_text(value, currency), True
    except ValueError:
        return None, False


def _reason_text(message: MessageType, status: str, code: str | None) -> str:
    source = f"the bank's {message.value}"
    if status == "rejected":
        return f"rejected by the bank: {codes.explain(code)} ({source})"
    if status == "returned":
        return f"returned by the payee's bank: {codes.explain(code)} ({source})"
    return f"settled: the bank booked the transfer ({source})"
