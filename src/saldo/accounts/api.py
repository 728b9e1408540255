"""The account register's HTTP API: banks feed the register and designate accounts; payers and
banks ask verification of payee (EPC VOP)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from saldo.accounts.errors import BankFileTooLargeError, BankFileUnreadableError
from saldo.accounts.http import CurrentParticipant
from saldo.accounts.models import Channel
from saldo.accounts.schemas import (
    AccountOut,
    AccountRecordsIn,
    BankFileAccepted,
    DesignationIn,
    DesignationOut,
    RegisterSummary,
    VopBulkIn,
    VopBulkOut,
    VopCheckIn,
    VopResult,
)
from saldo.accounts.service.designate import designate_account
from saldo.accounts.service.files import BankFileSource, load_bank_file
from saldo.accounts.service.query import describe_account
from saldo.accounts.service.register import bank_actor, register_accounts
from saldo.accounts.service.verify import check_payee, check_payees, thresholds_from
from saldo.banks.http import CurrentBank
from saldo.banks.schemas import BankPrincipal
from saldo.http.deps import CSV_BODY, AppSettings, DbSession, receive_to_file
from saldo.kit.account_number import AccountScheme
from saldo.kit.clock import today
from saldo.kit.dates import IsoDate
from saldo.kit.problem import FILENAME_PATTERN, Problem

router = APIRouter(prefix="/api/v1")

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing, unknown or revoked API token"},
    422: {"model": Problem, "description": "Invalid input, with every bad field"},
}


@router.post(
    "/bank/accounts",
    response_model=RegisterSummary,
    tags=["account register"],
    summary="Report accounts and their holders (incremental)",
    responses=PROBLEMS,
)
def post_accounts(
    body: AccountRecordsIn, bank: CurrentBank, session: DbSession, settings: AppSettings
) -> RegisterSummary:
    """Each account as the bank has it now: dates and every holder. New accounts are added, changes
    recorded in the account's history, holders no longer listed stop holding it. All or nothing;
    a bank can change only accounts it reported itself."""
    summary = register_accounts(
        session,
        bank=bank,
        request=body,
        max_records=settings.max_account_records,
        max_errors=settings.max_reported_errors,
    )
    session.commit()
    return summary


@router.post(
    "/bank/account-files",
    status_code=201,
    response_model=BankFileAccepted,
    tags=["account register"],
    summary="Load a daily register file (CSV)",
    responses={
        **PROBLEMS,
        200: {"model": BankFileAccepted, "description": "This exact file was loaded before"},
        413: {"model": Problem, "description": "Larger than the size limit"},
    },
    openapi_extra=CSV_BODY,
)
async def post_account_file(
    request: Request,
    bank: CurrentBank,
    session: DbSession,
    settings: AppSettings,
    as_of: Annotated[IsoDate | None, Query(description="Date the file describes; default today.")] = None,
    filename: Annotated[str | None, Query(max_length=255, pattern=FILENAME_PATTERN)] = None,
) -> Response:
    """One row per account holder (docs/formats/bank-account-file.md). Loaded whole or not at all,
    with every bad row reported (line, field, reason); the same file again changes nothing."""
    with tempfile.TemporaryDirectory(prefix="saldo-bank-file-") as folder:
        path = Path(folder) / "register.csv"
        digest = await receive_to_file(
            request,
            path,
            settings.max_upload_bytes,
            too_large=BankFileTooLargeError,
            empty=BankFileUnreadableError,
        )
        source = BankFileSource(path=path, sha256=digest, filename=filename, as_of=as_of or today())
        result = await run_in_threadpool(_load, session, bank, source, settings.max_reported_errors)
    return Response(
        result.model_dump_json(), media_type="application/json", status_code=200 if result.already_loaded else 201
    )


def _load(session: Session, bank: BankPrincipal, source: BankFileSource, max_errors: int) -> BankFileAccepted:
    result = load_bank_file(session, bank=bank, source=source, max_errors=max_errors)
    session.commit()
    return result


@router.get(
    "/bank/accounts",
    response_model=AccountOut,
    tags=["account register"],
    summary="One of the bank's accounts: holders on a date, and history",
    responses={**PROBLEMS, 404: {"model": Problem}},
)
def get_account(
    bank: CurrentBank,
    session: DbSession,
    account: Annotated[str, Query(max_length=64)],
    account_scheme: AccountScheme = AccountScheme.IBAN,
    on: Annotated[IsoDate | None, Query(description="Who held it on this date; default today.")] = None,
) -> AccountOut:
    """Who held the account on date ``on``, and every change ever recorded. Only the bank's own accounts."""
    return describe_account(session, scheme=account_scheme, account=account, on=on or today(), bank_id=bank.bank_id)


@router.post(
    "/bank/designations",
    response_model=DesignationOut,
    tags=["account register"],
    summary="Designate a customer's account for public payments",
    responses=PROBLEMS,
)
def post_designation(body: DesignationIn, bank: CurrentBank, session: DbSession) -> DesignationOut:
    """On the customer's instruction, make one of the bank's accounts the payee's designated account
    (as with Denmark's NemKonto). The payee is told by letter to the registered address."""
    result = designate_account(session, body, channel=Channel.BANK, actor=bank_actor(bank), bank_id=bank.bank_id)
    session.commit()
    return result


@router.post(
    "/vop/checks",
    response_model=VopResult,
    tags=["verification of payee"],
    summary="Verify one account against a name or identifier",
    responses=PROBLEMS,
)
def post_check(body: VopCheckIn, _: CurrentParticipant, session: DbSession, settings: AppSettings) -> VopResult:
    """The EPC VOP answer: match, close match (with the registered name), no match, or not possible,
    always with a reason code. An identifier (personnummer, organisation number) is the stronger check."""
    return check_payee(session, body, thresholds=thresholds_from(settings))


@router.post(
    "/vop/bulk",
    response_model=VopBulkOut,
    tags=["verification of payee"],
    summary="Verify many accounts in one request",
    responses={**PROBLEMS, 413: {"model": Problem, "description": "More checks than one request may carry"}},
)
def post_bulk(body: VopBulkIn, _: CurrentParticipant, session: DbSession, settings: AppSettings) -> VopBulkOut:
    """Up to `vop_bulk_max` checks; each gets its answer or its own error, in request order."""
    return check_payees(session, body.checks, thresholds=thresholds_from(settings), max_checks=settings.vop_bulk_max)
