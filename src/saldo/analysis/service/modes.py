"""Rule governance: a rule can be put in shadow mode (it runs and is measured, but none of its
findings reaches triage) or retired (it no longer runs), and made active again. Every change is
recorded with who and why; nothing is overwritten."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from saldo.analysis.models import RuleMode, RuleModeChange
from saldo.analysis.repository import AnalysisRepository
from saldo.analysis.service.catalogue import load_catalogue
from saldo.analysis.service.run import AnalysisError


@dataclass(frozen=True)
class RuleState:
    rule_id: str
    version: int
    mode: RuleMode
    reason: str | None
    changed_by: str | None


def rule_modes(session: Session) -> dict[str, RuleMode]:
    """The mode of every rule in the catalogue (active unless changed)."""
    changes = AnalysisRepository(session).rule_modes()
    return {r.id: changes[r.id].mode if r.id in changes else RuleMode.ACTIVE for r in load_catalogue()}


def rule_states(session: Session) -> list[RuleState]:
    changes = AnalysisRepository(session).rule_modes()
    states = []
    for rule in load_catalogue():
        change = changes.get(rule.id)
        states.append(
            RuleState(
                rule.id,
                rule.version,
                change.mode if change else RuleMode.ACTIVE,
                change.reason if change else None,
                change.changed_by if change else None,
            )
        )
    return states


def set_rule_mode(session: Session, *, rule_id: str, mode: RuleMode, reason: str, changed_by: str) -> RuleModeChange:
    """Record a change of a rule's mode. A reason is required; a change to the mode the rule is
    already in is refused, so the history holds only real changes."""
    if rule_id not in {r.id for r in load_catalogue()}:
        raise AnalysisError(f"no rule {rule_id} in the catalogue")
    if not reason.strip():
        raise AnalysisError("a change of a rule's mode needs a reason")
    current = rule_modes(session)[rule_id]
    if current is mode:
        raise AnalysisError(f"rule {rule_id} is {mode.value} already")
    return AnalysisRepository(session).add_mode_change(
        RuleModeChange(rule_id=rule_id, mode=mode, reason=reason.strip(), changed_by=changed_by)
    )


def mode_history(session: Session, rule_id: str) -> Sequence[RuleModeChange]:
    return AnalysisRepository(session).mode_history(rule_id)
