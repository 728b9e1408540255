"""The JSON behind the citizen's overview, for the citizen's own browser (session cookie) and apps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from saldo.citizens.schemas import CitizenOverview
from saldo.citizens.service import citizen_overview
from saldo.http.deps import DbSession
from saldo.identity.http import CurrentCitizen
from saldo.kit.problem import problem_responses

router = APIRouter(prefix="/api/v1/me", tags=["citizens"], responses=problem_responses(401, 403, 422))


@router.get(
    "/overview",
    response_model=CitizenOverview,
    summary="The logged-in citizen's payments, account, checks and access log",
)
async def overview(
    session: DbSession, principal: CurrentCitizen, year: Annotated[int | None, Query(ge=1900, le=2200)] = None
) -> Response:
    """What the overview page shows, as JSON. Needs the session cookie of an eID login."""
    # async on purpose, as the page is: one short indexed statement on the loop beats a thread hop
    result = citizen_overview(session, principal, year=year)
    if principal.assisted:
        session.commit()  # the caseworker's read is in the access log
    # built and checked as a CitizenOverview already: serialised once, not validated a second time
    return Response(result.model_dump_json(), media_type="application/json", headers={"Cache-Control": "no-store"})
