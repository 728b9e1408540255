"""Pure compilation of a rule to one engine's SQL: parameters become literals, then SQLGlot writes
the target dialect. No engine is needed, so the step is tested on its own."""

from __future__ import annotations

from sqlglot import exp

from saldo.analysis.service.catalogue import Parameter, Rule, check_rule

DIALECTS = {"duckdb": "duckdb", "spark": "spark"}


def compile_rule(rule: Rule, engine: str, parameters: dict[str, Parameter] | None = None) -> str:
    """The SQL of ``rule`` for ``engine`` with its parameters (catalogue values, then overrides) bound."""
    values = {**rule.parameters, **(parameters or {})}
    tree = check_rule(rule)

    def bind(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            return _literal(values[node.name])
        if isinstance(node, exp.CTE) and engine != "duckdb" and node.args.get("materialized") is not None:
            node.set("materialized", None)  # a DuckDB planner hint; Spark SQL has no such keyword
        return node

    return tree.transform(bind).sql(dialect=DIALECTS[engine], pretty=True)


def _literal(value: Parameter) -> exp.Expression:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"a rule parameter is a number or a text, not {type(value).__name__}")
    if isinstance(value, str):
        return exp.Literal.string(value)
    return exp.Literal.number(value)
