"""Reading the register: who held an account on a given date, and its history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from saldo.accounts.errors import AccountNotFoundError
from saldo.accounts.repository import AccountRepository
from saldo.accounts.schemas import AccountEventOut, AccountOut, HolderOut, RegisterOverview
from saldo.kit.account_number import AccountScheme, normalize_account
from saldo.kit.clock import today


def describe_account(
    session: Session, *, scheme: AccountScheme, account: str, on: dt.date, bank_id: int | None = None
) -> AccountOut:
    """The account, its holders on date ``on`` and its whole history. With ``bank_id``, only that
    bank's accounts are found (a bank sees its own accounts only)."""
    number = normalize_account(scheme, account)
    repository = AccountRepository(session)
    found = repository.account_with_bank(number.scheme.value, number.number)
    if found is None or (bank_id is not None and found[0].bank_id != bank_id):
        raise AccountNotFoundError(f"no account {number.number} in the register")
    stored, bic = found
    holders = [
        HolderOut(id_scheme=r[0], identifier=r[1], kind=r[2], name=r[3], held_from=r[4], held_until=r[5])
        for r in repository.holders_on(stored.id, on)
    ]
    return AccountOut(
        account_scheme=stored.account_scheme,
        account=stored.account_number,
        bank_bic=bic,
        opened_on=stored.opened_on,
        closed_on=stored.closed_on,
        on=on,
        holders=holders,
        history=[AccountEventOut.model_validate(e) for e in repository.events(stored.id)],
    )


def register_overview(session: Session) -> RegisterOverview:
    """What the account register holds, in counts."""
    accounts, open_accounts, designated, letters = AccountRepository(session).overview(today())
    return RegisterOverview(
        accounts=accounts, open_accounts=open_accounts, designated=designated, letters_pending=letters
    )
