"""Reading findings: per-rule counts and the list, highest expected value first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from saldo.analysis.models import Finding
from saldo.analysis.repository import AnalysisRepository


def summarise_findings(session: Session, run_id: int) -> dict[str, tuple[int, int, int]]:
    """Per rule of the run: findings, selected for review, amount at risk (minor units)."""
    return AnalysisRepository(session).finding_counts(run_id)


def list_findings(
    session: Session, run_id: int, *, rule_id: str | None = None, selected_only: bool = False, limit: int = 50
) -> Sequence[Finding]:
    """The run's findings, highest expected value first."""
    return AnalysisRepository(session).findings(run_id, rule_id=rule_id, selected_only=selected_only, limit=limit)
