from __future__ import annotations

from fastapi import APIRouter

from saldo.benefits.schemas import BenefitOut
from saldo.benefits.service import list_benefits
from saldo.kit.problem import Problem
from saldo.web.deps import CurrentPayer, DbSession

router = APIRouter(prefix="/api/v1", tags=["benefits"])


@router.get(
    "/benefits",
    response_model=list[BenefitOut],
    summary="The benefit catalogue",
    responses={401: {"model": Problem, "description": "Missing, unknown or revoked API token"}},
)
def get_benefits(_payer: CurrentPayer, session: DbSession) -> list[BenefitOut]:
    """Every benefit Saldo knows, with its legal basis, analysis flags and mutual exclusions."""
    return list_benefits(session)
