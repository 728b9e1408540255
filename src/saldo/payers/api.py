from __future__ import annotations

from fastapi import APIRouter

from saldo.benefits.schemas import BenefitOut
from saldo.benefits.service import list_benefits
from saldo.http.deps import DbSession
from saldo.kit.problem import Problem
from saldo.payers.http import CurrentPayer
from saldo.payers.schemas import PayerOut
from saldo.payers.service import describe_payer

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


# The benefit catalogue, as payers see it: it belongs to the benefits domain, which lies below the
# payers (a payer is connected for some of its benefits), so the route that needs a payer is here.
catalogue = APIRouter(prefix="/api/v1", tags=["benefits"])


@catalogue.get(
    "/benefits",
    response_model=list[BenefitOut],
    summary="The benefit catalogue",
    responses={401: {"model": Problem, "description": "Missing, unknown or revoked API token"}},
)
def get_benefits(_payer: CurrentPayer, session: DbSession) -> list[BenefitOut]:
    """Every benefit Saldo knows, with its legal basis, analysis flags and mutual exclusions."""
    return list_benefits(session)
