"""The query of the citizen's overview. The overview is the most-read page of Saldo, so everything
on it is one constant statement and one round trip: PostgreSQL reads each part by index (the payee's
identifier, the payments by payee and due date, the designations by payee, the holdings and the
access log by person) and hands the parts back as JSON, which it builds faster than Python would.
The payments are read through the view ``payments_by_payee``: the payments table and the person's
archived year rows taken apart (decision 0035).

The same statement serves two callers: the pages (an ORM session, the person from the session the
request dependency found) and the fast path (an async pool, the session found, checked and touched
inside the statement itself; saldo.web.fastpath). Beside a read replica the fast path takes it in
two: the session on the primary, which alone can touch it and knows at once of a logout, and the
overview on the replica (decision 0039)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.orm import Session

from saldo.db.replica import PRIMARY, AsyncReads, ReadFrom
from saldo.identity.repository import LIVE_SESSION


def _overview_sql(
    scheme: str, identifier: str, param: Callable[[str], str], before: str = "", columns: str = ""
) -> str:
    """The overview's statement with the person given by the SQL expressions ``scheme`` and
    ``identifier``, parameters written by ``param`` (each driver's style), CTEs ``before`` it and
    more ``columns`` after its own."""
    # S608: every fragment is a constant of this module; values are always bound parameters
    return f"""
WITH {before}person AS (SELECT id FROM payees WHERE id_scheme = {scheme} AND identifier = {identifier})
SELECT
  (SELECT id FROM person) AS payee_id,
  (SELECT coalesce(json_agg(json_build_array(
      p.id, py.name, b.code, b.name_sv, b.name_en, p.period_start, p.period_end, p.due_date, p.amount_minor,
      p.currency, p.status, p.account_scheme, p.account_number, p.account_check, p.decision_reference)
      ORDER BY p.due_date DESC, p.id DESC), '[]'::json)
     FROM payments_by_payee p JOIN payers py ON py.id = p.payer_id JOIN benefits b ON b.id = p.benefit_id
    WHERE p.payee_id = (SELECT id FROM person) AND p.due_date >= {param("start")} AND p.due_date < {param("end")})
    AS payments,
  (SELECT json_build_array(min(due_date), max(due_date)) FROM payments_by_payee
    WHERE payee_id = (SELECT id FROM person)) AS span,
  (SELECT json_build_array(a.account_scheme, a.account_number, bk.name, d.designated_at, d.channel)
     FROM account_designations d JOIN bank_accounts a ON a.id = d.account_id JOIN banks bk ON bk.id = a.bank_id
    WHERE d.payee_id = (SELECT id FROM person) ORDER BY d.id DESC LIMIT 1) AS designation,
  (SELECT coalesce(json_agg(json_build_array(a.account_scheme, a.account_number, bk.name)
      ORDER BY a.account_number), '[]'::json)
     FROM account_holders h JOIN bank_accounts a ON a.id = h.account_id JOIN banks bk ON bk.id = a.bank_id
    WHERE h.holder_scheme = {scheme} AND h.holder_identifier = {identifier}
      AND h.held_from <= {param("today")} AND (h.held_until IS NULL OR h.held_until > {param("today")})
      AND (a.closed_on IS NULL OR a.closed_on > {param("today")})) AS held,
  (SELECT coalesce(json_agg(entry), '[]'::json) FROM (
     SELECT json_build_array(l.at, l.role, l.channel, l.action, l.purpose, c.reference, l.details->>'payer',
                            l.details->>'authority') AS entry
       FROM access_log l LEFT JOIN cases c ON c.id = l.case_id
      WHERE l.person_scheme = {scheme} AND l.person_id = {identifier}
      ORDER BY l.seq DESC LIMIT {param("access_limit")}) seen) AS access,
  (SELECT coalesce(json_agg(json_build_array(
      c.case_id, c.buc_type, c.partner, c.owner <> c.partner, CASE WHEN c.owner <> c.partner THEN c.purpose END,
      c.created_at, c.status = 'closed',
      (SELECT coalesce(json_agg(json_build_array(
          d.sed_type, CASE d.direction WHEN 'out' THEN 'sent' ELSE 'received' END, d.created_at,
          CASE d.direction WHEN 'out' THEN d.receiver ELSE d.sender END) ORDER BY d.id),
          '[]'::json)
         FROM eessi_documents d WHERE d.case_pk = c.id AND d.status <> 'rejected'))
      ORDER BY c.id DESC), '[]'::json)
     FROM eessi_cases c WHERE c.person_scheme = {scheme} AND c.person_id = {identifier}) AS exchanges,
  (SELECT coalesce(json_agg(json_build_array(
      k.document_number, k.kind, k.state, k.valid_from, k.valid_until, k.issued_at, k.collected_at) ORDER BY k.id DESC),
      '[]'::json)
     FROM credentials k WHERE k.person_scheme = {scheme} AND k.person_id = {identifier}) AS credentials,
  (SELECT json_build_array(r.finished_at, r.rules, s.created_at) FROM analysis_runs r
     JOIN analysis_snapshots s ON s.id = r.snapshot_id
    WHERE r.status = 'finished' ORDER BY r.id DESC LIMIT 1) AS last_run,
  {scheme} AS person_scheme,
  {identifier} AS person_id{columns}
"""  # noqa: S608


_OVERVIEW = text(_overview_sql(":scheme", ":identifier", lambda name: f":{name}"))

# The fast path's statement: the citizen session of the cookie's secret — live, not idle too long —
# gives the person, and its last-seen time is written when older than ``touch_s`` seconds (a
# data-modifying CTE runs once whether or not the query reads it). No live citizen session: the
# person is null, and the caller hands the request to the documented route.
_LIVE_AND_TOUCHED = f"""live AS (
  SELECT id, person_scheme, person_id, name, loa, csrf_token, last_seen_at FROM ({LIVE_SESSION}) AS s
   WHERE s.audience = 'citizen'
), touched AS (
  UPDATE web_sessions w SET last_seen_at = %(now)s FROM live
   WHERE w.id = live.id AND live.last_seen_at + make_interval(secs => %(touch_s)s) <= %(now)s
  RETURNING w.id
)"""  # noqa: S608 — a constant statement
_SESSION_OVERVIEW = _overview_sql(
    "(SELECT person_scheme FROM live)",
    "(SELECT person_id FROM live)",
    lambda name: f"%({name})s",
    before=f"{_LIVE_AND_TOUCHED}, ",
    columns=""",
  (SELECT id FROM live) AS session_id,
  (SELECT name FROM live) AS session_name,
  (SELECT loa FROM live) AS session_loa,
  (SELECT csrf_token FROM live) AS session_csrf""",
)
# The same in two, beside a replica: the session checked and touched on the primary, then the
# overview of its person on the replica.
# The person's last change of account comes too: the overview just after it is read on the primary.
_SESSION = f"""WITH {_LIVE_AND_TOUCHED}
SELECT person_scheme, person_id, id AS session_id, name AS session_name, loa AS session_loa,
       csrf_token AS session_csrf,
       (SELECT d.designated_at FROM account_designations d
         WHERE d.payee_id = (SELECT id FROM payees WHERE id_scheme = live.person_scheme AND identifier = live.person_id)
         ORDER BY d.id DESC LIMIT 1) AS changed_at
  FROM live"""  # noqa: S608 — a constant statement
_PERSON_OVERVIEW = _overview_sql("%(scheme)s", "%(identifier)s", lambda name: f"%({name})s")


class CitizenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def overview(
        self, scheme: str, identifier: str, *, start: dt.date, end: dt.date, today: dt.date, access_limit: int
    ) -> Any:
        """One row: payee_id, payments, span (first and last due date), designation, held, access,
        exchanges (cross-border cases about the person), credentials (PDA1, EHIC issued to the person),
        last_run, person_scheme, person_id."""
        params = {
            "scheme": scheme,
            "identifier": identifier,
            "start": start,
            "end": end,
            "today": today,
            "access_limit": access_limit,
        }
        return self.session.execute(_OVERVIEW, params).one()


class AsyncSessionOverview:
    """The overview of the citizen a session cookie belongs to, on an async pool: in one statement on
    the primary, or beside a replica fit to read (``reads``), the session on the primary and the
    overview on the replica."""

    def __init__(self, pool: AsyncConnectionPool, reads: AsyncReads | None = None) -> None:
        self.pool = pool
        self.reads = reads

    async def overview(
        self,
        secret_sha256: bytes,
        *,
        now: dt.datetime,
        today: dt.date,
        idle_minutes: int,
        touch_s: float,
        start: dt.date,
        end: dt.date,
        access_limit: int,
    ) -> tuple[Any, ReadFrom] | None:
        """The row ``CitizenRepository.overview`` gives and the session's id, name, loa and CSRF token
        (``session_*``), and where the overview was read; None without a live citizen session. Read
        on the primary when the person changed their account so lately that a replica may not
        have the change yet: a person sees their own change at once."""
        params = {
            "secret": secret_sha256,
            "now": now,
            "idle_minutes": idle_minutes,
            "touch_s": touch_s,
            "start": start,
            "end": end,
            "today": today,
            "access_limit": access_limit,
        }
        chosen = PRIMARY if self.reads is None else await self.reads.choose()
        if chosen is PRIMARY or self.reads is None:
            row = await _one(self.pool, _SESSION_OVERVIEW, params)
            return (row, PRIMARY) if row is not None and row.person_id is not None else None
        session = await _one(self.pool, _SESSION, params)
        if session is None:
            return None
        wanted = {**params, "scheme": session.person_scheme, "identifier": session.person_id}
        if session.changed_at is not None and not self.reads.has_had_time(session.changed_at, now):
            overview, chosen = await _one(self.pool, _PERSON_OVERVIEW, wanted), PRIMARY
        else:
            try:
                overview = await _one(self.reads.pool, _PERSON_OVERVIEW, wanted)
            except psycopg.OperationalError:  # stopped since it was asked, or its replay cancelled the read
                self.reads.forget()
                overview, chosen = await _one(self.pool, _PERSON_OVERVIEW, wanted), PRIMARY
        # the session's columns and the overview's as one row, read by attribute as a statement's
        return SimpleNamespace(**{**session._asdict(), **overview._asdict()}), chosen


async def _one(pool: AsyncConnectionPool, statement: str, params: dict[str, Any]) -> Any:
    async with pool.connection() as connection:
        cursor = connection.cursor(row_factory=namedtuple_row)
        await cursor.execute(statement, params, prepare=True)
        return await cursor.fetchone()
