from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, select, text
from sqlalchemy.orm import Session

from saldo.banks.models import Bank, BankToken

_PRINCIPAL = text(
    "SELECT t.id, b.id, b.bic, b.name FROM bank_tokens t JOIN banks b ON b.id = t.bank_id "
    "WHERE t.secret_sha256 = :secret AND t.revoked_at IS NULL"
)


class BankRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, bank_id: int) -> Bank | None:
        return self.session.get(Bank, bank_id)

    def by_bic(self, bic: str) -> Bank | None:
        return self.session.scalar(select(Bank).where(Bank.bic == bic))

    def list_all(self) -> Sequence[Bank]:
        return self.session.scalars(select(Bank).order_by(Bank.id)).all()

    def add(self, bank: Bank) -> Bank:
        self.session.add(bank)
        self.session.flush()
        return bank

    def add_token(self, token: BankToken) -> BankToken:
        self.session.add(token)
        self.session.flush()
        return token

    def active_token_principal(self, secret_sha256: bytes) -> Row[int, int, str, str] | None:
        """(token id, bank id, BIC, name) of an unrevoked token."""
        return self.session.execute(_PRINCIPAL, {"secret": secret_sha256}).first()
