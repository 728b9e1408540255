"""Who may ask verification of payee: a payer or a bank."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from saldo.banks.schemas import BankPrincipal
from saldo.banks.service import authenticate_bank, is_bank_token
from saldo.http.deps import Credentials, DbSession, bearer_token
from saldo.payers.schemas import PayerPrincipal
from saldo.payers.service import authenticate


def require_participant(session: DbSession, credentials: Credentials) -> PayerPrincipal | BankPrincipal:
    """A payer or a bank: those who may ask verification of payee."""
    token = bearer_token(credentials)
    return authenticate_bank(session, token) if is_bank_token(token) else authenticate(session, token)


CurrentParticipant = Annotated[PayerPrincipal | BankPrincipal, Depends(require_participant)]
