"""Who a request comes from, for the staff domain: the member of staff behind an API token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from saldo.http.deps import Credentials, DbSession, bearer_token
from saldo.staff.schemas import StaffPrincipal
from saldo.staff.service import authenticate_staff


def require_staff(session: DbSession, credentials: Credentials) -> StaffPrincipal:
    """The staff member behind the request's bearer token; 401 without a valid one. Each endpoint
    then checks the role it needs (403 without it)."""
    return authenticate_staff(session, bearer_token(credentials))


CurrentStaff = Annotated[StaffPrincipal, Depends(require_staff)]
