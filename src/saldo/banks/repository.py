from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from saldo.banks.models import Bank, BankRange, BankToken
from saldo.db.sql import bound
from saldo.kit.account_number import AccountScheme

# Whose bank token this is, unrevoked: one statement for the API's check and the VoP fast path's.
ACTIVE_TOKEN = (
    "SELECT t.id AS token_id, b.id AS bank_id, b.bic, b.name FROM bank_tokens t JOIN banks b ON b.id = t.bank_id "  # noqa: S105 — a statement, not a secret
    "WHERE t.secret_sha256 = %(secret)s AND t.revoked_at IS NULL"
)
_PRINCIPAL = bound(ACTIVE_TOKEN)


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

    def ranges_of(self, bank_id: int) -> Sequence[BankRange]:
        return self.session.scalars(
            select(BankRange).where(BankRange.bank_id == bank_id).order_by(BankRange.scheme, BankRange.first)
        ).all()

    def ranges_of_scheme(self, scheme: AccountScheme) -> Sequence[BankRange]:
        return self.session.scalars(select(BankRange).where(BankRange.scheme == scheme)).all()

    def add_ranges(self, ranges: Sequence[BankRange]) -> None:
        self.session.add_all(ranges)
        self.session.flush()

    def holder_of(self, scheme: AccountScheme, key: str) -> Bank | None:
        """The bank whose range holds this key (ranges never overlap: at most one)."""
        return self.session.scalar(
            select(Bank)
            .join(BankRange, BankRange.bank_id == Bank.id)
            .where(
                BankRange.scheme == scheme,
                func.length(BankRange.first) == len(key),
                BankRange.first <= key,
                BankRange.last >= key,
            )
            .limit(1)
        )

    def add_token(self, token: BankToken) -> BankToken:
        self.session.add(token)
        self.session.flush()
        return token

    def active_token_principal(self, secret_sha256: bytes) -> Row[int, int, str, str] | None:
        """(token id, bank id, BIC, name) of an unrevoked token."""
        return self.session.execute(_PRINCIPAL, {"secret": secret_sha256}).first()
