from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from saldo.kit.account_number import AccountScheme
from saldo.payers.models import ConnectionModel, PayerKind


@dataclass(frozen=True, slots=True)
class PayerPrincipal:
    """Who is calling: the payer an API token belongs to. Every payer query is scoped by ``payer_id``."""

    payer_id: int
    organisation_number: str
    name: str
    connection_model: ConnectionModel
    token_id: int  # 0 for a person logged in to the payer's pages (user_id says who)
    user_id: int | None = None


class PayerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_number: str
    name: str
    kind: PayerKind
    connection_model: ConnectionModel
    debtor_account_scheme: AccountScheme
    debtor_account: str
    benefits: list[str]
    created_at: dt.datetime


class IssuedToken(BaseModel):
    id: int
    payer_id: int
    label: str
    token: str  # shown once; only its SHA-256 is stored


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
