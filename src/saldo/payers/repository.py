from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saldo.benefits.models import Benefit
from saldo.db.sql import bound
from saldo.kit.account_number import AccountScheme
from saldo.payers.models import ApiToken, Payer, PayerBenefit, PayerUser

# Runs on every API request: a constant statement, so SQLAlchemy does no per-call construction.
# Whose API token this is, unrevoked: one statement for the API's check (``authenticate``) and the
# fast paths' (saldo.web.fastpath through the payments and accounts repositories), in psycopg's style.
ACTIVE_TOKEN = (
    "SELECT t.id AS token_id, p.id AS payer_id, p.organisation_number, p.name, p.connection_model "  # noqa: S105 — a statement, not a secret
    "FROM api_tokens t JOIN payers p ON p.id = t.payer_id "
    "WHERE t.secret_sha256 = %(secret)s AND t.revoked_at IS NULL"
)
_PRINCIPAL = bound(ACTIVE_TOKEN)


_USER_PRINCIPAL = text(
    "SELECT u.id, p.id, p.organisation_number, p.name, p.connection_model "
    "FROM payer_users u JOIN payers p ON p.id = u.payer_id "
    "WHERE u.person_scheme = :scheme AND u.person_id = :identifier AND u.disabled_at IS NULL"
)
_USER_BY_ID = text(
    "SELECT u.id, p.id, p.organisation_number, p.name, p.connection_model "
    "FROM payer_users u JOIN payers p ON p.id = u.payer_id WHERE u.id = :id AND u.disabled_at IS NULL"
)


class PayerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_user(self, user: PayerUser) -> PayerUser:
        self.session.add(user)
        self.session.flush()
        return user

    def user_principal(self, scheme: str, identifier: str) -> Row[Any] | None:
        """(user id, payer id, organisation number, name, connection model) of an enabled user."""
        return self.session.execute(_USER_PRINCIPAL, {"scheme": scheme, "identifier": identifier}).first()

    def user_principal_by_id(self, user_id: int) -> Row[Any] | None:
        return self.session.execute(_USER_BY_ID, {"id": user_id}).first()

    def get(self, payer_id: int) -> Payer | None:
        return self.session.get(Payer, payer_id)

    def by_organisation_number(self, organisation_number: str) -> Payer | None:
        return self.session.scalar(select(Payer).where(Payer.organisation_number == organisation_number))

    def list_all(self) -> Sequence[Payer]:
        return self.session.scalars(select(Payer).order_by(Payer.name)).all()

    def add(self, payer: Payer) -> Payer:
        self.session.add(payer)
        self.session.flush()
        return payer

    def banks_of_account(self, scheme: AccountScheme, account: str) -> set[int]:
        """The banks named by the payers paying from this account."""
        rows = self.session.scalars(
            select(Payer.bank_id).where(
                Payer.debtor_account_scheme == scheme, Payer.debtor_account == account, Payer.bank_id.is_not(None)
            )
        )
        return {int(r) for r in rows if r is not None}

    def set_bank_of_account(self, scheme: AccountScheme, account: str, bank_id: int) -> None:
        self.session.execute(
            update(Payer)
            .where(Payer.debtor_account_scheme == scheme, Payer.debtor_account == account)
            .values(bank_id=bank_id)
        )
        self.session.flush()

    def grant_benefits(self, payer_id: int, benefit_ids: Sequence[int]) -> None:
        if benefit_ids:
            rows = [{"payer_id": payer_id, "benefit_id": b} for b in benefit_ids]
            self.session.execute(insert(PayerBenefit).values(rows).on_conflict_do_nothing())

    def benefit_codes(self, payer_id: int) -> list[str]:
        query = (
            select(Benefit.code)
            .join(PayerBenefit, PayerBenefit.benefit_id == Benefit.id)
            .where(PayerBenefit.payer_id == payer_id)
            .order_by(Benefit.code)
        )
        return list(self.session.scalars(query))

    def benefit_codes_by_payer(self) -> dict[int, list[str]]:
        query = (
            select(PayerBenefit.payer_id, Benefit.code)
            .join(Benefit, Benefit.id == PayerBenefit.benefit_id)
            .order_by(PayerBenefit.payer_id, Benefit.code)
        )
        codes: dict[int, list[str]] = {}
        for payer_id, code in self.session.execute(query):
            codes.setdefault(payer_id, []).append(code)
        return codes

    def add_token(self, token: ApiToken) -> ApiToken:
        self.session.add(token)
        self.session.flush()
        return token

    def tokens(self, payer_id: int) -> Sequence[ApiToken]:
        return self.session.scalars(select(ApiToken).where(ApiToken.payer_id == payer_id).order_by(ApiToken.id)).all()

    def active_token_principal(self, secret_sha256: bytes) -> Row[int, int, str, str, str] | None:
        """(token id, payer id, organisation number, name, connection model) of an unrevoked token."""
        return self.session.execute(_PRINCIPAL, {"secret": secret_sha256}).first()

    def revoke_token(self, token_id: int, at: dt.datetime) -> bool:
        result = self.session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(ApiToken.id)
        )
        return result.first() is not None
