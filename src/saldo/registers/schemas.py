from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from saldo.registers.models import RegisterKind


@dataclass(frozen=True, slots=True)
class KeeperPrincipal:
    """Who is calling: the register keeper an API token belongs to, and the registers it keeps."""

    keeper_id: int
    organisation_number: str
    name: str
    registers: frozenset[RegisterKind]
    token_id: int

    @property
    def actor(self) -> str:
        """How a load by this keeper is recorded."""
        return f"keeper:{self.keeper_id}:token:{self.token_id}"


class KeeperOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_number: str
    name: str
    registers: list[RegisterKind]
    created_at: dt.datetime


class IssuedKeeperToken(BaseModel):
    id: int
    keeper_id: int
    label: str
    token: str  # shown once; only its SHA-256 is stored


class RegisterLoadOut(BaseModel):
    """One register file read into Saldo."""

    load_id: int
    kind: RegisterKind = Field(description="Which register: population, income or representation.")
    filename: str
    rows: int = Field(description="Records in the file.")
    content_sha256: str = Field(description="SHA-256 of the file, hex; the same file sent again changes nothing.")
    loaded_by: str
    loaded_at: dt.datetime


class RegisterLoaded(BaseModel):
    """The answer to a register file: stored whole, or (already_loaded) received before and unchanged."""

    load_id: int
    kind: RegisterKind = Field(description="Which register: population, income or representation.")
    rows: int
    already_loaded: bool
