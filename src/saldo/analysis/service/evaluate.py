"""Evaluation of an analysis run against the ground truth of a generated country: per-rule precision
and recall on the planted cases, and flag rates by age band, sex and region (docs/evaluation.md).

A finding is right when one of its payments is a planted payment of its rule; a planted case is found
when one of its payments is in a finding of its rule. Cases whose payments are not in the registry
(their payer's file was not loaded) are left out and counted. Payers connected for analysis only
report the payments they made through their own bank, so their cases are scored like the others."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from saldo.analysis.repository import AnalysisRepository
from saldo.analysis.service.run import AnalysisError

AGE_BANDS = ((0, 17), (18, 29), (30, 49), (50, 64), (65, 200))
REGIONS = {"01": "Stockholm", "12": "Skåne", "14": "Västra Götaland"}  # county codes of the synthetic country


@dataclass(frozen=True)
class RuleScore:
    rule_id: str
    planted: int  # planted cases with payments in the registry
    found: int  # of those, found by the rule
    findings: int
    right: int  # findings that hit a planted case of the rule

    @property
    def precision(self) -> float:
        return self.right / self.findings if self.findings else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0


@dataclass(frozen=True)
class GroupRate:
    dimension: str  # age band, sex or region
    group: str
    persons: int
    flagged: int  # persons who are the subject of at least one finding
    findings: int
    right: int

    @property
    def flag_rate_per_mille(self) -> float:
        return 1000 * self.flagged / self.persons if self.persons else 0.0

    @property
    def precision(self) -> float | None:
        return self.right / self.findings if self.findings else None


@dataclass
class Evaluation:
    run_id: int
    rules: list[RuleScore]
    groups: list[GroupRate]
    outside_registry: int  # planted cases left out: none of their payments is in the registry
    notes: list[str] = field(default_factory=list)


def evaluate_run(session: Session, run_id: int, ground_truth: Path) -> Evaluation:
    """Score the findings of ``run_id`` against ``ground_truth`` (ground_truth.csv of the country)."""
    repository = AnalysisRepository(session)
    run = repository.run(run_id)
    if run is None:
        raise AnalysisError(f"no analysis run {run_id}")
    with ground_truth.open(encoding="utf-8", newline="") as handle:
        truth = list(csv.DictReader(handle))
    ids = repository.payment_ids_of([(row["payer"], row["reference"]) for row in truth])
    planted: dict[str, dict[int, str]] = defaultdict(dict)  # rule -> payment id -> case
    cases: dict[str, set[str]] = defaultdict(set)
    all_cases: set[tuple[str, str]] = set()
    for row in truth:
        all_cases.add((row["rule"], row["case"]))
        payment = ids.get((row["payer"], row["reference"]))
        if payment is not None:
            planted[row["rule"]][payment] = row["case"]
            cases[row["rule"]].add(row["case"])
    findings = repository.findings(run_id, limit=None)
    rule_ids = sorted({r["id"] for r in run.rules} | set(cases))
    found_cases: dict[str, set[str]] = defaultdict(set)
    right_findings: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    subject_right: dict[str, list[bool]] = defaultdict(list)
    for finding in findings:
        total[finding.rule_id] += 1
        hits = {planted[finding.rule_id][p] for p in finding.payment_ids if p in planted[finding.rule_id]}
        found_cases[finding.rule_id] |= hits
        right_findings[finding.rule_id] += bool(hits)
        if finding.subject_kind in ("person", "payee"):
            subject_right[finding.subject_key].append(bool(hits))
    scores = [RuleScore(r, len(cases[r]), len(found_cases[r]), total[r], right_findings[r]) for r in rule_ids]
    snapshot = repository.snapshot(run.snapshot_id)
    assert snapshot is not None
    groups = _group_rates(Path(snapshot.path), snapshot.created_at.date(), subject_right)
    outside = len(all_cases) - sum(len(c) for c in cases.values())
    return Evaluation(run_id, scores, groups, outside)


DIMENSIONS = ("age band", "sex", "region")


def person_groups(folder: Path, on: dt.date) -> dict[str, tuple[str, str, str]]:
    """Each person of a snapshot by pseudonym: (age band on ``on``, sex, region) — the groups the
    flag rates are compared across. Read from the snapshot, so nobody is re-identified for it."""
    persons = pq.read_table(folder / "persons.parquet", columns=["person_key", "sex", "birth_month", "region_code"])
    keys = persons["person_key"].to_pylist()
    births = persons["birth_month"].to_pylist()
    sexes = persons["sex"].to_pylist()
    regions = pc.fill_null(persons["region_code"], "").to_pylist()
    groups = {}
    for key, birth, sex, region in zip(keys, births, sexes, regions, strict=True):
        age = on.year - birth.year - ((on.month, on.day) < (birth.month, 1))
        band = next(f"{low}-{high}" if high < 200 else f"{low}+" for low, high in AGE_BANDS if low <= age <= high)
        groups[key] = (band, sex, REGIONS.get(region, region))
    return groups


def _group_rates(folder: Path, on: dt.date, subjects: dict[str, list[bool]]) -> list[GroupRate]:
    rates: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for key, groups in person_groups(folder, on).items():
        hits = subjects.get(key, [])
        for dimension, group in zip(DIMENSIONS, groups, strict=True):
            counts = rates[dimension, group]
            counts[0] += 1
            counts[1] += bool(hits)
            counts[2] += len(hits)
            counts[3] += sum(hits)
    return [GroupRate(d, g, *counts) for (d, g), counts in sorted(rates.items())]


def evaluation_markdown(evaluation: Evaluation, *, title: str) -> str:
    """The evaluation as the Markdown page published in docs/."""
    lines = [
        f"# {title}",
        "",
        "| rule | planted | found | findings | right | precision | recall |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in evaluation.rules:
        lines.append(
            f"| `{s.rule_id}` | {s.planted} | {s.found} | {s.findings} | {s.right} | "
            f"{s.precision:.3f} | {s.recall:.3f} |"
        )
    lines += [
        "",
        f"Planted cases outside the registry (their payer's file was not loaded): {evaluation.outside_registry}.",
        "",
        "| dimension | group | persons | flagged | per 1,000 | findings | precision |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for g in evaluation.groups:
        precision = "-" if g.precision is None else f"{g.precision:.3f}"
        lines.append(
            f"| {g.dimension} | {g.group} | {g.persons:,} | {g.flagged:,} | {g.flag_rate_per_mille:.2f} | "
            f"{g.findings:,} | {precision} |"
        )
    return "\n".join(lines) + "\n"
