"""Every query of the citizen's overview. Each is one indexed read about one person, written as a
constant statement: the overview is the most-read page of Saldo."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_PAYEE = text("SELECT id FROM payees WHERE id_scheme = :scheme AND identifier = :identifier")

# ix_payments_payee_id_due_date serves this; payers and benefits are small tables.
_PAYMENTS = text(
    "SELECT p.id, py.name AS payer, b.code AS benefit_code, b.name_sv, b.name_en, p.period_start, p.period_end,"
    " p.due_date, p.amount_minor, p.currency, p.status, p.account_scheme, p.account_number, p.account_check,"
    " p.decision_reference"
    " FROM payments p JOIN payers py ON py.id = p.payer_id JOIN benefits b ON b.id = p.benefit_id"
    " WHERE p.payee_id = :payee AND p.due_date >= :start AND p.due_date < :end"
    " ORDER BY p.due_date DESC, p.id DESC"
)
_YEARS = text("SELECT min(due_date), max(due_date) FROM payments WHERE payee_id = :payee")
_DESIGNATION = text(
    "SELECT a.account_scheme, a.account_number, bk.name, d.designated_at, d.channel"
    " FROM account_designations d JOIN bank_accounts a ON a.id = d.account_id JOIN banks bk ON bk.id = a.bank_id"
    " WHERE d.payee_id = :payee ORDER BY d.id DESC LIMIT 1"
)
_HELD_ACCOUNTS = text(
    "SELECT a.account_scheme, a.account_number, bk.name"
    " FROM account_holders h JOIN bank_accounts a ON a.id = h.account_id JOIN banks bk ON bk.id = a.bank_id"
    " WHERE h.holder_scheme = :scheme AND h.holder_identifier = :identifier"
    " AND h.held_from <= :today AND (h.held_until IS NULL OR h.held_until > :today)"
    " AND (a.closed_on IS NULL OR a.closed_on > :today)"
    " ORDER BY a.account_number"
)
_ACCESS = text(
    "SELECT l.at, l.role, l.channel, l.action, l.purpose, c.reference"
    " FROM access_log l LEFT JOIN cases c ON c.id = l.case_id"
    " WHERE l.person_scheme = :scheme AND l.person_id = :identifier ORDER BY l.seq DESC LIMIT :limit"
)
_LAST_RUN = text(
    "SELECT r.id, r.finished_at, r.rules, s.created_at FROM analysis_runs r"
    " JOIN analysis_snapshots s ON s.id = r.snapshot_id"
    " WHERE r.status = 'finished' ORDER BY r.id DESC LIMIT 1"
)


class CitizenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def payee_id(self, scheme: str, identifier: str) -> int | None:
        found = self.session.execute(_PAYEE, {"scheme": scheme, "identifier": identifier}).scalar()
        return int(found) if found is not None else None

    def payments(self, payee_id: int, start: dt.date, end: dt.date) -> list[Any]:
        return list(self.session.execute(_PAYMENTS, {"payee": payee_id, "start": start, "end": end}))

    def payment_years(self, payee_id: int) -> tuple[dt.date | None, dt.date | None]:
        row = self.session.execute(_YEARS, {"payee": payee_id}).one()
        return row[0], row[1]

    def designation(self, payee_id: int) -> Any | None:
        return self.session.execute(_DESIGNATION, {"payee": payee_id}).first()

    def held_accounts(self, scheme: str, identifier: str, today: dt.date) -> list[Any]:
        params = {"scheme": scheme, "identifier": identifier, "today": today}
        return list(self.session.execute(_HELD_ACCOUNTS, params))

    def access(self, scheme: str, identifier: str, limit: int) -> list[Any]:
        return list(self.session.execute(_ACCESS, {"scheme": scheme, "identifier": identifier, "limit": limit}))

    def last_run(self) -> Any | None:
        return self.session.execute(_LAST_RUN).first()
