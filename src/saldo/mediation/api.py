from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from saldo.banks.http import CurrentBank
from saldo.http.deps import AppSettings, DbSession, receive_to_file
from saldo.kit.dates import IsoDate
from saldo.kit.problem import FILENAME_PATTERN, Problem
from saldo.mediation.errors import BankMessageError, BankMessageTooLargeError, RunNotFoundError
from saldo.mediation.schemas import BankMessageOut, RunOut, RunPage
from saldo.mediation.service.answers import read_bank_message
from saldo.mediation.service.reconcile import get_run, list_runs
from saldo.payers.http import CurrentPayer

router = APIRouter(prefix="/api/v1", tags=["payment runs"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing, unknown or revoked API token"},
    422: {"model": Problem, "description": "Invalid input, with every bad field"},
}
XML_BODY = {"requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}}}


@router.get(
    "/payment-runs", response_model=RunPage, summary="List the payment runs of the payer's account", responses=PROBLEMS
)
def get_runs(
    payer: CurrentPayer,
    session: DbSession,
    settings: AppSettings,
    execution_date: Annotated[IsoDate | None, Query(description="Only runs for this execution date.")] = None,
    after: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="Runs with a smaller id than this.")] = None,
    limit: Annotated[int, Query(ge=1, description="Page size (at most the configured maximum).")] = 50,
) -> RunPage:
    """Runs from the payer's debtor account, newest first, each reconciled for the payer's own
    payments: sent, settled, rejected, returned, outstanding, and unmatched bank entries."""
    return list_runs(
        session,
        payer_id=payer.payer_id,
        execution_date=execution_date,
        after=after,
        limit=min(limit, settings.page_size_max),
    )


@router.get(
    "/payment-runs/{run_id}",
    response_model=RunOut,
    summary="One payment run with its files and reconciliation",
    responses={**PROBLEMS, 404: {"model": Problem}},
)
def get_one_run(run_id: int, payer: CurrentPayer, session: DbSession) -> RunOut:
    """A run from the payer's debtor account, its files (message id, SHA-256, size) and where the
    payer's payments in it stand; another account's run is reported as not found."""
    if not 1 <= run_id <= 2**63 - 1:
        raise RunNotFoundError(f"no payment run {run_id}")
    return get_run(session, run_id, payer_id=payer.payer_id)


@router.post(
    "/bank/payment-messages",
    status_code=201,
    response_model=BankMessageOut,
    tags=["bank answers"],
    summary="Deliver a pain.002 status report or a camt.054 / camt.053 (XML)",
    responses={
        **PROBLEMS,
        200: {"model": BankMessageOut, "description": "This exact file was read before; nothing changed"},
        413: {"model": Problem, "description": "Larger than the size limit"},
    },
    openapi_extra=XML_BODY,
)
async def post_payment_message(
    request: Request,
    bank: CurrentBank,
    session: DbSession,
    settings: AppSettings,
    filename: Annotated[str | None, Query(max_length=255, pattern=FILENAME_PATTERN)] = None,
) -> Response:
    """The bank's answer to Saldo's payment files, validated against the official ISO 20022 schema
    and applied whole or not at all: rejected, settled and returned payments move, with the bank's
    reason code in their history; entries that cannot be matched are listed, never guessed."""
    with tempfile.TemporaryDirectory(prefix="saldo-bank-message-") as folder:
        path = Path(folder) / "message.xml"
        await receive_to_file(
            request, path, settings.max_upload_bytes, too_large=BankMessageTooLargeError, empty=BankMessageError
        )
        result = await run_in_threadpool(_read, session, path, filename, bank.bank_id)
    return Response(
        result.model_dump_json(), media_type="application/json", status_code=200 if result.already_read else 201
    )


def _read(session: Session, path: Path, filename: str | None, bank_id: int) -> BankMessageOut:
    result = read_bank_message(session, path, filename=filename, received_by=f"bank:{bank_id}", bank_id=bank_id)
    session.commit()
    return result
