"""The query of the citizen's overview. The overview is the most-read page of Saldo, so everything
on it is one constant statement and one round trip: PostgreSQL reads each part by index (the payee's
identifier, the payments by payee and due date, the designations by payee, the holdings and the
access log by person) and hands the parts back as JSON, which it builds faster than Python would."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_OVERVIEW = text(
    """
WITH person AS (SELECT id FROM payees WHERE id_scheme = :scheme AND identifier = :identifier)
SELECT
  (SELECT id FROM person) AS payee_id,
  (SELECT coalesce(json_agg(json_build_array(
      p.id, py.name, b.code, b.name_sv, b.name_en, p.period_start, p.period_end, p.due_date, p.amount_minor,
      p.currency, p.status, p.account_scheme, p.account_number, p.account_check, p.decision_reference)
      ORDER BY p.due_date DESC, p.id DESC), '[]'::json)
     FROM payments p JOIN payers py ON py.id = p.payer_id JOIN benefits b ON b.id = p.benefit_id
    WHERE p.payee_id = (SELECT id FROM person) AND p.due_date >= :start AND p.due_date < :end) AS payments,
  (SELECT json_build_array(min(due_date), max(due_date)) FROM payments
    WHERE payee_id = (SELECT id FROM person)) AS span,
  (SELECT json_build_array(a.account_scheme, a.account_number, bk.name, d.designated_at, d.channel)
     FROM account_designations d JOIN bank_accounts a ON a.id = d.account_id JOIN banks bk ON bk.id = a.bank_id
    WHERE d.payee_id = (SELECT id FROM person) ORDER BY d.id DESC LIMIT 1) AS designation,
  (SELECT coalesce(json_agg(json_build_array(a.account_scheme, a.account_number, bk.name)
      ORDER BY a.account_number), '[]'::json)
     FROM account_holders h JOIN bank_accounts a ON a.id = h.account_id JOIN banks bk ON bk.id = a.bank_id
    WHERE h.holder_scheme = :scheme AND h.holder_identifier = :identifier
      AND h.held_from <= :today AND (h.held_until IS NULL OR h.held_until > :today)
      AND (a.closed_on IS NULL OR a.closed_on > :today)) AS held,
  (SELECT coalesce(json_agg(entry), '[]'::json) FROM (
     SELECT json_build_array(l.at, l.role, l.channel, l.action, l.purpose, c.reference) AS entry
       FROM access_log l LEFT JOIN cases c ON c.id = l.case_id
      WHERE l.person_scheme = :scheme AND l.person_id = :identifier ORDER BY l.seq DESC LIMIT :access_limit) seen)
    AS access,
  (SELECT json_build_array(r.finished_at, r.rules, s.created_at) FROM analysis_runs r
     JOIN analysis_snapshots s ON s.id = r.snapshot_id
    WHERE r.status = 'finished' ORDER BY r.id DESC LIMIT 1) AS last_run
"""
)


class CitizenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def overview(
        self, scheme: str, identifier: str, *, start: dt.date, end: dt.date, today: dt.date, access_limit: int
    ) -> Any:
        """One row: payee_id, payments, span (first and last due date), designation, held, access, last_run."""
        params = {
            "scheme": scheme,
            "identifier": identifier,
            "start": start,
            "end": end,
            "today": today,
            "access_limit": access_limit,
        }
        return self.session.execute(_OVERVIEW, params).one()
