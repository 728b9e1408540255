"""Every rule of the catalogue on tiny hand-made tables: what it must flag, and the legitimate
look-alike it must leave alone. The same scenarios run on Spark and must give identical findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from saldo.analysis.service.catalogue import Rule
from saldo.analysis.service.run import execute_rules
from tests.analysis.conftest import TinySnapshot, month, payment, person, run_duckdb


@dataclass(frozen=True)
class Scenario:
    rule: str
    build: Callable[[TinySnapshot], None]
    flagged: tuple[tuple[int, ...], ...]  # payment ids of each expected finding; empty: nothing flagged


SCENARIOS: dict[str, Scenario] = {}


def scenario(rule: str, *flagged: tuple[int, ...]) -> Callable[[Callable[[TinySnapshot], None]], None]:
    def register(build: Callable[[TinySnapshot], None]) -> None:
        SCENARIOS[build.__name__] = Scenario(rule, build, tuple(flagged))

    return register


# --- payment_after_death ---------------------------------------------------------------------


@scenario("payment_after_death", (2,))
def pension_paid_for_the_month_after_death(t: TinySnapshot) -> None:
    t.add("persons", person("p", death_date=dt.date(2026, 3, 10)))
    t.add("payments", payment("p", benefit="IP", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p", benefit="IP", start=month(2026, 4), payment_id=2))


@scenario("payment_after_death")
def payment_for_the_month_of_death_is_legitimate(t: TinySnapshot) -> None:
    t.add("persons", person("p", death_date=dt.date(2026, 3, 31)))
    t.add("payments", payment("p", benefit="IP", start=month(2026, 3), payment_id=1))


# --- benefit_after_emigration ----------------------------------------------------------------


@scenario("benefit_after_emigration", (2,))
def child_allowance_after_emigration(t: TinySnapshot) -> None:
    t.add("persons", person("p", emigration_date=dt.date(2026, 3, 15)))
    t.add("payments", payment("p", benefit="BB", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p", benefit="BB", start=month(2026, 4), payment_id=2))


@scenario("benefit_after_emigration")
def work_based_benefit_after_emigration_or_a_return_is_not_flagged(t: TinySnapshot) -> None:
    t.add("persons", person("p", emigration_date=dt.date(2026, 3, 15)))
    t.add("payments", payment("p", benefit="SJP", start=month(2026, 4), payment_id=1))  # not residence-based
    t.add("persons", person("q", emigration_date=dt.date(2026, 1, 5), immigration_date=dt.date(2026, 2, 20)))
    t.add("payments", payment("q", benefit="BB", start=month(2026, 4), payment_id=2))  # moved back


# --- earnings_beside_full_time_benefit ---------------------------------------------------------


@scenario("earnings_beside_full_time_benefit", (1,))
def unemployment_benefit_in_a_month_with_a_full_salary(t: TinySnapshot) -> None:
    t.add("payments", payment("p", benefit="AKA", amount=2_000_000, start=month(2026, 5), payment_id=1))
    t.add("income", {"person_key": "p", "employer_key": "e1", "month": month(2026, 5), "amount_minor": 800_000})
    t.add("income", {"person_key": "p", "employer_key": "e2", "month": month(2026, 5), "amount_minor": 900_000})


@scenario("earnings_beside_full_time_benefit")
def small_side_earnings_or_another_month_are_allowed(t: TinySnapshot) -> None:
    t.add("payments", payment("p", benefit="AKA", start=month(2026, 5), payment_id=1))
    t.add("income", {"person_key": "p", "employer_key": "e1", "month": month(2026, 5), "amount_minor": 400_000})
    t.add("income", {"person_key": "p", "employer_key": "e1", "month": month(2026, 6), "amount_minor": 3_000_000})
    t.add("payments", payment("q", benefit="SJP", start=month(2026, 5), payment_id=2))  # sickness: partly off
    t.add("income", {"person_key": "q", "employer_key": "e1", "month": month(2026, 5), "amount_minor": 2_000_000})


# --- mutually_exclusive_benefits ---------------------------------------------------------------


@scenario("mutually_exclusive_benefits", (1, 2))
def student_finance_and_unemployment_benefit_for_the_same_month(t: TinySnapshot) -> None:
    t.add("payments", payment("p", benefit="STM", payer=3, start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p", benefit="AKA", payer=2, start=month(2026, 3), payment_id=2))


@scenario("mutually_exclusive_benefits")
def excluding_benefits_in_different_months_are_fine(t: TinySnapshot) -> None:
    t.add("payments", payment("p", benefit="STM", payer=3, start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p", benefit="AKA", payer=2, start=month(2026, 4), payment_id=2))
    t.add("payments", payment("p", benefit="BB", start=month(2026, 4), payment_id=3))


# --- the rules on what institutions abroad told (cross_border_facts, from received SEDs) -----------


def fact(key: str, kind: str, start: dt.date, **values: Any) -> dict[str, Any]:
    row = {"person_key": key, "kind": kind, "start_date": start, "end_date": None, "benefit_type": None}
    return row | {"country": "FI", "institution": "FI:KELA01"} | values


@scenario("payment_after_death_abroad", (2,))
def pension_paid_after_a_death_notified_from_finland(t: TinySnapshot) -> None:
    t.add("persons", person("p"))
    t.add("cross_border_facts", fact("p", "death", dt.date(2026, 3, 10)))
    t.add("payments", payment("p", benefit="IP", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p", benefit="IP", start=month(2026, 4), payment_id=2))


@scenario("payment_after_death_abroad")
def the_month_of_a_death_abroad_or_one_the_register_knows_is_not_flagged_here(t: TinySnapshot) -> None:
    t.add("persons", person("p"), person("q", death_date=dt.date(2026, 3, 10)))
    t.add("cross_border_facts", fact("p", "death", dt.date(2026, 3, 31)), fact("q", "death", dt.date(2026, 3, 10)))
    t.add("payments", payment("p", benefit="IP", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("q", benefit="IP", start=month(2026, 5), payment_id=2))


@scenario("benefit_also_paid_abroad", (2, 3))
def unemployment_benefit_paid_here_and_in_finland(t: TinySnapshot) -> None:
    abroad = fact("p", "benefit_abroad", month(2026, 4), end_date=dt.date(2026, 9, 30), benefit_type="unemployment")
    t.add("cross_border_facts", abroad)
    for payment_id, number in ((1, 3), (2, 4), (3, 5)):
        t.add("payments", payment("p", benefit="AKA", start=month(2026, number), payment_id=payment_id))


@scenario("benefit_also_paid_abroad")
def pensions_from_two_countries_or_other_periods_are_lawful(t: TinySnapshot) -> None:
    t.add("cross_border_facts", fact("p", "benefit_abroad", month(2026, 1), benefit_type="old_age"))
    t.add("payments", payment("p", benefit="IP", start=month(2026, 3), payment_id=1))
    t.add("cross_border_facts", fact("q", "benefit_abroad", month(2026, 1), benefit_type="family"))
    t.add("payments", payment("q", benefit="AKA", start=month(2026, 3), payment_id=2))
    ended = fact("r", "benefit_abroad", month(2026, 1), end_date=dt.date(2026, 2, 28), benefit_type="sickness")
    t.add("cross_border_facts", ended)
    t.add("payments", payment("r", benefit="SJP", start=month(2026, 3), payment_id=3))


@scenario("residence_benefit_while_resident_abroad", (2,))
def child_allowance_while_finland_says_the_family_lives_there(t: TinySnapshot) -> None:
    t.add("persons", person("p"))
    t.add("cross_border_facts", fact("p", "residence_abroad", dt.date(2026, 3, 15)))
    t.add("payments", payment("p", benefit="BB", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p", benefit="BB", start=month(2026, 4), payment_id=2))


@scenario("residence_benefit_while_resident_abroad")
def work_based_benefit_a_known_emigration_or_a_return_is_not_flagged_here(t: TinySnapshot) -> None:
    t.add("persons", person("p"), person("q", emigration_date=dt.date(2026, 3, 1)))
    t.add("persons", person("r", emigration_date=None, immigration_date=dt.date(2026, 5, 1)))
    for key in ("p", "q", "r"):
        t.add("cross_border_facts", fact(key, "residence_abroad", dt.date(2026, 3, 15)))
    t.add("payments", payment("p", benefit="IP", start=month(2026, 4), payment_id=1))  # not residence-based
    t.add("payments", payment("q", benefit="BB", start=month(2026, 4), payment_id=2))  # the register knows
    t.add("payments", payment("r", benefit="BB", start=month(2026, 6), payment_id=3))  # moved back


# --- duplicate_payment -------------------------------------------------------------------------


@scenario("duplicate_payment", (1, 2))
def the_same_payment_under_two_references(t: TinySnapshot) -> None:
    t.add("payments", payment("p", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p", start=month(2026, 3), payment_id=2))


@scenario("duplicate_payment")
def same_amount_in_other_months_or_from_other_payers_is_no_duplicate(t: TinySnapshot) -> None:
    t.add("payments", payment("p", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p", start=month(2026, 4), payment_id=2))
    t.add("payments", payment("p", benefit="EKB", payer=1, start=month(2026, 3), payment_id=3))
    t.add("payments", payment("p", benefit="EKB", payer=2, start=month(2026, 3), payment_id=4))


@scenario("duplicate_payment")
def two_decisions_for_the_same_month_are_no_duplicate(t: TinySnapshot) -> None:
    # maintenance support for two children, each with its decision, paid to one parent every month
    t.add("payments", payment("p", benefit="UHS", decision="child-1", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p", benefit="UHS", decision="child-2", start=month(2026, 3), payment_id=2))


# --- amount_beyond_decision --------------------------------------------------------------------


def decision(key: str, *, amount: int, start: dt.date, end: dt.date, benefit: str = "BB", declared: int | None = None):  # type: ignore[no-untyped-def]
    return {
        "decision_key": key,
        "payer_id": 1,
        "payee_key": "p",
        "benefit": benefit,
        "period_start": start,
        "period_end": end,
        "amount_minor": amount,
        "currency": "SEK",
        "household_size": 1,
        "declared_income_minor": declared,
    }


@scenario("amount_beyond_decision", (2,))
def payment_above_the_decided_monthly_amount(t: TinySnapshot) -> None:
    t.add("decisions", decision("d1", amount=125_000, start=month(2026, 1), end=dt.date(2026, 12, 31)))
    t.add("payments", payment("p", amount=125_000, decision="d1", start=month(2026, 2), payment_id=1))
    t.add("payments", payment("p", amount=300_000, decision="d1", start=month(2026, 3), payment_id=2))


@scenario("amount_beyond_decision")
def payment_up_to_the_decided_amount_is_fine(t: TinySnapshot) -> None:
    t.add("decisions", decision("d1", amount=125_000, start=month(2026, 1), end=dt.date(2026, 12, 31)))
    t.add("payments", payment("p", amount=125_000, decision="d1", start=month(2026, 2), payment_id=1))
    t.add("payments", payment("p", amount=900_000, decision="unknown", start=month(2026, 2), payment_id=2))


@scenario("amount_beyond_decision")
def back_pay_for_two_months_at_the_decided_rate_is_fine(t: TinySnapshot) -> None:
    t.add("decisions", decision("d1", amount=125_000, start=month(2026, 1), end=dt.date(2026, 12, 31)))
    t.add("payments", payment("p", amount=250_000, decision="d1", start=month(2026, 2), end=dt.date(2026, 3, 31)))


@scenario("amount_beyond_decision", (3,))
def back_pay_above_the_decided_rate_for_its_months(t: TinySnapshot) -> None:
    t.add("decisions", decision("d1", amount=125_000, start=month(2026, 1), end=dt.date(2026, 12, 31)))
    t.add(
        "payments",
        payment("p", amount=250_001, decision="d1", start=month(2026, 2), end=dt.date(2026, 3, 31), payment_id=3),
    )


# --- period_beyond_decision --------------------------------------------------------------------


@scenario("period_beyond_decision", (2,))
def payment_for_a_month_after_the_decided_period(t: TinySnapshot) -> None:
    t.add("decisions", decision("d1", amount=125_000, start=month(2026, 1), end=dt.date(2026, 3, 31)))
    t.add("payments", payment("p", decision="d1", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p", decision="d1", start=month(2026, 4), payment_id=2))


@scenario("period_beyond_decision")
def payments_within_the_decided_period_are_fine(t: TinySnapshot) -> None:
    t.add("decisions", decision("d1", amount=125_000, start=month(2026, 1), end=dt.date(2026, 3, 31)))
    t.add("payments", payment("p", decision="d1", start=month(2026, 1), payment_id=1))
    t.add("payments", payment("p", decision="d1", start=month(2026, 3), payment_id=2))


# --- account_for_unrelated_payees --------------------------------------------------------------


@scenario("account_for_unrelated_payees", (11, 12, 13))
def one_account_paid_for_four_households(t: TinySnapshot) -> None:
    t.add("persons", *(person(k) for k in ("holder", "a", "b", "c")))
    t.add(
        "payments",
        payment("holder", account="mule", payment_id=10),
        payment("holder", account="mule", start=month(2026, 4), payment_id=14),
    )
    t.add("payments", *(payment(k, account="mule", payment_id=i) for k, i in (("a", 11), ("b", 12), ("c", 13))))


@scenario("account_for_unrelated_payees")
def a_family_account_and_a_samordningsnummer_count_as_one_household(t: TinySnapshot) -> None:
    t.add("persons", person("mother", household_key="h1"), person("father", household_key="h1"))
    t.add("persons", person("son", household_key="h1", previous_key="son-earlier"))
    t.add("persons", person("neighbour", household_key="h2"))
    for i, key in enumerate(("mother", "father", "son", "son-earlier", "neighbour"), start=1):
        t.add("payments", payment(key, account="family", payment_id=i))


def represented(client: str, by: str, start: dt.date, until: dt.date | None = None) -> dict[str, object]:
    return {
        "representative_key": by,
        "represented_key": client,
        "basis": "god_man",
        "valid_from": start,
        "valid_until": until,
    }


@scenario("account_for_unrelated_payees")
def a_trustee_s_client_account_is_left_alone(t: TinySnapshot) -> None:
    # a god man receives the benefits of five unrelated clients on one client account
    clients = ("c1", "c2", "c3", "c4", "c5")
    t.add("persons", person("trustee"), *(person(k) for k in clients))
    t.add("representations", *(represented(k, "trustee", dt.date(2025, 1, 1)) for k in clients))
    t.add("payments", payment("trustee", account="clients", payment_id=20))
    t.add("payments", *(payment(k, account="clients", payment_id=21 + i) for i, k in enumerate(clients)))


@scenario("account_for_unrelated_payees", (33, 34, 35))
def payments_after_a_trusteeship_ended_are_not_left_alone(t: TinySnapshot) -> None:
    # the trusteeships ended in January; the March payments still go to the former trustee's account
    clients = ("d1", "d2", "d3")
    t.add("persons", person("former"), *(person(k) for k in clients))
    t.add("representations", *(represented(k, "former", dt.date(2024, 1, 1), dt.date(2026, 1, 31)) for k in clients))
    t.add(
        "payments", payment("former", account="kept", payment_id=30), payment("former", account="kept", payment_id=31)
    )
    t.add("payments", *(payment(k, account="kept", payment_id=33 + i) for i, k in enumerate(clients)))


# --- account_changed_before_large_payment ------------------------------------------------------


def series(t: TinySnapshot, amounts: list[int], accounts: list[str]) -> None:
    for number, (amount, account) in enumerate(zip(amounts, accounts, strict=True), start=1):
        t.add(
            "payments",
            payment("p", benefit="IP", amount=amount, account=account, start=month(2026, number), payment_id=number),
        )


@scenario("account_changed_before_large_payment", (5,))
def new_account_then_six_times_the_usual_pension(t: TinySnapshot) -> None:
    series(t, [1_000_000] * 4 + [6_000_000], ["old"] * 4 + ["new"])


@scenario("account_changed_before_large_payment")
def a_large_payment_to_the_usual_account_or_a_new_account_without_history(t: TinySnapshot) -> None:
    series(t, [1_000_000] * 4 + [6_000_000], ["old"] * 5)
    t.add(
        "payments", payment("q", benefit="IP", amount=1_000_000, account="first", start=month(2026, 1), payment_id=20)
    )
    t.add(
        "payments", payment("q", benefit="IP", amount=9_000_000, account="second", start=month(2026, 2), payment_id=21)
    )


# --- declared_income_below_public_income -------------------------------------------------------


@scenario("declared_income_below_public_income", (1,))
def social_assistance_while_unemployment_benefit_goes_undeclared(t: TinySnapshot) -> None:
    t.add(
        "decisions",
        decision("ekb", benefit="EKB", amount=800_000, start=month(2026, 3), end=dt.date(2026, 3, 31), declared=0),
    )
    t.add("payments", payment("p", benefit="EKB", amount=800_000, decision="ekb", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p", benefit="AKA", payer=2, amount=1_500_000, start=month(2026, 3), payment_id=2))


@scenario("declared_income_below_public_income")
def declared_income_close_to_what_others_paid_is_fine(t: TinySnapshot) -> None:
    t.add(
        "decisions",
        decision(
            "ekb", benefit="EKB", amount=800_000, start=month(2026, 3), end=dt.date(2026, 3, 31), declared=1_400_000
        ),
    )
    t.add("payments", payment("p", benefit="EKB", amount=800_000, decision="ekb", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p", benefit="AKA", payer=2, amount=1_500_000, start=month(2026, 3), payment_id=2))
    t.add(
        "payments", payment("p", benefit="IP", payer=1, amount=9_000_000, start=month(2026, 3), payment_id=3)
    )  # same payer


# --- no_right_of_residence ---------------------------------------------------------------------


@scenario("no_right_of_residence", (2, 3))
def child_allowance_after_the_residence_permit_ran_out(t: TinySnapshot) -> None:
    t.add("persons", person("p", residence_permit_until=dt.date(2026, 3, 31)))
    for number in (3, 4, 5):
        t.add("payments", payment("p", start=month(2026, number), payment_id=number - 2))


@scenario("no_right_of_residence")
def a_valid_permit_or_a_work_based_benefit_is_fine(t: TinySnapshot) -> None:
    t.add("persons", person("p", residence_permit_until=dt.date(2027, 6, 30)))
    t.add("payments", payment("p", start=month(2026, 5), payment_id=1))
    t.add("persons", person("q", residence_permit_until=dt.date(2026, 1, 31)))
    t.add("payments", payment("q", benefit="SJP", start=month(2026, 5), payment_id=2))


# --- two_identifiers_same_benefit --------------------------------------------------------------


@scenario("two_identifiers_same_benefit", (1, 2))
def pension_paid_under_the_personnummer_and_the_old_samordningsnummer(t: TinySnapshot) -> None:
    t.add("persons", person("p", previous_key="p-earlier"))
    t.add("payments", payment("p", benefit="IP", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p-earlier", benefit="IP", start=month(2026, 3), payment_id=2))


@scenario("two_identifiers_same_benefit", (1, 2))
def pension_paid_under_a_samordningsnummer_that_linkage_joined_to_the_person(t: TinySnapshot) -> None:
    t.add("persons", person("p"))
    t.add("person_links", {"person_key": "p", "linked_key": "p-coordination", "match_probability": 0.998})
    t.add("payments", payment("p", benefit="IP", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("p-coordination", benefit="IP", start=month(2026, 3), payment_id=2))


@scenario("two_identifiers_same_benefit")
def the_old_number_used_before_the_new_one_is_fine(t: TinySnapshot) -> None:
    t.add("persons", person("p", previous_key="p-earlier"))
    t.add("payments", payment("p-earlier", benefit="IP", start=month(2026, 2), payment_id=1))
    t.add("payments", payment("p", benefit="IP", start=month(2026, 3), payment_id=2))


# --- organisation_paid_twice_under_two_identifiers ---------------------------------------------


@scenario("organisation_paid_twice_under_two_identifiers", (1, 2))
def a_school_fee_paid_again_under_the_parent_companys_foreign_number(t: TinySnapshot) -> None:
    t.add("organisation_links", {"organisation_key": "o", "linked_key": "o-abroad", "match_probability": 0.999})
    t.add("payments", payment("o", benefit="SKP", kind="organisation", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("o-abroad", benefit="SKP", kind="organisation", start=month(2026, 3), payment_id=2))


@scenario("organisation_paid_twice_under_two_identifiers")
def the_two_numbers_paid_for_different_months_or_benefits_are_fine(t: TinySnapshot) -> None:
    t.add("organisation_links", {"organisation_key": "o", "linked_key": "o-abroad", "match_probability": 0.999})
    t.add("payments", payment("o", benefit="SKP", kind="organisation", start=month(2026, 3), payment_id=1))
    t.add("payments", payment("o-abroad", benefit="SKP", kind="organisation", start=month(2026, 4), payment_id=2))
    t.add("payments", payment("o-abroad", benefit="LOV", kind="organisation", start=month(2026, 3), payment_id=3))
    # An unlinked organisation with the same fee in the same month is another organisation.
    t.add("payments", payment("elsewhere", benefit="SKP", kind="organisation", start=month(2026, 3), payment_id=4))


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_rule_on_tiny_tables(name: str, tiny: TinySnapshot, catalogue: dict[str, Rule]) -> None:
    case = SCENARIOS[name]
    case.build(tiny)
    found = run_duckdb(tiny, catalogue[case.rule])
    assert sorted(f.payment_ids for f in found) == sorted(case.flagged)
    for finding in found:
        assert finding.amount_at_risk_minor > 0
        assert finding.currency == "SEK"


def test_every_rule_has_a_flagging_and_a_look_alike_scenario(catalogue: dict[str, Rule]) -> None:
    for rule_id in catalogue:
        kinds = {bool(s.flagged) for s in SCENARIOS.values() if s.rule == rule_id}
        assert kinds == {True, False}, f"{rule_id} needs a scenario it flags and a look-alike it leaves alone"


def test_what_a_rule_publishes_it_leaves_alone_is_proved_by_a_scenario(catalogue: dict[str, Rule]) -> None:
    """Each lawful look-alike in a rule's published text names a scenario of that rule that flags
    nothing, and every look-alike scenario is published: the text and the tests cannot part."""
    for rule_id, rule in catalogue.items():
        assert rule.leaves_alone, f"{rule_id}: publish the lawful situations it leaves alone"
        for left in rule.leaves_alone:
            scenario = SCENARIOS.get(left.test)
            assert scenario is not None, f"{rule_id}: no scenario {left.test}"
            assert (scenario.rule, scenario.flagged) == (rule_id, ()), f"{rule_id}: {left.test} is no look-alike"
        published = {left.test for left in rule.leaves_alone}
        unpublished = {n for n, s in SCENARIOS.items() if s.rule == rule_id and not s.flagged} - published
        assert unpublished == set(), f"{rule_id}: publish {sorted(unpublished)} in its leaves_alone"


@pytest.mark.spark
def test_spark_finds_exactly_what_duckdb_finds(tmp_path: Path, catalogue: dict[str, Rule]) -> None:
    pytest.importorskip("pyspark")
    from saldo.analysis.service.backends.spark import SparkEngine  # noqa: PLC0415 — starts a JVM

    for name, case in sorted(SCENARIOS.items()):
        tiny = TinySnapshot(tmp_path / name)
        tiny.folder.mkdir()
        case.build(tiny)
        expected = run_duckdb(tiny, catalogue[case.rule])
        spark = SparkEngine(tiny.folder, master="local[1]", threads=1)
        assert execute_rules(spark, [catalogue[case.rule]]) == expected, name
