from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from saldo.decisions.errors import DecisionFileEmptyError, DecisionFileTooLargeError
from saldo.decisions.schemas import DecisionsStored
from saldo.decisions.service import store_decisions
from saldo.http.deps import CSV_BODY, AppSettings, DbSession, receive_to_file
from saldo.kit.problem import Problem
from saldo.payers.http import CurrentPayer
from saldo.payers.schemas import PayerPrincipal

router = APIRouter(prefix="/api/v1", tags=["decisions"])


@router.post(
    "/decisions",
    response_model=DecisionsStored,
    summary="Send the decisions behind payments (CSV)",
    responses={
        401: {"model": Problem, "description": "Missing, unknown or revoked API token"},
        413: {"model": Problem, "description": "Larger than the size limit"},
        422: {"model": Problem, "description": "Rejected whole, with every fault (line, field, reason)"},
    },
    openapi_extra=CSV_BODY,
)
async def post_decisions(
    request: Request, payer: CurrentPayer, session: DbSession, settings: AppSettings
) -> DecisionsStored:
    """A decision file (docs/formats/analysis-inputs.md) for the calling payer's own benefits, checked
    whole: every decision is stored, or none, with every fault reported. Re-sent decisions change
    nothing; a known reference with other content is an amendment."""
    with tempfile.TemporaryDirectory(prefix="saldo-decisions-") as folder:
        path = Path(folder) / "decisions.csv"
        await receive_to_file(
            request, path, settings.max_upload_bytes, too_large=DecisionFileTooLargeError, empty=DecisionFileEmptyError
        )
        return await run_in_threadpool(_store, session, payer, path)


def _store(session: Session, payer: PayerPrincipal, path: Path) -> DecisionsStored:
    stored = store_decisions(session, payer_id=payer.payer_id, payer_name=payer.name, path=path)
    session.commit()
    return stored
