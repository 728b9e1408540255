"""The audit's measurements in SQL: outcomes per rule, the findings and outcomes of a run by
subject, statistics per payer and rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# The latest outcome of every notification (outcomes are appended; the newest is in force).
LATEST_OUTCOMES = """
SELECT DISTINCT ON (o.notification_id) o.notification_id, o.kind, o.amount_minor, o.recorded_at
  FROM notification_outcomes o ORDER BY o.notification_id, o.id DESC
"""
_COUNTS = text(
    f"""
    SELECT n.rule_id, count(*) AS notified, count(o.kind) AS decided,
           count(*) FILTER (WHERE o.kind IS NOT NULL AND o.kind <> 'no_error') AS confirmed
      FROM notifications n LEFT JOIN ({LATEST_OUTCOMES}) o ON o.notification_id = n.id
     GROUP BY n.rule_id
    """  # noqa: S608 — constant text
)
_FINDINGS = text(
    "SELECT f.rule_id, f.subject_key, r.decision FROM findings f "
    "LEFT JOIN finding_reviews r ON r.finding_id = f.id "
    "WHERE f.run_id = :run AND f.subject_kind IN ('person', 'payee')"
)
_OUTCOMES = text(
    f"""
    SELECT DISTINCT n.id, n.rule_id, f.subject_key, o.kind
      FROM notifications n
      JOIN case_findings cf ON cf.case_id = n.case_id
      JOIN findings f ON f.id = cf.finding_id AND f.run_id = :run AND f.subject_kind IN ('person', 'payee')
      JOIN ({LATEST_OUTCOMES}) o ON o.notification_id = n.id
    """  # noqa: S608 — constant text
)
_STATISTICS = text(
    f"""
    SELECT n.payer_id, p.name AS payer_name, n.rule_id, n.currency,
           count(*) AS notifications,
           count(o.kind) AS decided,
           count(*) FILTER (WHERE o.kind = 'no_error') AS no_error,
           count(*) FILTER (WHERE o.kind = 'corrected') AS corrected,
           count(*) FILTER (WHERE o.kind = 'recovery_claim') AS recovery_claims,
           count(*) FILTER (WHERE o.kind = 'payment_stopped') AS payments_stopped,
           count(*) FILTER (WHERE o.kind = 'reported_to_police') AS reported_to_police,
           coalesce(sum(o.amount_minor) FILTER (WHERE o.kind = 'payment_stopped'), 0) AS stopped_minor,
           coalesce(sum(o.amount_minor) FILTER (WHERE o.kind = 'recovery_claim'), 0) AS claimed_minor,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first.recorded_at - n.created_at) / 86400)
               AS median_days_to_outcome
      FROM notifications n
      JOIN payers p ON p.id = n.payer_id
      LEFT JOIN ({LATEST_OUTCOMES}) o ON o.notification_id = n.id
      LEFT JOIN (SELECT notification_id, min(recorded_at) AS recorded_at FROM notification_outcomes
                  GROUP BY notification_id) first ON first.notification_id = n.id
     GROUP BY n.payer_id, p.name, n.rule_id, n.currency
     ORDER BY p.name, n.rule_id
    """  # noqa: S608 — constant text
)
_OVERVIEW = text(
    """
    SELECT (SELECT count(*) FROM findings WHERE selected) AS selected_findings,
           (SELECT count(*) FROM finding_reviews WHERE decision = 'dismissed') AS dismissed,
           (SELECT count(*) FROM cases) AS cases,
           (SELECT count(*) FROM cases WHERE status <> 'closed') AS open_cases,
           (SELECT count(*) FROM information_requests WHERE status = 'open') AS open_requests,
           (SELECT count(*) FROM notifications) AS notifications,
           (SELECT count(DISTINCT notification_id) FROM notification_outcomes) AS decided,
           (SELECT coalesce(max(seq), 0) FROM access_log) AS access_log_entries
    """
)
_FINDINGS_BY_RULE = text(
    "SELECT rule_id, count(*) AS findings, count(*) FILTER (WHERE selected) AS selected,"
    " coalesce(sum(amount_at_risk_minor), 0) AS at_risk,"
    " coalesce(sum(amount_at_risk_minor) FILTER (WHERE selected), 0) AS selected_at_risk"
    " FROM findings WHERE run_id = :run GROUP BY rule_id ORDER BY at_risk DESC"
)
_OUTCOMES_BY_MONTH = text(
    f"""
    SELECT to_char(date_trunc('month', o.recorded_at AT TIME ZONE 'Europe/Stockholm'), 'YYYY-MM') AS month,
           count(*) FILTER (WHERE o.kind <> 'no_error') AS confirmed,
           count(*) FILTER (WHERE o.kind = 'no_error') AS no_error,
           coalesce(sum(o.amount_minor) FILTER (WHERE o.kind IN ('payment_stopped', 'recovery_claim')), 0) AS amount
      FROM ({LATEST_OUTCOMES}) o
     GROUP BY 1 ORDER BY 1
    """  # noqa: S608 — constant text
)
# What waits for someone at the authority: the latest run's selected findings nobody has triaged,
# open cases nobody is assigned, and the cases assigned to ``me`` by what they need next.
_WORK = text(
    """
    SELECT (SELECT count(*) FROM findings f
             WHERE f.run_id = :run AND f.selected
               AND NOT EXISTS (SELECT 1 FROM finding_reviews r WHERE r.finding_id = f.id)) AS to_triage,
           (SELECT count(*) FROM cases WHERE status <> 'closed' AND assigned_to IS NULL) AS unassigned,
           (SELECT count(*) FROM cases WHERE assigned_to = :me AND status IN ('open', 'in_progress')) AS to_work,
           (SELECT count(*) FROM cases c WHERE c.assigned_to = :me AND c.status <> 'closed'
               AND EXISTS (SELECT 1 FROM information_requests q WHERE q.case_id = c.id AND q.status = 'answered')
               AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.case_id = c.id)) AS answered,
           (SELECT count(*) FROM cases WHERE assigned_to = :me AND status <> 'closed' AND deadline < :today)
               AS overdue,
           (SELECT count(*) FROM cases c WHERE c.assigned_to = :me AND c.status = 'notified'
               AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.case_id = c.id
                                  AND NOT EXISTS (SELECT 1 FROM notification_outcomes o
                                                   WHERE o.notification_id = n.id))) AS to_close
    """
)
_DECIDED = text(
    "SELECT count(DISTINCT o.notification_id) FROM notification_outcomes o"
    " JOIN notifications n ON n.id = o.notification_id WHERE n.case_id = :case"
)
# In the table or archived (an archived payment by its id alone: a skip scan of the archive's keys).
_PAYMENT_PARTIES = text(
    "SELECT p.payer_id, e.id_scheme, e.identifier FROM ("
    "SELECT payer_id, payee_id FROM payments WHERE id = :id "
    "UNION ALL SELECT payer_id, payee_id FROM archived_payments WHERE id = :id"
    ") p JOIN payees e ON e.id = p.payee_id"
)


class OversightRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def outcome_counts(self) -> dict[str, tuple[int, int, int]]:
        """Per rule: notifications, decided (an outcome in force), confirmed (not "no error")."""
        return {str(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in self.session.execute(_COUNTS)}

    def snapshot_of_run(self, snapshot_id: int) -> tuple[str, dt.date]:
        row = self.session.execute(
            text("SELECT path, created_at::date FROM analysis_snapshots WHERE id = :id"), {"id": snapshot_id}
        ).one()
        return str(row[0]), row[1]

    def run_findings(self, run_id: int) -> list[tuple[str, str, str | None]]:
        """(rule, subject pseudonym, triage decision or None) of a run's findings about persons."""
        return [(str(r[0]), str(r[1]), r[2]) for r in self.session.execute(_FINDINGS, {"run": run_id})]

    def run_outcomes(self, run_id: int) -> list[tuple[int, str, str, str]]:
        """(notification, rule, subject pseudonym, outcome in force) of the notifications from a run."""
        return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in self.session.execute(_OUTCOMES, {"run": run_id})]

    def statistics(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.session.execute(_STATISTICS).mappings()]

    def overview(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.session.execute(_OVERVIEW).mappings().one().items()}

    def findings_by_rule(self, run_id: int) -> list[Any]:
        """Per rule of a run: findings, selected, amount at risk in all and in the selected."""
        return list(self.session.execute(_FINDINGS_BY_RULE, {"run": run_id}))

    def outcomes_by_month(self) -> list[Any]:
        """Per month of the outcome in force: confirmed errors, no error, amounts stopped or claimed."""
        return list(self.session.execute(_OUTCOMES_BY_MONTH))

    def work(self, *, username: str, run_id: int | None, today: dt.date) -> dict[str, int]:
        """What waits: findings to triage (of run ``run_id``), unassigned cases, and ``username``'s cases
        to work, with an answer to read, past their deadline, and with every outcome in."""
        row = self.session.execute(_WORK, {"run": run_id or 0, "me": username, "today": today})
        return {k: int(v) for k, v in row.mappings().one().items()}

    def decided_notifications(self, case_id: int) -> int:
        """How many of a case's notifications have an outcome."""
        return int(self.session.execute(_DECIDED, {"case": case_id}).scalar_one())

    def payment_parties(self, payment_id: int) -> tuple[int, str, str]:
        """(payer id, payee scheme, payee identifier) of a payment."""
        row = self.session.execute(_PAYMENT_PARTIES, {"id": payment_id}).one()
        return int(row[0]), str(row[1]), str(row[2])

    def backdate_notification(self, notification_id: int, days: int) -> None:
        """Simulation only: when a simulated notification was sent."""
        self.session.execute(
            text("UPDATE notifications SET created_at = now() - make_interval(days => :days) WHERE id = :id"),
            {"days": days, "id": notification_id},
        )
