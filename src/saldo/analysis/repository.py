from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import Connection as PgConnection
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from saldo.analysis.models import AnalysisRun, Finding, RuleModeChange, RunStatus, Snapshot
from saldo.db.engine import driver_connection

# What a snapshot reads from the registry. Identifiers leave PostgreSQL only to be pseudonymised in
# the same process; names and addresses are never selected. Cancelled payments never left.
# Payments are read through the view ``payments_by_payee``: the table and the archived year rows.
EXPORTS: dict[str, tuple[str, dict[str, pa.DataType]]] = {
    "payments": (
        """SELECT p.id AS payment_id, p.payer_id, e.id_scheme AS payee_scheme, e.identifier AS payee_identifier,
                  e.kind AS payee_kind, b.code AS benefit, p.amount_minor, p.currency, p.decision_reference,
                  p.period_start, p.period_end, p.due_date, p.account_scheme, p.account_number, p.status
           FROM payments_by_payee p JOIN payees e ON e.id = p.payee_id JOIN benefits b ON b.id = p.benefit_id
           WHERE p.status <> 'cancelled'""",
        {
            "payment_id": pa.int64(),
            "payer_id": pa.int64(),
            "amount_minor": pa.int64(),
            "period_start": pa.date32(),
            "period_end": pa.date32(),
            "due_date": pa.date32(),
        },
    ),
    "persons": (
        """SELECT person_scheme, person_id, previous_id, sex, birth_date, death_date, emigration_date,
                  immigration_date, household_id, municipality_code, residence_permit_until
           FROM population_register""",
        {
            "birth_date": pa.date32(),
            "death_date": pa.date32(),
            "emigration_date": pa.date32(),
            "immigration_date": pa.date32(),
            "residence_permit_until": pa.date32(),
            "household_id": pa.string(),
        },
    ),
    "representations": (
        """SELECT representative_scheme, representative_id, represented_scheme, represented_id, basis, valid_from,
                  valid_until
           FROM representation_register""",
        {"valid_from": pa.date32(), "valid_until": pa.date32()},
    ),
    "cross_border_facts": (
        """SELECT person_scheme, person_id, kind,
                  CASE kind WHEN 'death' THEN (values->>'date')::date
                            WHEN 'residence_abroad' THEN (values->>'since')::date
                            ELSE (values->'period'->>'startDate')::date END AS start_date,
                  CASE WHEN kind = 'benefit_abroad' THEN (values->'period'->>'endDate')::date END AS end_date,
                  values->>'benefitType' AS benefit_type, values->>'country' AS country, institution
           FROM eessi_facts WHERE withdrawn_at IS NULL""",
        {"start_date": pa.date32(), "end_date": pa.date32()},
    ),
    "income": (
        "SELECT person_scheme, person_id, employer_id, month, amount_minor FROM income_register",
        {"month": pa.date32(), "amount_minor": pa.int64()},
    ),
    "decisions": (
        """SELECT d.payer_id, d.reference, d.payee_scheme, d.payee_id, b.code AS benefit, d.period_start,
                  d.period_end, d.amount_minor, d.currency, d.household_size, d.declared_income_minor
           FROM decisions d JOIN benefits b ON b.id = d.benefit_id""",
        {
            "payer_id": pa.int64(),
            "period_start": pa.date32(),
            "period_end": pa.date32(),
            "amount_minor": pa.int64(),
            "household_size": pa.int32(),
            "declared_income_minor": pa.int64(),
        },
    ),
    "benefits": (
        "SELECT code, kind, level, residence_conditioned, income_replacing, means_tested FROM benefits",
        {"residence_conditioned": pa.bool_(), "income_replacing": pa.bool_(), "means_tested": pa.bool_()},
    ),
    "benefit_exclusions": (
        """SELECT a.code AS benefit, b.code AS excluded_benefit FROM benefit_exclusions x
           JOIN benefits a ON a.id = x.benefit_id JOIN benefits b ON b.id = x.excluded_benefit_id
           UNION SELECT b.code, a.code FROM benefit_exclusions x
           JOIN benefits a ON a.id = x.benefit_id JOIN benefits b ON b.id = x.excluded_benefit_id""",
        {},
    ),
    "payers": ("SELECT id AS payer_id, kind, connection_model FROM payers", {"payer_id": pa.int64()}),
    # Not snapshot tables: what identity linkage compares, inside the registry, before pseudonyms —
    # each payee with the name and account of its latest payment not cancelled. A person's is found
    # by grouping, not by sorting every payment by payee (DISTINCT ON, as for organisations below):
    # 11 against 18 s for 9.8 M payments, the same rows in the same order.
    "identities": (
        """SELECT e.id_scheme AS scheme, e.identifier, p.payee_name AS name, p.account_number AS account
           FROM (SELECT payee_id, max(id) AS id FROM payments_by_payee WHERE status <> 'cancelled'
                 GROUP BY payee_id) AS latest
           JOIN payees e ON e.id = latest.payee_id
           JOIN payments_by_payee p ON p.payee_id = latest.payee_id AND p.id = latest.id
           WHERE e.kind = 'person' ORDER BY e.id""",
        {},
    ),
    # Organisations are few: their payments are found through the payees' index, and sorted.
    "organisation_identities": (
        """SELECT DISTINCT ON (e.id) e.id_scheme AS scheme, e.identifier, p.payee_name AS name,
                  p.account_number AS account
           FROM payees e JOIN payments_by_payee p ON p.payee_id = e.id
           WHERE e.kind = 'organisation' AND p.status <> 'cancelled'
           ORDER BY e.id, p.id DESC""",
        {},
    ),
}

CSV_BLOCK = 16 << 20  # bytes of CSV a streamed batch is read from: about 150,000 payments


class AnalysisRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _driver(self) -> PgConnection[Any]:
        return driver_connection(self.session)

    def export(self, name: str) -> pa.Table:
        """One registry table as Arrow."""
        with self.export_stream(name) as reader:
            return reader.read_all()

    @contextmanager
    def export_stream(self, name: str) -> Iterator[pa.RecordBatchReader]:
        """One registry table as a stream of Arrow batches, read as PostgreSQL writes it.

        COPY's CSV goes through a pipe from a thread to the CSV reader, so PostgreSQL formats the
        next rows while the caller takes the last ones, and no table has to fit in memory or on disk
        as text. If COPY fails part way, the error is raised when the stream closes, after the
        caller has read what came: a caller must not keep what it read then (a stream cut short is
        an error, never a shorter table)."""
        query, types = EXPORTS[name]
        connection = self._driver()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM ({query}) AS exported LIMIT 0")  # noqa: S608 — a constant query
            header = [column.name for column in cursor.description or ()]
        options = pacsv.ConvertOptions(
            column_types={column: types.get(column, pa.string()) for column in header},
            strings_can_be_null=True,  # COPY writes NULL unquoted and an empty text as ""
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        )
        read_end, write_end = os.pipe()
        failures: list[BaseException] = []

        def copy_out() -> None:
            try:
                with (
                    os.fdopen(write_end, "wb") as sink,
                    connection.cursor() as cursor,
                    cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy,
                ):
                    for block in copy:
                        sink.write(block)
            except BaseException as error:  # raised in the caller's thread, below
                failures.append(error)

        writer = threading.Thread(target=copy_out, name=f"export-{name}", daemon=True)
        writer.start()
        source = os.fdopen(read_end, "rb")
        try:
            try:
                yield pacsv.open_csv(
                    source, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK), convert_options=options
                )
            finally:
                source.close()  # a caller that stops early ends COPY with a broken pipe
                writer.join()
        except BaseException as error:
            if failures and isinstance(failures[0], psycopg.Error):  # the cause, whatever the reader made of it
                raise failures[0] from error
            raise
        if failures:
            raise failures[0]

    def add_snapshot(self, snapshot: Snapshot) -> Snapshot:
        self.session.add(snapshot)
        self.session.flush()
        return snapshot

    def snapshot(self, snapshot_id: int) -> Snapshot | None:
        return self.session.get(Snapshot, snapshot_id)

    def latest_snapshot(self) -> Snapshot | None:
        return self.session.scalar(select(Snapshot).order_by(Snapshot.id.desc()).limit(1))

    def snapshots(self, limit: int = 50) -> Sequence[Snapshot]:
        return self.session.scalars(select(Snapshot).order_by(Snapshot.id.desc()).limit(limit)).all()

    def add_run(self, run: AnalysisRun) -> AnalysisRun:
        self.session.add(run)
        self.session.flush()
        return run

    def run(self, run_id: int) -> AnalysisRun | None:
        return self.session.get(AnalysisRun, run_id)

    def latest_run(self) -> AnalysisRun | None:
        return self.session.scalar(
            select(AnalysisRun).where(AnalysisRun.status == RunStatus.FINISHED).order_by(AnalysisRun.id.desc()).limit(1)
        )

    def add_findings(self, findings: Sequence[Finding]) -> None:
        self.session.add_all(findings)
        self.session.flush()

    def select_within_capacity(self, run_id: int, capacity: int) -> int:
        """Mark the ``capacity`` findings of highest expected value as selected; returns how many."""
        ranked = (
            select(Finding.id)
            .where(Finding.run_id == run_id, ~Finding.shadow)
            .order_by(Finding.expected_value_minor.desc(), Finding.id)
            .limit(capacity)
            .scalar_subquery()
        )
        result = self.session.execute(update(Finding).where(Finding.id.in_(ranked)).values(selected=True))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def rule_modes(self) -> dict[str, RuleModeChange]:
        """The latest mode change of every rule that has one."""
        latest = select(func.max(RuleModeChange.id)).group_by(RuleModeChange.rule_id).scalar_subquery()
        rows = self.session.scalars(select(RuleModeChange).where(RuleModeChange.id.in_(latest)))
        return {r.rule_id: r for r in rows}

    def mode_history(self, rule_id: str) -> Sequence[RuleModeChange]:
        query = select(RuleModeChange).where(RuleModeChange.rule_id == rule_id).order_by(RuleModeChange.id)
        return self.session.scalars(query).all()

    def add_mode_change(self, change: RuleModeChange) -> RuleModeChange:
        self.session.add(change)
        self.session.flush()
        return change

    def finding(self, finding_id: int) -> Finding | None:
        return self.session.get(Finding, finding_id)

    def findings_by_ids(self, finding_ids: Sequence[int]) -> Sequence[Finding]:
        return self.session.scalars(select(Finding).where(Finding.id.in_(finding_ids)).order_by(Finding.id)).all()

    def findings(
        self, run_id: int, *, rule_id: str | None = None, selected_only: bool = False, limit: int | None = 50
    ) -> Sequence[Finding]:
        statement = select(Finding).where(Finding.run_id == run_id)
        if rule_id is not None:
            statement = statement.where(Finding.rule_id == rule_id)
        if selected_only:
            statement = statement.where(Finding.selected)
        statement = statement.order_by(Finding.expected_value_minor.desc(), Finding.id).limit(limit)
        return self.session.scalars(statement).all()

    def finding_counts(self, run_id: int) -> dict[str, tuple[int, int, int]]:
        """Per rule: findings, selected, amount at risk."""
        rows = self.session.execute(
            select(
                Finding.rule_id,
                func.count(),
                func.count().filter(Finding.selected),
                func.coalesce(func.sum(Finding.amount_at_risk_minor), 0),
            )
            .where(Finding.run_id == run_id)
            .group_by(Finding.rule_id)
        )
        return {rule: (int(n), int(chosen), int(amount)) for rule, n, chosen, amount in rows}

    def payment_ids_of(self, references: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """(payer organisation number, payer's reference) -> payment id, for those in the registry."""
        if not references:
            return {}
        with self._driver().cursor() as cursor:
            cursor.execute(
                "SELECT y.organisation_number, k.ref, coalesce(p.id, a.id) FROM unnest(%s::text[], %s::text[]) "
                "AS k(org, ref) JOIN payers y ON y.organisation_number = k.org "
                "LEFT JOIN payments p ON p.payer_id = y.id AND p.reference = k.ref "
                # or archived, by the key's (payer, reference) index (decision 0035)
                "LEFT JOIN archived_payment_keys a ON p.id IS NULL AND a.payer_id = y.id AND a.reference = k.ref "
                "WHERE p.id IS NOT NULL OR a.id IS NOT NULL",
                ([o for o, _ in references], [r for _, r in references]),
            )
            return {(str(o), str(r)): int(i) for o, r, i in cursor.fetchall()}

    def finish_run(self, run: AnalysisRun, *, status: RunStatus, error: str | None = None) -> None:
        run.status = status
        run.error = error
        run.finished_at = dt.datetime.now(dt.UTC)
        self.session.flush()
