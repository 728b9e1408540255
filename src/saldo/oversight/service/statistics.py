"""Statistics per payer and rule: notifications, outcomes, amounts stopped and claimed back, time to
outcome, and what handling them cost (SALDO_HANDLING_COST_MINOR per notification) — so whether the
control pays for itself can be answered with figures."""

from __future__ import annotations

from pydantic import BaseModel, computed_field
from sqlalchemy.orm import Session

from saldo.oversight.repository import OversightRepository


class PayerRuleStatistics(BaseModel):
    payer_id: int
    payer_name: str
    rule_id: str
    currency: str
    notifications: int
    decided: int
    no_error: int
    corrected: int
    recovery_claims: int
    payments_stopped: int
    reported_to_police: int
    stopped_minor: int
    claimed_minor: int
    median_days_to_outcome: float | None
    handling_cost_minor: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def net_minor(self) -> int:
        """Stopped and claimed back, less what handling the notifications cost."""
        return self.stopped_minor + self.claimed_minor - self.handling_cost_minor


def payer_rule_statistics(session: Session, *, handling_cost_minor: int) -> list[PayerRuleStatistics]:
    rows = OversightRepository(session).statistics()
    return [
        PayerRuleStatistics(
            payer_id=int(r["payer_id"]),
            payer_name=str(r["payer_name"]),
            rule_id=str(r["rule_id"]),
            currency=str(r["currency"]),
            notifications=int(r["notifications"]),
            decided=int(r["decided"]),
            no_error=int(r["no_error"]),
            corrected=int(r["corrected"]),
            recovery_claims=int(r["recovery_claims"]),
            payments_stopped=int(r["payments_stopped"]),
            reported_to_police=int(r["reported_to_police"]),
            stopped_minor=int(r["stopped_minor"]),
            claimed_minor=int(r["claimed_minor"]),
            median_days_to_outcome=float(r["median_days_to_outcome"])
            if r["median_days_to_outcome"] is not None
            else None,
            handling_cost_minor=int(r["notifications"]) * handling_cost_minor,
        )
        for r in rows
    ]


def audit_overview(session: Session) -> dict[str, int]:
    """Counts for the start page: findings selected and dismissed, cases, open requests,
    notifications and their outcomes, access-log entries."""
    return OversightRepository(session).overview()
