from __future__ import annotations

from fastapi import APIRouter

from saldo.kit.problem import Problem
from saldo.payers.schemas import PayerOut
from saldo.payers.service import describe_payer
from saldo.web.deps import CurrentPayer, DbSession

router = APIRouter(prefix="/api/v1", tags=["payer"])


@router.get(
    "/payer",
    response_model=PayerOut,
    summary="The calling payer",
    responses={401: {"model": Problem, "description": "Missing, unknown or revoked API token"}},
)
def get_own_payer(payer: CurrentPayer, session: DbSession) -> PayerOut:
    """The payer the API token belongs to, with its connection model and the benefits it may pay."""
    return describe_payer(session, payer.payer_id)
