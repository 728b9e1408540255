"""The fairness report: what the rules do to groups of people. Per rule and per group (age band, sex,
region): the flag rate (persons flagged per thousand), the case rate (persons a case was opened on),
and the precision of decided outcomes, each with its ratio to the rule's overall figure. A flag-rate
ratio above the threshold, or a precision ratio below its inverse, raises an alert for people to
look at: some disparities are the rule working (payments after death flag the old), others are not.

Groups come from the analysis snapshot (persons by pseudonym), so nobody is re-identified for it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, computed_field
from sqlalchemy.orm import Session

from saldo.analysis.service.evaluate import DIMENSIONS, person_groups
from saldo.analysis.service.run import find_run
from saldo.oversight.repository import OversightRepository

ALL_RULES = "*"


def N_(message: str) -> str:  # noqa: N802 — gettext's marker: the page translates the text when shown
    return message


# The report's dimensions and the groups that are codes, in words the pages translate
DIMENSION_WORDS = {
    "age band": N_("age band"),
    "sex": N_("sex"),
    "region": N_("region"),
}
GROUP_CODE_WORDS = {
    "F": N_("women"),
    "M": N_("men"),
}


class GroupFigures(BaseModel):
    rule_id: str
    dimension: str
    group: str
    persons: int
    flagged: int
    cased: int
    decided: int
    confirmed: int
    flag_ratio: float | None  # flag rate in the group / the rule's overall flag rate
    precision_ratio: float | None  # precision in the group / the rule's overall precision

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flag_rate_per_mille(self) -> float:
        return 1000 * self.flagged / self.persons if self.persons else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def case_rate_per_mille(self) -> float:
        return 1000 * self.cased / self.persons if self.persons else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def precision(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None


@dataclass(frozen=True, slots=True)
class Alert:
    """A disparity for people to look at: a group flagged ``ratio`` times as often as everyone
    (``kind`` flag), or a rule right ``ratio`` as often in a group as overall (``kind`` precision)."""

    kind: str  # flag, precision
    rule_id: str  # or ALL_RULES
    dimension: str
    group: str
    ratio: float
    group_per_mille: float = 0.0  # flag: persons flagged per 1,000 in the group
    overall_per_mille: float = 0.0  # flag: persons flagged per 1,000 in all
    flagged: int = 0
    confirmed: int = 0  # precision: outcomes confirming an error in the group
    decided: int = 0  # precision: outcomes decided in the group

    @property
    def text(self) -> str:
        """The alert in plain English, for the API and the command line (the page says it in the
        reader's language)."""
        rule = "all rules together" if self.rule_id == ALL_RULES else f"rule {self.rule_id}"
        if self.kind == "flag":
            return (
                f"{rule} flags {self.dimension} {self.group} {self.ratio:.1f} times as often as everyone: "
                f"{self.group_per_mille:.1f} of every 1,000 persons in the group against "
                f"{self.overall_per_mille:.1f} of every 1,000 in all ({self.flagged} persons flagged)"
            )
        return (
            f"{rule} is right less often in {self.dimension} {self.group}: {self.confirmed} of {self.decided} "
            f"outcomes confirmed an error, {self.ratio:.2f} times its precision overall"
        )


@dataclass(frozen=True)
class FairnessReport:
    run_id: int
    threshold: float
    min_flagged: int
    groups: list[GroupFigures]
    alerts: list[Alert]


def fairness_report(session: Session, *, run_id: int | None, threshold: float, min_flagged: int) -> FairnessReport:
    run = find_run(session, run_id)
    repository = OversightRepository(session)
    snapshot_path, snapshot_date = repository.snapshot_of_run(run.snapshot_id)
    groups_of = person_groups(Path(snapshot_path), snapshot_date)
    sizes: dict[tuple[str, str], int] = defaultdict(int)
    for groups in groups_of.values():
        for dimension, group in zip(DIMENSIONS, groups, strict=True):
            sizes[dimension, group] += 1
    total_persons = len(groups_of)
    flagged: dict[str, set[str]] = defaultdict(set)
    cased: dict[str, set[str]] = defaultdict(set)
    for rule_id, subject, decision in repository.run_findings(run.id):
        for rule in (rule_id, ALL_RULES):
            flagged[rule].add(subject)
            if decision == "opened":
                cased[rule].add(subject)
    outcomes: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for _, rule_id, subject, kind in repository.run_outcomes(run.id):
        for rule in (rule_id, ALL_RULES):
            outcomes[rule].append((subject, kind != "no_error"))
    figures: list[GroupFigures] = []
    alerts: list[Alert] = []
    for rule in sorted(flagged, key=lambda r: (r != ALL_RULES, r)):
        overall_rate = len(flagged[rule]) / total_persons if total_persons else 0.0
        decided_all = outcomes[rule]
        overall_precision = sum(c for _, c in decided_all) / len(decided_all) if decided_all else None
        counts = _count_by_group(groups_of, flagged[rule], cased[rule], decided_all)
        for (dimension, group), persons in sorted(sizes.items()):
            n_flagged, n_cased, decided, confirmed = counts[dimension, group]
            rate = n_flagged / persons if persons else 0.0
            flag_ratio = rate / overall_rate if overall_rate else None
            precision = confirmed / decided if decided else None
            precision_ratio = precision / overall_precision if precision is not None and overall_precision else None
            figure = GroupFigures(
                rule_id=rule,
                dimension=dimension,
                group=group,
                persons=persons,
                flagged=n_flagged,
                cased=n_cased,
                decided=decided,
                confirmed=confirmed,
                flag_ratio=flag_ratio,
                precision_ratio=precision_ratio,
            )
            figures.append(figure)
            if flag_ratio is not None and flag_ratio > threshold and n_flagged >= min_flagged:
                alerts.append(
                    Alert(
                        "flag",
                        rule,
                        dimension,
                        group,
                        flag_ratio,
                        group_per_mille=figure.flag_rate_per_mille,
                        overall_per_mille=1000 * overall_rate,
                        flagged=n_flagged,
                    )
                )
            if precision_ratio is not None and precision_ratio < 1 / threshold and decided >= min_flagged:
                alerts.append(
                    Alert(
                        "precision",
                        rule,
                        dimension,
                        group,
                        precision_ratio,
                        confirmed=confirmed,
                        decided=decided,
                    )
                )
    return FairnessReport(run.id, threshold, min_flagged, figures, alerts)


def _count_by_group(
    groups_of: dict[str, tuple[str, str, str]],
    flagged: set[str],
    cased: set[str],
    decided: list[tuple[str, bool]],
) -> dict[tuple[str, str], list[int]]:
    """Per (dimension, group): persons flagged, persons with a case, outcomes decided, confirmed."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for subject in flagged:
        for key in _keys(groups_of.get(subject)):
            counts[key][0] += 1
    for subject in cased:
        for key in _keys(groups_of.get(subject)):
            counts[key][1] += 1
    for subject, confirmed in decided:
        for key in _keys(groups_of.get(subject)):
            counts[key][2] += 1
            counts[key][3] += int(confirmed)
    return counts


def _keys(groups: tuple[str, str, str] | None) -> list[tuple[str, str]]:
    return list(zip(DIMENSIONS, groups, strict=True)) if groups else []
