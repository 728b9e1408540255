from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Row, select, text
from sqlalchemy.orm import Session

from saldo.accounts.models import AccountDesignation, AccountEvent, AccountHolder, BankAccount, BankFile, Letter
from saldo.banks.models import Bank
from saldo.banks.repository import ACTIVE_TOKEN as BANK_TOKEN
from saldo.payers.repository import ACTIVE_TOKEN as PAYER_TOKEN

AccountKey = tuple[str, str]  # (account_scheme, account_number)

# Each key looked up through the unique index (LATERAL), whatever the statistics say. As a plain join
# the planner chose to hash the whole table when its statistics said it was empty (as after a large
# file was refused and the table vacuumed): every batch of a 10-million-account load then read every
# account loaded before it.
_FIND_ACCOUNTS = text(
    "SELECT a.id, a.account_scheme, a.account_number, a.bank_id, a.opened_on, a.closed_on "
    "FROM unnest(CAST(:schemes AS text[]), CAST(:numbers AS text[])) AS k(s, n) "
    "CROSS JOIN LATERAL (SELECT * FROM bank_accounts b WHERE b.account_scheme = k.s AND b.account_number = k.n) a"
)
_CURRENT_HOLDERS = text(
    "SELECT id, account_id, holder_scheme, holder_identifier, holder_name FROM account_holders "
    "WHERE account_id = ANY(CAST(:ids AS bigint[])) AND held_until IS NULL"
)
_INSERT_ACCOUNTS = text(
    "INSERT INTO bank_accounts (account_scheme, account_number, bank_id, opened_on, closed_on) "
    "SELECT s, n, :bank_id, o, c FROM unnest(CAST(:schemes AS text[]), CAST(:numbers AS text[]), "
    "CAST(:opened AS date[]), CAST(:closed AS date[])) AS r(s, n, o, c) "
    "RETURNING id, account_scheme, account_number"
)
_UPDATE_ACCOUNTS = text(
    "UPDATE bank_accounts a SET opened_on = r.o, closed_on = r.c, updated_at = now() "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:opened AS date[]), CAST(:closed AS date[])) AS r(id, o, c) "
    "WHERE a.id = r.id"
)
_INSERT_HOLDERS = text(
    "INSERT INTO account_holders (account_id, holder_scheme, holder_identifier, holder_kind, holder_name, held_from) "
    "SELECT * FROM unnest(CAST(:account_ids AS bigint[]), CAST(:schemes AS text[]), CAST(:identifiers AS text[]), "
    "CAST(:kinds AS text[]), CAST(:names AS text[]), CAST(:held_from AS date[]))"
)
_END_HOLDERS = text(
    "UPDATE account_holders SET held_until = GREATEST(held_from, :until) WHERE id = ANY(CAST(:ids AS bigint[]))"
)
_RENAME_HOLDERS = text(
    "UPDATE account_holders h SET holder_name = r.name "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:names AS text[])) AS r(id, name) WHERE h.id = r.id"
)
_INSERT_EVENTS = text(
    "INSERT INTO account_events (account_id, change, holder_scheme, holder_identifier, detail, effective_on, "
    "actor, source) SELECT a, c, hs, hi, CAST(d AS jsonb), e, :actor, :source FROM unnest("
    "CAST(:account_ids AS bigint[]), CAST(:changes AS text[]), CAST(:holder_schemes AS text[]), "
    "CAST(:holder_ids AS text[]), CAST(:details AS text[]), CAST(:effective AS date[])) AS r(a, c, hs, hi, d, e)"
)
# Verification of payee: the account and its current holders in one round trip.
_VOP_ONE = text(
    "SELECT a.closed_on, h.holder_scheme, h.holder_identifier, h.holder_kind, h.holder_name "
    "FROM bank_accounts a LEFT JOIN account_holders h ON h.account_id = a.id AND h.held_until IS NULL "
    "WHERE a.account_scheme = :scheme AND a.account_number = :number"
)
_VOP_MANY = text(
    "SELECT k.s, k.n, a.closed_on, h.holder_scheme, h.holder_identifier, h.holder_kind, h.holder_name "
    "FROM unnest(CAST(:schemes AS text[]), CAST(:numbers AS text[])) AS k(s, n) "
    "CROSS JOIN LATERAL (SELECT * FROM bank_accounts b WHERE b.account_scheme = k.s AND b.account_number = k.n) a "
    "LEFT JOIN LATERAL (SELECT * FROM account_holders c WHERE c.account_id = a.id AND c.held_until IS NULL) h ON true"
)
_HOLDERS_ON = text(
    "SELECT h.holder_scheme, h.holder_identifier, h.holder_kind, h.holder_name, h.held_from, h.held_until "
    "FROM account_holders h WHERE h.account_id = :account_id AND h.held_from <= :on "
    "AND (h.held_until IS NULL OR h.held_until > :on) ORDER BY h.id"
)
_CURRENT_DESIGNATION = text(
    "SELECT d.account_id, a.account_scheme, a.account_number, d.designated_at FROM account_designations d "
    "JOIN bank_accounts a ON a.id = d.account_id WHERE d.payee_id = :payee_id ORDER BY d.id DESC LIMIT 1"
)

_OVERVIEW = text(
    "SELECT (SELECT count(*) FROM bank_accounts), "
    "(SELECT count(*) FROM bank_accounts WHERE closed_on IS NULL OR closed_on > CAST(:on AS date)), "
    "(SELECT count(DISTINCT payee_id) FROM account_designations), "
    "(SELECT count(*) FROM letters WHERE status = 'pending')"
)

VopRow = tuple[Any, ...]  # (closed on, holder scheme, identifier, kind, name); holder None if it has none


class StoredAccount(NamedTuple):
    id: int
    scheme: str
    number: str
    bank_id: int
    opened_on: dt.date
    closed_on: dt.date | None


class StoredHolder(NamedTuple):
    id: int
    account_id: int
    scheme: str
    identifier: str
    name: str


def _json(value: object) -> str:
    return orjson.dumps(value, default=str).decode()


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- bank records ----------------------------------------------------------------------------

    def find_accounts(self, keys: Sequence[AccountKey]) -> dict[AccountKey, StoredAccount]:
        """The known accounts among ``keys``."""
        rows = self.session.execute(_FIND_ACCOUNTS, {"schemes": [k[0] for k in keys], "numbers": [k[1] for k in keys]})
        return {(r[1], r[2]): StoredAccount(*r) for r in rows}

    def current_holders(self, account_ids: Sequence[int]) -> dict[int, list[StoredHolder]]:
        """Each account's current holders."""
        found: dict[int, list[StoredHolder]] = {}
        for row in self.session.execute(_CURRENT_HOLDERS, {"ids": list(account_ids)}):
            found.setdefault(row[1], []).append(StoredHolder(*row))
        return found

    def insert_accounts(
        self, bank_id: int, rows: Sequence[tuple[str, str, dt.date, dt.date | None]]
    ) -> dict[AccountKey, int]:
        if not rows:
            return {}
        result = self.session.execute(
            _INSERT_ACCOUNTS,
            {
                "bank_id": bank_id,
                "schemes": [r[0] for r in rows],
                "numbers": [r[1] for r in rows],
                "opened": [r[2] for r in rows],
                "closed": [r[3] for r in rows],
            },
        )
        return {(scheme, number): account_id for account_id, scheme, number in result}

    def update_accounts(self, rows: Sequence[tuple[int, dt.date, dt.date | None]]) -> None:
        if rows:
            self.session.execute(
                _UPDATE_ACCOUNTS,
                {"ids": [r[0] for r in rows], "opened": [r[1] for r in rows], "closed": [r[2] for r in rows]},
            )

    def insert_holders(self, rows: Sequence[tuple[int, str, str, str, str, dt.date]]) -> None:
        if rows:
            columns = ("account_ids", "schemes", "identifiers", "kinds", "names", "held_from")
            self.session.execute(_INSERT_HOLDERS, {c: [r[i] for r in rows] for i, c in enumerate(columns)})

    def end_holders(self, holding_ids: Sequence[int], until: dt.date) -> None:
        if holding_ids:
            self.session.execute(_END_HOLDERS, {"ids": list(holding_ids), "until": until})

    def rename_holders(self, rows: Sequence[tuple[int, str]]) -> None:
        if rows:
            self.session.execute(_RENAME_HOLDERS, {"ids": [r[0] for r in rows], "names": [r[1] for r in rows]})

    def insert_events(
        self,
        rows: Sequence[tuple[int, str, str | None, str | None, dict[str, object], dt.date]],
        *,
        actor: str,
        source: str,
    ) -> None:
        if rows:
            self.session.execute(
                _INSERT_EVENTS,
                {
                    "account_ids": [r[0] for r in rows],
                    "changes": [r[1] for r in rows],
                    "holder_schemes": [r[2] for r in rows],
                    "holder_ids": [r[3] for r in rows],
                    "details": [_json(r[4]) for r in rows],
                    "effective": [r[5] for r in rows],
                    "actor": actor,
                    "source": source,
                },
            )

    # --- bank files ------------------------------------------------------------------------------

    def file_by_hash(self, bank_id: int, content_sha256: bytes) -> BankFile | None:
        return self.session.scalar(
            select(BankFile).where(BankFile.bank_id == bank_id, BankFile.content_sha256 == content_sha256)
        )

    def add_file(self, bank_file: BankFile) -> BankFile:
        self.session.add(bank_file)
        self.session.flush()
        return bank_file

    # --- reading the register --------------------------------------------------------------------

    def vop_rows(self, scheme: str, number: str) -> Sequence[VopRow]:
        """(closed on, holder scheme, identifier, kind, name) per current holder; no rows: unknown account."""
        return [tuple(r) for r in self.session.execute(_VOP_ONE, {"scheme": scheme, "number": number})]

    def vop_rows_many(self, keys: Sequence[AccountKey]) -> dict[AccountKey, list[VopRow]]:
        found: dict[AccountKey, list[VopRow]] = {}
        params = {"schemes": [k[0] for k in keys], "numbers": [k[1] for k in keys]}
        for row in self.session.execute(_VOP_MANY, params):
            found.setdefault((row[0], row[1]), []).append(tuple(row[2:]))
        return found

    def account_with_bank(self, scheme: str, number: str) -> Row[BankAccount, str] | None:
        query = (
            select(BankAccount, Bank.bic)
            .join(Bank, Bank.id == BankAccount.bank_id)
            .where(BankAccount.account_scheme == scheme, BankAccount.account_number == number)
        )
        return self.session.execute(query).first()

    def overview(self, on: dt.date) -> tuple[int, int, int, int]:
        """(accounts, open accounts, payees with a designated account, letters waiting to be sent)."""
        row = self.session.execute(_OVERVIEW, {"on": on}).one()
        return (int(row[0]), int(row[1]), int(row[2]), int(row[3]))

    def holders_on(self, account_id: int, on: dt.date) -> list[tuple[Any, ...]]:
        """(scheme, identifier, kind, name, held from, held until) of who held the account on ``on``."""
        return [tuple(r) for r in self.session.execute(_HOLDERS_ON, {"account_id": account_id, "on": on})]

    def events(self, account_id: int) -> Sequence[AccountEvent]:
        query = select(AccountEvent).where(AccountEvent.account_id == account_id).order_by(AccountEvent.id)
        return self.session.scalars(query).all()

    # --- designations and letters ----------------------------------------------------------------

    def current_designation(self, payee_id: int) -> Row[int, str, str, dt.datetime] | None:
        """(account id, scheme, number, designated at) of the payee's designated account, if any."""
        return self.session.execute(_CURRENT_DESIGNATION, {"payee_id": payee_id}).first()

    def add_designation(self, designation: AccountDesignation) -> AccountDesignation:
        self.session.add(designation)
        self.session.flush()
        return designation

    def add_letter(self, letter: Letter) -> Letter:
        self.session.add(letter)
        self.session.flush()
        return letter

    def holding_exists(self, account_id: int, scheme: str, identifier: str) -> bool:
        query = select(AccountHolder.id).where(
            AccountHolder.account_id == account_id,
            AccountHolder.holder_scheme == scheme,
            AccountHolder.holder_identifier == identifier,
            AccountHolder.held_until.is_(None),
        )
        return self.session.scalar(query) is not None


# The verification-of-payee hot path: the caller's token and the account's holders in one round
# trip. No row: the token is unknown or revoked. A row with a null account: no such account.
_VOP_FOR_CALLER = (
    "SELECT a.id, a.closed_on, h.holder_scheme, h.holder_identifier, h.holder_kind, h.holder_name "  # noqa: S608 — composed of constant statements only
    f"FROM (SELECT 1 FROM ({PAYER_TOKEN}) AS payer UNION ALL SELECT 1 FROM ({BANK_TOKEN}) AS bank LIMIT 1) AS caller "
    "LEFT JOIN bank_accounts a ON a.account_scheme = %(scheme)s AND a.account_number = %(number)s "
    "LEFT JOIN account_holders h ON h.account_id = a.id AND h.held_until IS NULL"
)


class AsyncVopLookup:
    """The hot path's one query, on a psycopg async pool (no ORM session: one statement, no state)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def rows_for_caller(self, secret_sha256: bytes, scheme: str, number: str) -> list[VopRow] | None:
        """The account's VopRows for an authenticated caller; None when the token is not valid."""
        params = {"secret": secret_sha256, "scheme": scheme, "number": number}
        async with self.pool.connection() as connection:
            cursor = await connection.execute(_VOP_FOR_CALLER, params, prepare=True)
            found = await cursor.fetchall()
        if not found:
            return None
        if found[0][0] is None:
            return []
        return [tuple(r[1:]) for r in found]
