from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from saldo.kit.national_id import IdScheme, kind_of
from saldo.payees.repository import PayeeKey, PayeeRepository


def resolve_payees(session: Session, keys: Iterable[PayeeKey]) -> dict[PayeeKey, int]:
    """Payee ids for validated (scheme, canonical identifier) keys, creating payees seen for the first time."""
    unique = sorted(set(keys))
    rows = [(scheme, identifier, kind_of(IdScheme(scheme)).value) for scheme, identifier in unique]
    return PayeeRepository(session).ensure(rows)


def resolve_payee(session: Session, id_scheme: str, identifier: str) -> int:
    """The payee id for one validated (scheme, canonical identifier), creating the payee if new."""
    return PayeeRepository(session).ensure_one(id_scheme, identifier, kind_of(IdScheme(id_scheme)).value)
