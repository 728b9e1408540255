"""The rule catalogue: each rule's SQL and metadata, checked when loaded.

A rule is refused when its SQL does not parse, reads a table that is not in a snapshot, names a
column of an excluded data category, leaves a parameter without a value, or does not return the
columns every finding needs."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp

from saldo.analysis.service.tables import RESULT_COLUMNS, SNAPSHOT_TABLES
from saldo.kit.data_categories import excluded_reason

RULES_DIR = Path(__file__).parents[1] / "rules"
SUBJECTS = frozenset({"person", "payee", "account"})
SEVERITIES = frozenset({"low", "medium", "high"})
Parameter = int | float | str


class RuleRefusedError(ValueError):
    """A rule failed the catalogue's checks and will not run."""

    def __init__(self, rule_id: str, reason: str) -> None:
        super().__init__(f"rule {rule_id}: {reason}")
        self.rule_id = rule_id
        self.reason = reason


@dataclass(frozen=True)
class Rule:
    id: str
    version: int
    title_sv: str
    title_en: str
    reason_sv: str
    reason_en: str
    legal_basis: str
    severity: str
    subject: str
    prior_precision: float
    inputs: tuple[str, ...]
    sql: str  # DuckDB dialect, with $name parameters
    parameters: dict[str, Parameter] = field(default_factory=dict)
    leaves_alone: tuple[LeftAlone, ...] = ()  # the lawful look-alikes it does not flag


@dataclass(frozen=True)
class LeftAlone:
    """A lawful situation that looks like what a rule looks for, which the rule does not flag."""

    en: str
    sv: str
    test: str  # the scenario in tests/analysis/test_rules.py that proves it


def load_catalogue(directory: Path = RULES_DIR) -> list[Rule]:
    """Every rule of ``directory``/catalogue.toml with its SQL, each checked; raises RuleRefusedError."""
    entries = tomllib.loads((directory / "catalogue.toml").read_text(encoding="utf-8"))["rule"]
    rules = [_rule(directory, entry) for entry in entries]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleRefusedError(rule.id, "appears twice in the catalogue")
        seen.add(rule.id)
    orphans = {p.stem for p in directory.glob("*.sql")} - seen
    if orphans:
        raise RuleRefusedError(sorted(orphans)[0], "has a .sql file but no catalogue entry")
    return rules


def _rule(directory: Path, entry: dict[str, object]) -> Rule:
    rule_id = str(entry.get("id", ""))
    path = directory / f"{rule_id}.sql"
    if not rule_id or not path.exists():
        raise RuleRefusedError(rule_id or "?", f"no SQL file {path.name}")
    try:
        parameters = dict(entry.get("parameters", {}))  # type: ignore[call-overload]
        rule = Rule(
            id=rule_id,
            version=int(entry["version"]),  # type: ignore[call-overload]
            title_sv=str(entry["title_sv"]),
            title_en=str(entry["title_en"]),
            reason_sv=str(entry["reason_sv"]),
            reason_en=str(entry["reason_en"]),
            legal_basis=str(entry["legal_basis"]),
            severity=str(entry["severity"]),
            subject=str(entry["subject"]),
            prior_precision=float(entry["prior_precision"]),  # type: ignore[arg-type]
            inputs=tuple(str(i) for i in entry["inputs"]),  # type: ignore[attr-defined]
            sql=path.read_text(encoding="utf-8"),
            parameters=parameters,
            leaves_alone=tuple(
                LeftAlone(en=str(a["en"]), sv=str(a["sv"]), test=str(a["test"]))
                for a in entry.get("leaves_alone", [])  # type: ignore[attr-defined]
            ),
        )
    except KeyError as missing:
        raise RuleRefusedError(rule_id, f"the catalogue entry lacks {missing}") from None
    check_rule(rule)
    return rule


def _check_metadata(rule: Rule) -> None:
    if rule.subject not in SUBJECTS:
        raise RuleRefusedError(rule.id, f"subject must be one of {', '.join(sorted(SUBJECTS))}")
    if rule.severity not in SEVERITIES:
        raise RuleRefusedError(rule.id, f"severity must be one of {', '.join(sorted(SEVERITIES))}")
    if not 0 < rule.prior_precision <= 1:
        raise RuleRefusedError(rule.id, "prior_precision must be above 0 and at most 1")
    undeclared = set(rule.inputs) - set(SNAPSHOT_TABLES)
    if undeclared:
        raise RuleRefusedError(rule.id, f"declares inputs that are not snapshot tables: {sorted(undeclared)}")


def check_rule(rule: Rule) -> exp.Query:
    """Parse and check one rule; returns its syntax tree. Raises RuleRefusedError."""
    _check_metadata(rule)
    try:
        tree = sqlglot.parse_one(rule.sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise RuleRefusedError(rule.id, f"the SQL does not parse: {exc}") from None
    if not isinstance(tree, exp.Query):
        raise RuleRefusedError(rule.id, "a rule is one SELECT statement")
    for node in tree.find_all(exp.Column, exp.Identifier, exp.Alias):
        reason = excluded_reason(node.name)
        if reason is not None:
            raise RuleRefusedError(rule.id, f"references {node.name!r}: {reason}")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if table.name not in SNAPSHOT_TABLES and table.name not in ctes:
            raise RuleRefusedError(rule.id, f"reads {table.name!r}, which is not a snapshot table")
    read = {t.name for t in tree.find_all(exp.Table) if t.name in SNAPSHOT_TABLES}
    if read - set(rule.inputs):
        raise RuleRefusedError(rule.id, f"reads {sorted(read - set(rule.inputs))} without declaring them in inputs")
    names = {p.name for p in tree.find_all(exp.Placeholder)}
    if names - set(rule.parameters):
        raise RuleRefusedError(rule.id, f"parameter(s) without a value: {sorted(names - set(rule.parameters))}")
    returned = set(tree.named_selects)
    if not set(RESULT_COLUMNS) <= returned:
        raise RuleRefusedError(rule.id, f"must return {', '.join(RESULT_COLUMNS)}")
    return tree
