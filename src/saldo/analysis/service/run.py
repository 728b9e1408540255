"""Running the rule catalogue on a snapshot: one engine, every rule, findings with reasons, and the
selection of what the authority has capacity to look at.

Nothing happens to a payment or a person because of a finding: a finding is a lead for a person
at the authority to triage (DESIGN.md, Principles)."""

from __future__ import annotations

import datetime as dt
import decimal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
from sqlalchemy.orm import Session

from saldo.analysis.models import AnalysisRun, Finding, RuleMode, RunStatus
from saldo.analysis.repository import AnalysisRepository
from saldo.analysis.service.catalogue import Parameter, Rule, load_catalogue
from saldo.analysis.service.compile import compile_rule
from saldo.analysis.service.snapshot import verify_snapshot
from saldo.analysis.service.tables import RESULT_COLUMNS
from saldo.kit.money import Money
from saldo.kit.problem import ProblemError
from saldo.settings import Settings


class Engine(Protocol):
    name: str

    def run(self, sql: str) -> pa.Table: ...

    def close(self) -> None: ...


ENGINES = ("duckdb", "spark")


class AnalysisError(ProblemError):
    """The analysis is refused before it starts: no snapshot, a changed snapshot, an unknown rule or engine."""

    status = 422
    error = "analysis_refused"


@dataclass(frozen=True)
class Found:
    """One row of a rule's result, normalised so that both engines give equal values."""

    rule_id: str
    subject_key: str
    payment_ids: tuple[int, ...]
    amount_at_risk_minor: int
    currency: str
    facts: dict[str, Any]


@contextmanager
def open_engine(name: str, folder: Path, settings: Settings) -> Iterator[Engine]:
    """An engine over the snapshot in ``folder``, closed afterwards."""
    engine: Engine
    if name == "duckdb":
        from saldo.analysis.service.backends.duckdb import DuckDbEngine  # noqa: PLC0415

        engine = DuckDbEngine(folder, threads=settings.analysis_threads)
    elif name == "spark":
        from saldo.analysis.service.backends.spark import SparkEngine, SparkUnavailableError  # noqa: PLC0415

        try:
            engine = SparkEngine(folder, master=settings.spark_master, threads=settings.analysis_threads)
        except SparkUnavailableError as exc:
            raise AnalysisError(str(exc)) from None
    else:
        raise AnalysisError(f"unknown engine {name!r}: {' or '.join(ENGINES)}")
    try:
        yield engine
    finally:
        engine.close()


def execute_rules(
    engine: Engine,
    rules: Sequence[Rule],
    parameters: dict[str, dict[str, Parameter]] | None = None,
    on_rule: Callable[[Rule, int, float], None] | None = None,
) -> list[Found]:
    """Run every rule on ``engine``; findings in a stable order (rule, subject, payments)."""
    found: list[Found] = []
    for rule in rules:
        started = time.perf_counter()
        result = engine.run(compile_rule(rule, engine.name, (parameters or {}).get(rule.id)))
        rows = [_normalised(rule.id, row) for row in result.to_pylist()]
        found.extend(rows)
        if on_rule is not None:
            on_rule(rule, len(rows), time.perf_counter() - started)
    return sorted(found, key=lambda f: (f.rule_id, f.subject_key, f.payment_ids))


def _normalised(rule_id: str, row: dict[str, Any]) -> Found:
    facts = {k: _plain(v) for k, v in row.items() if k not in RESULT_COLUMNS}
    return Found(
        rule_id=rule_id,
        subject_key=str(row["subject_key"]),
        payment_ids=tuple(sorted(int(p) for p in row["payment_ids"])),
        amount_at_risk_minor=int(row["amount_at_risk_minor"]),
        currency=str(row["currency"]),
        facts=facts,
    )


def _plain(value: object) -> object:
    """A JSON value that is the same whichever engine produced it."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | float):
        return int(value) if value == int(value) else float(value)
    return value


def reason_of(template: str, found: Found) -> str:
    """The plain-language reason of a finding: the rule's template filled with its facts."""
    amount = Money(found.amount_at_risk_minor, found.currency).format()
    values = {k: _fact_text(k, v, found.currency) for k, v in found.facts.items()}
    return template.format_map({**values, "amount": amount})


def _fact_text(name: str, value: object, currency: str) -> object:
    if value is None:
        return "-"
    if name.endswith("_minor") and isinstance(value, int):
        return Money(value, currency).format()
    return value


def find_run(session: Session, run_id: int | None = None) -> AnalysisRun:
    """The analysis run ``run_id``, or the newest finished one; AnalysisError when there is none."""
    repository = AnalysisRepository(session)
    run = repository.run(run_id) if run_id is not None else repository.latest_run()
    if run is None:
        raise AnalysisError(
            f"no analysis run {run_id}" if run_id else "no finished analysis run; start one with `saldo analysis run`"
        )
    return run


def run_analysis(
    session: Session,
    settings: Settings,
    *,
    started_by: str,
    snapshot_id: int | None = None,
    engine: str | None = None,
    rule_ids: Sequence[str] | None = None,
    precision: Mapping[str, float] | None = None,
    progress: Callable[[str], None] | None = None,
) -> AnalysisRun:
    """Run the catalogue on a snapshot (the newest by default), store the findings and select within
    the authority's capacity by expected value: amount at risk times the rule's precision.

    ``precision`` is what the audit has measured from payers' outcomes (it replaces a rule's prior);
    retired rules do not run and the findings of rules in shadow mode are never selected."""
    repository = AnalysisRepository(session)
    snapshot = repository.snapshot(snapshot_id) if snapshot_id is not None else repository.latest_snapshot()
    if snapshot is None:
        raise AnalysisError("no snapshot to analyse; take one with `saldo analysis snapshot`")
    folder = Path(snapshot.path)
    faults = verify_snapshot(folder) if folder.exists() else [f"{folder} does not exist"]
    if faults:
        raise AnalysisError(f"snapshot {snapshot.label} cannot be used: {'; '.join(faults)}")
    rules = load_catalogue()
    if rule_ids:
        unknown = set(rule_ids) - {r.id for r in rules}
        if unknown:
            raise AnalysisError(f"no rule {', '.join(sorted(unknown))} in the catalogue")
        rules = [r for r in rules if r.id in rule_ids]
    modes = {m.rule_id: m.mode for m in repository.rule_modes().values()}
    rules = [r for r in rules if modes.get(r.id) is not RuleMode.RETIRED]
    chosen = engine or settings.analysis_engine
    if chosen not in ENGINES:
        raise AnalysisError(f"unknown engine {chosen!r}: {' or '.join(ENGINES)}")
    run = repository.add_run(
        AnalysisRun(
            snapshot_id=snapshot.id,
            engine=chosen,
            rules=[],
            status=RunStatus.RUNNING,
            capacity=settings.analysis_capacity,
            started_by=started_by,
        )
    )
    timings: list[dict[str, Any]] = []  # one entry per rule that finished
    try:
        # The run's work in a savepoint: when it fails, what it wrote goes and the run stays, failed,
        # with the error and the rules that had finished.
        with session.begin_nested():
            _run_rules(repository, run, settings, folder, rules, modes, precision, progress, timings)
    except Exception as exc:
        run.rules, run.findings, run.selected = timings, 0, 0
        repository.finish_run(run, status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:4000])
        return run
    repository.finish_run(run, status=RunStatus.FINISHED)
    return run


def _run_rules(
    repository: AnalysisRepository,
    run: AnalysisRun,
    settings: Settings,
    folder: Path,
    rules: Sequence[Rule],
    modes: Mapping[str, RuleMode],
    precision: Mapping[str, float] | None,
    progress: Callable[[str], None] | None,
    timings: list[dict[str, Any]],
) -> None:
    """Execute the rules, store the findings and select within capacity; ``timings`` fills as rules finish."""

    def record(rule: Rule, count: int, seconds: float) -> None:
        timings.append(
            {
                "id": rule.id,
                "version": rule.version,
                "mode": modes.get(rule.id, RuleMode.ACTIVE).value,
                "findings": count,
                "seconds": round(seconds, 3),
            }
        )
        if progress is not None:
            progress(f"{rule.id}: {count:,} findings in {seconds:.1f} s")

    with open_engine(run.engine, folder, settings) as running:
        found = execute_rules(running, rules, on_rule=record)
    by_id = {r.id: r for r in rules}
    weights = {r.id: (precision or {}).get(r.id, r.prior_precision) for r in rules}
    repository.add_findings(
        [
            Finding(
                run_id=run.id,
                snapshot_id=run.snapshot_id,
                rule_id=f.rule_id,
                rule_version=by_id[f.rule_id].version,
                subject_kind=by_id[f.rule_id].subject,
                subject_key=f.subject_key,
                payment_ids=list(f.payment_ids),
                amount_at_risk_minor=f.amount_at_risk_minor,
                currency=f.currency,
                facts=f.facts,
                reason_sv=reason_of(by_id[f.rule_id].reason_sv, f),
                reason_en=reason_of(by_id[f.rule_id].reason_en, f),
                expected_value_minor=round(f.amount_at_risk_minor * weights[f.rule_id]),
                shadow=modes.get(f.rule_id) is RuleMode.SHADOW,
            )
            for f in found
        ]
    )
    run.rules = list(timings)
    run.findings = len(found)
    run.selected = repository.select_within_capacity(run.id, settings.analysis_capacity)
