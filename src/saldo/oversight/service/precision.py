"""Per-rule precision from payers' outcomes: confirmed / decided, with a 95 % Wilson interval, and
the precision the selection weighs findings by (the rule's prior, moved by what was measured)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from saldo.analysis.service.catalogue import load_catalogue
from saldo.oversight.repository import OversightRepository

Z95 = 1.959964


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion; (0, 1) when nothing was tried."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class RulePrecision:
    rule_id: str
    prior: float
    notified: int
    decided: int
    confirmed: int
    low: float
    high: float
    weighted: float  # what the selection uses

    @property
    def measured(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None


def rule_precision(session: Session, *, prior_weight: float) -> list[RulePrecision]:
    """Every rule of the catalogue with its outcomes so far."""
    counts = OversightRepository(session).outcome_counts()
    result = []
    for rule in load_catalogue():
        notified, decided, confirmed = counts.get(rule.id, (0, 0, 0))
        low, high = wilson_interval(confirmed, decided)
        weighted = (
            (rule.prior_precision * prior_weight + confirmed) / (prior_weight + decided)
            if (prior_weight + decided)
            else rule.prior_precision
        )
        result.append(RulePrecision(rule.id, rule.prior_precision, notified, decided, confirmed, low, high, weighted))
    return result


def selection_precision(session: Session, *, prior_weight: float) -> dict[str, float]:
    """The precision each rule's findings are weighed by in the next selection."""
    return {r.rule_id: r.weighted for r in rule_precision(session, prior_weight=prior_weight)}
