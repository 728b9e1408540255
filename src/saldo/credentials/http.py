"""Who a request comes from, for the credentials: a wallet, by the OpenID4VCI access token it was
given for one credential offer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from saldo.http.deps import Credentials, bearer_token


def require_wallet(credentials: Credentials) -> str:
    """The access token a wallet got from the token endpoint (401 without one); which offer it
    belongs to, and whether it still holds, the credential endpoint checks."""
    return bearer_token(credentials)


WalletToken = Annotated[str, Depends(require_wallet)]
