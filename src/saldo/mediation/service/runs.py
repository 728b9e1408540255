"""Payment runs: for an execution date, one run per debtor account takes every verified, due,
not-held payment, cuts them into files of a bounded size, and is done when every file is written.

A run moves planned -> scheduled -> sent, each step idempotent: the files are cut once (a range of
payers and payment ids each, read-only), each file takes its payments in the transaction that
writes it (a payment's run and file are set once), files already written are skipped, and a run
that failed part-way is resumed by running it again. Each payment is therefore updated once, from
verified to sent, when its file goes out."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saldo.banks.service import holder_of
from saldo.db.queue import defer_job
from saldo.kit.account_number import AccountNumber, AccountScheme
from saldo.mediation.errors import RunError, RunNotFoundError
from saldo.mediation.models import PaymentRun, RunStatus
from saldo.mediation.repository import RunRepository

RUN_ACTOR = "system:payment-run"
RUN_TASK = "mediation.execute_payment_run"  # the job's name in the queue (saldo.worker registers it)
RUN_QUEUE = "payment_runs"


def run_lock(run_id: int) -> str:
    """The job lock of a run: one job per run waits or works at a time."""
    return f"payment-run-{run_id}"


def plan_payment_runs(
    session: Session, *, execution_date: dt.date, requested_by: str, max_file_transactions: int
) -> list[PaymentRun]:
    """Create the day's runs — one per debtor account with verified payments due — and queue a job
    for each; a run of that day that exists and is not done is queued again (resumed)."""
    repository = RunRepository(session)
    runs: list[PaymentRun] = []
    for scheme, account in repository.debtor_accounts_due(execution_date):
        run = repository.find_run(execution_date, scheme, account)
        if run is None:
            try:
                with session.begin_nested():
                    run = repository.add_run(
                        PaymentRun(
                            execution_date=execution_date,
                            debtor_account_scheme=scheme,
                            debtor_account=account,
                            bank_id=_bank_if_known(session, scheme, account),
                            status=RunStatus.PLANNED,
                            requested_by=requested_by,
                            max_file_transactions=max_file_transactions,
                        )
                    )
            except IntegrityError:  # planned at the same moment by someone else: one run per day and account
                run = repository.find_run(execution_date, scheme, account)
                assert run is not None
        if run.status is RunStatus.SENT:
            continue  # the day's run for this account went out; later payments go in a later run
        queue_run(session, run.id)
        runs.append(run)
    return runs


def bank_of_debtor_account(session: Session, scheme: AccountScheme, account: str) -> int | None:
    """The bank holding a debtor account: the one its payers named, else the one whose account
    ranges hold it (an IBAN or clearing number). None when no bank, or more than one, is named."""
    named = RunRepository(session).payer_banks(scheme, account)
    if len(named) > 1:
        raise RunError(f"the payers paying from {account} name {len(named)} different banks as holding it")
    if named:
        return named[0]
    holder = holder_of(session, AccountNumber(scheme, account))
    return holder.id if holder is not None else None


def _bank_if_known(session: Session, scheme: AccountScheme, account: str) -> int | None:
    try:
        return bank_of_debtor_account(session, scheme, account)
    except RunError:
        return None  # the run stops with the reason when it is cut, where its operator sees it


def queue_run(session: Session, run_id: int) -> int:
    """Queue (or re-queue, to resume) a run's job; returns the job id."""
    return defer_job(session, task=RUN_TASK, queue=RUN_QUEUE, args={"run_id": run_id}, lock=run_lock(run_id))


def resume_payment_run(session: Session, run_id: int) -> PaymentRun:
    """Queue a run that failed or stopped again; a run that is done is refused."""
    run = RunRepository(session).get_run(run_id)
    if run is None:
        raise RunNotFoundError(f"no payment run {run_id}")
    if run.status is RunStatus.SENT:
        raise RunError(f"payment run {run_id} is done: all its files were sent")
    queue_run(session, run_id)
    return run


def schedule_run(session: Session, run_id: int) -> PaymentRun:
    """Cut the run into files (once): the verified payments due on or before the execution date,
    not held, in no other run, by payer and id. Returns the run with its payment and file counts."""
    repository = RunRepository(session)
    run = repository.get_run(run_id, lock=True)
    if run is None:
        raise RunNotFoundError(f"no payment run {run_id}")
    if run.bank_id is None:  # planned before a bank held its account: look again, or stop here
        bank_id = bank_of_debtor_account(session, run.debtor_account_scheme, run.debtor_account)
        if bank_id is None:
            raise RunError(
                f"no connected bank holds debtor account {run.debtor_account}: name the payers' bank "
                "(saldo payers set-bank) or connect the bank whose ranges hold it (saldo banks create), "
                "then resume the run"
            )
        repository.set_run(run.id, bank_id=bank_id)
        session.flush()
        session.refresh(run)
    if run.payments is not None:  # cut before: a resumed run keeps its files
        if run.status is RunStatus.FAILED:
            repository.set_run(run.id, status=RunStatus.SCHEDULED, error=None)
            session.flush()
            session.refresh(run)
        return run
    due, last_id, starts = repository.plan_files(run)
    repository.set_run(
        run.id,
        status=RunStatus.SCHEDULED,
        payments=due,
        file_starts=starts,
        last_payment_id=last_id,
        error=None,
    )
    session.flush()
    session.refresh(run)
    return run


def finish_run(session: Session, run_id: int) -> PaymentRun:
    """Mark the run sent once each of its planned files is written (or had nothing left to send)."""
    repository = RunRepository(session)
    run = repository.get_run(run_id, lock=True)
    if run is None:
        raise RunNotFoundError(f"no payment run {run_id}")
    if run.status is not RunStatus.SENT:
        repository.set_run(run.id, status=RunStatus.SENT, finished_at=dt.datetime.now(dt.UTC), error=None)
        session.flush()
        session.refresh(run)
    return run


def fail_run(session: Session, run_id: int, error: str) -> None:
    """Record why a run stopped; its files written so far stay written, and running it again resumes."""
    RunRepository(session).set_run(run_id, status=RunStatus.FAILED, error=error[:2000])
    session.flush()
