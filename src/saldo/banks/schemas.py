from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True, slots=True)
class BankPrincipal:
    """Who is calling: the bank an API token belongs to. Every register change is scoped by ``bank_id``."""

    bank_id: int
    bic: str
    name: str
    token_id: int


class BankOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    bic: str
    name: str
    created_at: dt.datetime
    ranges: list[str] = []  # the account ranges it holds, e.g. "se_clearing:5000-5999", "iban:SE500"


class IssuedBankToken(BaseModel):
    id: int
    bank_id: int
    label: str
    token: str  # shown once; only its SHA-256 is stored
