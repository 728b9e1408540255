"""Who a request comes from, for the register domain: the register keeper behind an API token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from saldo.http.deps import Credentials, DbSession, bearer_token
from saldo.registers.schemas import KeeperPrincipal
from saldo.registers.service import authenticate_keeper


def require_register_keeper(session: DbSession, credentials: Credentials) -> KeeperPrincipal:
    """The register keeper behind the request's bearer token; 401 without a valid, unrevoked one."""
    return authenticate_keeper(session, bearer_token(credentials))


CurrentKeeper = Annotated[KeeperPrincipal, Depends(require_register_keeper)]
