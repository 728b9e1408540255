"""Who a request comes from, for the payer domain: the payer behind an API token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from saldo.http.deps import Credentials, DbSession, bearer_token
from saldo.payers.schemas import PayerPrincipal
from saldo.payers.service import authenticate


def require_payer(session: DbSession, credentials: Credentials) -> PayerPrincipal:
    """The payer behind the request's bearer token; 401 without a valid, unrevoked token."""
    return authenticate(session, bearer_token(credentials))


CurrentPayer = Annotated[PayerPrincipal, Depends(require_payer)]
