"""Who a request comes from, for the bank domain: the bank behind an API token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from saldo.banks.schemas import BankPrincipal
from saldo.banks.service import authenticate_bank
from saldo.http.deps import Credentials, DbSession, bearer_token


def require_bank(session: DbSession, credentials: Credentials) -> BankPrincipal:
    """The bank behind the request's bearer token; 401 without a valid, unrevoked bank token."""
    return authenticate_bank(session, bearer_token(credentials))


CurrentBank = Annotated[BankPrincipal, Depends(require_bank)]
