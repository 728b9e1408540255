"""The rule catalogue: what the loader refuses, and the pure compile step (no engine needed)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from saldo.analysis.service.catalogue import RULES_DIR, Rule, RuleRefusedError, check_rule, load_catalogue
from saldo.analysis.service.compile import compile_rule
from saldo.analysis.service.tables import SNAPSHOT_TABLES
from saldo.kit.data_categories import EXCLUDED_CATEGORIES

GOOD_SQL = (
    "SELECT payee_key AS subject_key, list(payment_id) AS payment_ids, sum(amount_minor) AS amount_at_risk_minor, "
    "min(currency) AS currency FROM payments GROUP BY payee_key"
)


def rule(sql: str = GOOD_SQL, **changes: object) -> Rule:
    base = Rule(
        id="test_rule",
        version=1,
        title_sv="t",
        title_en="t",
        reason_sv="r",
        reason_en="r",
        legal_basis="l",
        severity="low",
        subject="person",
        prior_precision=0.5,
        inputs=("payments", "persons"),
        sql=sql,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


class TestCatalogue:
    def test_the_shipped_catalogue_has_at_least_twelve_checked_rules(self) -> None:
        rules = load_catalogue()
        assert len(rules) >= 12
        assert len({r.id for r in rules}) == len(rules)
        assert {p.stem for p in RULES_DIR.glob("*.sql")} == {r.id for r in rules}
        for r in rules:
            assert all((r.legal_basis, r.reason_sv, r.reason_en, r.title_sv, r.title_en)), r.id

    @pytest.mark.parametrize(
        "column", ["citizenship", "nationality", "country_of_birth", "ethnicity", "religion", "diagnosis_code"]
    )
    def test_a_rule_naming_an_excluded_category_is_refused(self, column: str) -> None:
        sql = GOOD_SQL.replace("FROM payments", f"FROM payments WHERE {column} = 'x'")
        with pytest.raises(RuleRefusedError, match=column):
            check_rule(rule(sql))

    def test_an_excluded_category_is_refused_even_as_an_alias(self) -> None:
        with pytest.raises(RuleRefusedError, match="nationality"):
            check_rule(
                rule(GOOD_SQL.replace("min(currency) AS currency", "min(currency) AS currency, 'SE' AS nationality"))
            )

    def test_a_rule_reading_a_table_outside_the_snapshot_is_refused(self) -> None:
        with pytest.raises(RuleRefusedError, match="not a snapshot table"):
            check_rule(rule(GOOD_SQL.replace("FROM payments", "FROM payees")))

    def test_a_rule_reading_an_undeclared_input_is_refused(self) -> None:
        with pytest.raises(RuleRefusedError, match="without declaring"):
            check_rule(rule(inputs=("persons",)))

    def test_a_parameter_without_a_value_is_refused(self) -> None:
        with pytest.raises(RuleRefusedError, match="without a value"):
            check_rule(rule(GOOD_SQL.replace("GROUP BY", "WHERE amount_minor > $limit GROUP BY")))

    def test_a_rule_must_return_what_a_finding_needs(self) -> None:
        with pytest.raises(RuleRefusedError, match="must return"):
            check_rule(rule("SELECT payee_key FROM payments"))

    @pytest.mark.parametrize("sql", ["DELETE FROM payments", "SELEC nothing", "DROP TABLE payments"])
    def test_anything_but_one_select_is_refused(self, sql: str) -> None:
        with pytest.raises(RuleRefusedError):
            check_rule(rule(sql))

    def test_an_sql_file_without_a_catalogue_entry_is_refused(self, tmp_path: Path) -> None:
        for source in RULES_DIR.iterdir():
            (tmp_path / source.name).write_bytes(source.read_bytes())
        (tmp_path / "secret_rule.sql").write_text(GOOD_SQL, encoding="utf-8")
        with pytest.raises(RuleRefusedError, match="no catalogue entry"):
            load_catalogue(tmp_path)

    def test_the_snapshot_schema_has_no_excluded_category(self) -> None:
        for table, schema in SNAPSHOT_TABLES.items():
            for name in schema.names:
                assert name not in EXCLUDED_CATEGORIES, f"{table}.{name}"


class TestCompile:
    def test_parameters_become_literals_and_overrides_win(self) -> None:
        r = rule(GOOD_SQL.replace("GROUP BY", "WHERE amount_minor > $limit GROUP BY"), parameters={"limit": 100})
        assert "> 100" in compile_rule(r, "duckdb")
        assert "> 7" in compile_rule(r, "duckdb", {"limit": 7})

    def test_every_rule_compiles_to_spark_sql_that_spark_can_parse(self) -> None:
        for r in load_catalogue():
            spark = compile_rule(r, "spark")
            tree = sqlglot.parse_one(spark, read="spark")  # valid in the target dialect
            assert not list(tree.find_all(exp.Placeholder)), r.id
            assert "LIST_SORT" not in spark.upper()

    def test_a_duckdb_planner_hint_is_dropped_for_spark(self) -> None:
        r = rule(f"WITH p AS MATERIALIZED (SELECT * FROM payments) {GOOD_SQL.replace('FROM payments', 'FROM p')}")
        assert "MATERIALIZED" in compile_rule(r, "duckdb")
        assert "MATERIALIZED" not in compile_rule(r, "spark")
