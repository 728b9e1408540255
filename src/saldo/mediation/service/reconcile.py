"""Reconciliation: for each run, and for each payer within it, what the bank has answered — sent,
settled, rejected, returned, still outstanding — with amounts, and how many bank entries about its
payments could not be applied."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.orm import Session

from saldo.mediation.errors import RunNotFoundError
from saldo.mediation.models import PaymentRun
from saldo.mediation.repository import RunRepository
from saldo.mediation.schemas import (
    PayerReconciliation,
    PaymentFileOut,
    Reconciliation,
    RunOut,
    RunPage,
    Totals,
    UnattributedOut,
)
from saldo.payments.models import PaymentStatus

OUTSTANDING = (PaymentStatus.SCHEDULED, PaymentStatus.SENT)


def _add(totals: Totals, payments: int, currency: str, amount: int) -> None:
    totals.payments += payments
    totals.amounts[currency] = totals.amounts.get(currency, 0) + amount


def _reconciliation(rows: Sequence[tuple[str, str, int, int]], unmatched: int) -> Reconciliation:
    by_status: dict[PaymentStatus, Totals] = defaultdict(Totals)
    outstanding = Totals()
    for status, currency, n, amount in rows:
        _add(by_status[PaymentStatus(status)], n, currency, amount)
        if PaymentStatus(status) in OUTSTANDING:
            _add(outstanding, n, currency, amount)
    return Reconciliation(
        by_status=dict(by_status),
        outstanding=outstanding,
        settled=by_status.get(PaymentStatus.SETTLED, Totals()),
        rejected=by_status.get(PaymentStatus.REJECTED, Totals()),
        returned=by_status.get(PaymentStatus.RETURNED, Totals()),
        unmatched_entries=unmatched,
        reconciled=outstanding.payments == 0 and unmatched == 0,
    )


def describe_runs(session: Session, runs: Sequence[PaymentRun], *, payer_id: int | None = None) -> list[RunOut]:
    """Runs with their files and reconciliation; for a payer, only its own payments are counted."""
    repository = RunRepository(session)
    ids = [r.id for r in runs]
    rows: dict[int, list[tuple[str, str, int, int]]] = defaultdict(list)
    per_payer: dict[int, dict[int, list[tuple[str, str, int, int]]]] = defaultdict(lambda: defaultdict(list))
    for run_id, payer, status, currency, n, amount in repository.reconciliation(ids, payer_id=payer_id):
        row = (str(status), str(currency), int(n), int(amount))
        rows[int(run_id)].append(row)
        per_payer[int(run_id)][int(payer)].append(row)
    unmatched = repository.unmatched_by_run(ids, payer_id=payer_id)
    unmatched_of_payer = repository.unmatched_by_run_and_payer(ids, payer_id=payer_id)
    files_of = repository.files_of_runs(ids)
    accounts = {(r.debtor_account_scheme.value, r.debtor_account) for r in runs}
    unattributed = repository.unattributed_counts(sorted(accounts)) if payer_id is None else {}
    described = []
    for run in runs:
        files = files_of.get(run.id, [])
        described.append(
            RunOut(
                id=run.id,
                execution_date=run.execution_date,
                debtor_account_scheme=run.debtor_account_scheme,
                debtor_account=run.debtor_account,
                status=run.status,
                requested_by=run.requested_by,
                payments=run.payments,
                files_planned=run.files_planned,
                files_written=len(files),
                created_at=run.created_at,
                finished_at=run.finished_at,
                error=run.error,
                files=[
                    PaymentFileOut(
                        sequence=f.sequence,
                        message_id=f.message_id,
                        path=f.path,
                        sha256=f.sha256.hex(),
                        size_bytes=f.size_bytes,
                        transactions=f.transactions,
                        control_sum=f.control_sum,
                        written_at=f.written_at,
                    )
                    for f in files
                ],
                reconciliation=_reconciliation(rows[run.id], unmatched.get(run.id, 0)),
                by_payer=[
                    PayerReconciliation(
                        payer_id=payer,
                        reconciliation=_reconciliation(payer_rows, unmatched_of_payer.get((run.id, payer), 0)),
                    )
                    for payer, payer_rows in sorted(per_payer[run.id].items())
                ],
                unattributed_on_account=None
                if payer_id is not None
                else unattributed.get((run.debtor_account_scheme.value, run.debtor_account), 0),
            )
        )
    return described


def get_run(session: Session, run_id: int, *, payer_id: int | None = None) -> RunOut:
    """One run; a payer sees only runs of its debtor account, counting only its own payments."""
    repository = RunRepository(session)
    run = repository.get_run(run_id)
    if run is None or (payer_id is not None and not _pays_from(session, payer_id, run)):
        raise RunNotFoundError(f"no payment run {run_id}")
    return describe_runs(session, [run], payer_id=payer_id)[0]


def list_runs(
    session: Session,
    *,
    payer_id: int | None = None,
    execution_date: dt.date | None = None,
    after: int | None = None,
    limit: int = 50,
) -> RunPage:
    """Runs, newest first, a page at a time; a payer's are those of its debtor account."""
    runs = RunRepository(session).list_runs(payer_id=payer_id, execution_date=execution_date, after=after, limit=limit)
    items = describe_runs(session, runs, payer_id=payer_id)
    return RunPage(items=items, next_after=items[-1].id if len(items) == limit else None)


def _pays_from(session: Session, payer_id: int, run: PaymentRun) -> bool:
    payers = RunRepository(session).payers_of_account(run.debtor_account_scheme, run.debtor_account)
    return any(p.id == payer_id for p in payers)


def unattributed_entries(
    session: Session, *, scheme: str | None = None, account: str | None = None, limit: int = 100
) -> list[UnattributedOut]:
    """Entries the bank booked on a debtor account that match no payment Saldo sent from it, newest
    first: they are in no run's reconciliation, so they are listed here for the payment authority."""
    return [
        UnattributedOut(
            debtor_account_scheme=entry.debtor_account_scheme or "",
            debtor_account=entry.debtor_account or "",
            bank_message_id=message.id,
            message_type=message.message_type,
            message_id=message.message_id,
            filename=message.filename,
            received_at=message.received_at,
            line=entry.line,
            end_to_end_id=entry.end_to_end_id,
            amount_minor=entry.amount_minor,
            currency=entry.currency,
            code=entry.code,
            reason=entry.reason,
        )
        for entry, message in RunRepository(session).unattributed(scheme=scheme, account=account, limit=limit)
    ]


def mediation_overview(session: Session) -> dict[str, int]:
    """Counts for the start page: runs, files sent, bank messages read, entries left unmatched."""
    runs, files, messages, unmatched = RunRepository(session).counts()
    return {"runs": runs, "files": files, "bank_messages": messages, "unmatched_entries": unmatched}
