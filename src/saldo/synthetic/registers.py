"""The registers the analysis reads beside the payments: the population register extract (residence
permits and earlier identifiers included), the income register as employers declare it, and the
decisions behind the payments as payers hand them over (docs/formats/analysis-inputs.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from saldo.synthetic.payers import Organisations
from saldo.synthetic.payments import MONTH, PERSON
from saldo.synthetic.population import NO_DATE, BoolArray, DateArray, IntArray, Population, _personnummer

# Benefits that replace the whole month's income: earnings above the threshold beside them are a lead.
FULL_TIME_BENEFITS = ("AKA", "AST", "SJE", "AKE")
SMALL_EARNINGS_MAX = 800_000  # öre; side earnings of people on full-time benefits stay below the rule's threshold
INCOME_REPLACING = ("SJP", "SJE", "AKE", "FPG", "TFP", "IP", "AST", "AKA")
MEANS_TESTED = ("UHS", "BOB", "BTP", "GP", "STM", "EKB")


@dataclass
class Registers:
    permit_until: DateArray  # right of residence valid until; NaT when none is needed
    previous: IntArray  # an earlier samordningsnummer of the person; 0 when none
    previous_recorded: BoolArray  # whether the population register records that earlier number
    employer: IntArray  # organisation index; -1 when not employed
    salary: IntArray  # monthly salary in öre


def generate_registers(
    rng: np.random.Generator, population: Population, organisations: Organisations, *, ranks: IntArray | None = None
) -> Registers:
    """Residence permits, earlier identifiers and employment of every person. In a block of a larger
    country, the earlier identifiers are numbered after the serials the country has given (``ranks``)."""
    n = population.size
    today = np.datetime64(population.as_of, "D")
    age = population.age_on(today)
    arrived = ~np.isnat(population.immigrated)
    has_permit = arrived & (rng.random(n) < 0.5)
    permit_until = np.where(has_permit, today + rng.integers(30, 1500, n).astype("timedelta64[D]"), NO_DATE)
    # People who arrived, were first given a samordningsnummer and later a personnummer.
    earlier = np.flatnonzero(arrived & ~population.coordination & (age >= 20) & (rng.random(n) < 0.3))
    previous = np.zeros(n, dtype=np.int64)
    if earlier.size:
        numbers = _personnummer(
            population.birth[earlier], population.male[earlier], np.ones(earlier.size, dtype=bool), ranks=ranks
        )
        unique = ~np.isin(numbers, population.pnr)
        previous[earlier[unique]] = numbers[unique]
    employed = np.where(age <= 64, 0.72, 0.12) > rng.random(n)
    employed &= (age >= 20) & (age <= 70)
    employer = np.where(employed, rng.integers(0, max(organisations.orgnr.size, 1), n), -1).astype(np.int64)
    salary = (rng.lognormal(np.log(33_000), 0.35, n) * 100).astype(np.int64)
    return Registers(permit_until, previous, np.ones(n, dtype=bool), employer, salary)


def income_rows(
    rng: np.random.Generator,
    population: Population,
    registers: Registers,
    payments: pd.DataFrame,
    months: np.ndarray,
    income_months: int,
) -> pd.DataFrame:
    """Earned income per person, employer and month, for the first ``income_months`` (completed) months.

    Nobody on a full-time income-replacing benefit or student finance earns more than a little on the
    side that month; people on sickness or parental benefit earn less for the days they were off."""
    persons = payments[payments[PERSON] >= 0]
    parts = []
    for m in range(income_months):
        this_month = persons[persons[MONTH] == m]
        off = np.zeros(population.size, dtype=bool)
        off[this_month.loc[this_month["benefit"].isin((*FULL_TIME_BENEFITS, "STM")), PERSON].to_numpy()] = True
        partly = np.zeros(population.size, dtype=bool)
        partly[this_month.loc[this_month["benefit"].isin(("SJP", "FPG", "TFP")), PERSON].to_numpy()] = True
        present = population.present_on(months[m].astype("datetime64[D]"))
        working = np.flatnonzero((registers.employer >= 0) & present & ~off)
        amount = (registers.salary[working] * rng.uniform(0.95, 1.05, working.size)).astype(np.int64)
        amount = np.where(partly[working], amount // 2, amount)
        # Small side earnings beside a full-time benefit: a legitimate look-alike under the threshold.
        side = np.flatnonzero(off & present & (registers.employer >= 0) & (rng.random(population.size) < 0.1))
        side_amount = rng.integers(50_000, SMALL_EARNINGS_MAX, side.size)
        parts.append(
            pd.DataFrame(
                {
                    "person": np.concatenate([working, side]),
                    "employer": registers.employer[np.concatenate([working, side])],
                    "month": m,
                    "amount_minor": np.concatenate([amount, side_amount]),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def decision_rows(
    rng: np.random.Generator,
    population: Population,
    payments: pd.DataFrame,
    income: pd.DataFrame,
) -> pd.DataFrame:
    """One decision per payer and decision reference, covering what was paid under it.

    The decided monthly amount is the largest payment; a means-tested decision carries the income the
    payee declared: 90-100 % of their real monthly income (earnings plus other payers' income-replacing
    benefits) over the decision's months."""
    grouped = payments.groupby(["payer", "decision_reference"], sort=False)
    decisions = grouped.agg(
        key=("key", "first"),
        payee_scheme=("payee_scheme", "first"),
        payee_id=("payee_id", "first"),
        benefit=("benefit", "first"),
        first_month=(MONTH, "min"),
        last_month=(MONTH, "max"),
        period_start=("period_start", "min"),
        period_end=("period_end", "max"),
        amount_minor=("amount_minor", "max"),
        currency=("currency", "first"),
        person=(PERSON, "first"),
    ).reset_index()
    person = decisions["person"].to_numpy()
    is_person = person >= 0
    safe = np.where(is_person, person, 0)
    household_size = np.bincount(population.household, minlength=population.size)[population.household[safe]]
    decisions["household_size"] = np.where(is_person, household_size, 1)
    decisions["declared_income_minor"] = pd.array([pd.NA] * len(decisions), dtype="Int64")
    means = decisions.index[decisions["benefit"].isin(MEANS_TESTED) & is_person]
    real = monthly_income(payments, income, decisions.loc[means])
    declared = (real * rng.uniform(0.9, 1.0, real.size)).astype(np.int64)
    decisions.loc[means, "declared_income_minor"] = declared
    return decisions


def monthly_income(payments: pd.DataFrame, income: pd.DataFrame, decisions: pd.DataFrame) -> np.ndarray:
    """Average monthly income over each decision's months: earnings plus other payers' benefits."""
    months = (decisions["last_month"] - decisions["first_month"] + 1).to_numpy()
    frame = decisions[["payer", "person", "first_month", "last_month"]].reset_index(drop=True)
    frame["row"] = np.arange(len(frame))
    replacing = payments[payments["benefit"].isin(INCOME_REPLACING) & (payments[PERSON] >= 0)]
    public = frame.merge(
        replacing[[PERSON, MONTH, "payer", "amount_minor"]].rename(columns={PERSON: "person", "payer": "by"}),
        on="person",
    )
    public = public[
        (public[MONTH] >= public["first_month"])
        & (public[MONTH] <= public["last_month"])
        & (public["by"] != public["payer"])
    ]
    earned = frame.merge(income[["person", "month", "amount_minor"]], on="person")
    earned = earned[(earned["month"] >= earned["first_month"]) & (earned["month"] <= earned["last_month"])]
    total = np.zeros(len(frame), dtype=np.int64)
    for part in (public, earned):
        sums = part.groupby("row")["amount_minor"].sum()
        total[sums.index.to_numpy()] += sums.to_numpy().astype(np.int64)
    result: np.ndarray = total // np.maximum(months, 1)
    return result


def other_public_income(payments: pd.DataFrame, decisions: pd.DataFrame) -> np.ndarray:
    """Average monthly income-replacing benefits from payers other than the decision's, over its months."""
    nothing_earned = pd.DataFrame({"person": [], "month": [], "amount_minor": []}, dtype="int64")
    return monthly_income(payments, nothing_earned, decisions)
