"""The JSON behind the citizen's overview, for the citizen's own browser (session cookie) and apps."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from saldo.citizens.schemas import CitizenOverview
from saldo.citizens.service import citizen_overview
from saldo.db.replica import PRIMARY
from saldo.http.deps import READ_FROM_HEADER, DbSession
from saldo.identity.http import CurrentCitizen
from saldo.kit.problem import problem_responses

router = APIRouter(prefix="/api/v1/me", tags=["citizens"], responses=problem_responses(401, 403, 422))
READ_FROM: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            READ_FROM_HEADER: {
                "description": "Where the overview was read: `primary`, or `replica; lag=<seconds>` (a streaming "
                "replica at most that far behind the primary, so the overview may be that old; never just after "
                "the citizen's own change of account)",
                "schema": {"type": "string"},
            }
        }
    }
}


@router.get(
    "/overview",
    response_model=CitizenOverview,
    summary="The logged-in citizen's payments, account, checks and access log",
    responses=READ_FROM,
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
    # read on the primary here; the fast path reads it on a replica when one is set (decision 0039)
    headers = {"Cache-Control": "no-store", READ_FROM_HEADER: PRIMARY.header()}
    return Response(result.model_dump_json(), media_type="application/json", headers=headers)
