"""Known incorrect payments planted in the synthetic country, one kind per analysis rule, with a
ground truth of which payments each planted case is (docs/formats/synthetic-country.md).

The rest of the country is built so that no rule fires on it: the generator respects the benefit
exclusions, pays nobody after death or emigration, and decisions cover what is paid. What stays are
legitimate look-alikes a careless rule would flag: couples sharing an account, a guardian receiving
for a child, a person dying within the month paid for, small earnings beside unemployment benefit,
declared incomes a little below the real ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from saldo.synthetic.accounts import ibans
from saldo.synthetic.payments import MONTH, PERSON, REMITTANCE_SV
from saldo.synthetic.population import Population
from saldo.synthetic.registers import Registers, other_public_income

# The rule each kind of anomaly is planted for (src/saldo/analysis/rules/catalogue.toml).
BEFORE_DECISIONS = (
    "payment_after_death",
    "benefit_after_emigration",
    "earnings_beside_full_time_benefit",
    "mutually_exclusive_benefits",
    "duplicate_payment",
    "account_for_unrelated_payees",
    "account_changed_before_large_payment",
    "no_right_of_residence",
    "two_identifiers_same_benefit",
    "organisation_paid_twice_under_two_identifiers",
)
AFTER_DECISIONS = ("amount_beyond_decision", "period_beyond_decision", "declared_income_below_public_income")
# Told by an institution abroad (received SEDs): what the population register does not know.
CROSS_BORDER = ("payment_after_death_abroad", "benefit_also_paid_abroad", "residence_benefit_while_resident_abroad")
RULES = BEFORE_DECISIONS + AFTER_DECISIONS + CROSS_BORDER
FOREIGN_INSTITUTION = "FI:KELA01"  # the synthetic partner that tells of deaths, benefits and residences in Finland
UNEMPLOYMENT = ("AKA", "AST")  # the benefits here of the EESSI benefit type "unemployment"
DEFAULT_RATE = 0.001  # planted cases per rule and person: 1,000 of each in a country of a million
EARNINGS_PLANTED = (1_500_000, 4_000_000)  # öre a month: well above the rule's SEK 12,000 threshold
PLAIN_BENEFITS = ("BB", "IP", "GP", "UHS", "EKB")  # in no exclusion, so a planted payment trips one rule only


@dataclass
class Planted:
    payments: pd.DataFrame
    truth: pd.DataFrame  # case, rule, payer, reference
    counts: dict[str, int]


@dataclass
class Planter:
    rng: np.random.Generator
    population: Population
    registers: Registers
    months: np.ndarray  # datetime64[M]
    income_months: int
    residence_conditioned: frozenset[str]
    rate: float
    payments: pd.DataFrame
    own_account: np.ndarray  # each person's own IBAN
    truth: list[pd.DataFrame] = field(default_factory=list)
    facts: list[pd.DataFrame] = field(default_factory=list)  # what institutions abroad tell (cross_border.csv)
    extra_income: list[pd.DataFrame] = field(default_factory=list)
    added: list[pd.DataFrame] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # Payments now to an account the payee does not hold, per payer file and the account check's kind.
    diverted: dict[tuple[str, str], int] = field(default_factory=dict)
    used: np.ndarray = field(init=False)
    # In a block of a larger country: the country-wide number of the block's first person, and the
    # planted payments and cases the blocks before it numbered.
    first_person: int = 0
    sequence: int = 0
    cases: int = 0

    def __post_init__(self) -> None:
        self.used = np.zeros(self.population.size, dtype=bool)

    # --- planting ------------------------------------------------------------------------------

    def plant(self, rules: tuple[str, ...]) -> None:
        planters: dict[str, Callable[[int], int]] = {
            "payment_after_death": self._after_death,
            "benefit_after_emigration": self._after_emigration,
            "earnings_beside_full_time_benefit": self._earnings,
            "mutually_exclusive_benefits": self._exclusive,
            "duplicate_payment": self._duplicate,
            "account_for_unrelated_payees": self._shared_account,
            "account_changed_before_large_payment": self._account_change,
            "no_right_of_residence": self._no_residence,
            "two_identifiers_same_benefit": self._two_identifiers,
            "organisation_paid_twice_under_two_identifiers": self._organisation_twice,
            "amount_beyond_decision": self._beyond_amount,
            "period_beyond_decision": self._beyond_period,
            "payment_after_death_abroad": self._death_abroad,
            "benefit_also_paid_abroad": self._benefit_abroad,
            "residence_benefit_while_resident_abroad": self._residence_abroad,
        }
        for rule in rules:
            self.counts[rule] = planters[rule](self.wanted)
        self.flush()

    @property
    def wanted(self) -> int:
        """Cases of each kind to plant: the rate times the population, at least one unless the rate is 0."""
        return max(1, round(self.rate * self.population.size)) if self.rate > 0 else 0

    def _after_death(self, wanted: int) -> int:
        return self._after_leaving(wanted, self.population.death, "payment_after_death", frozenset(PLAIN_BENEFITS))

    def _after_emigration(self, wanted: int) -> int:
        return self._after_leaving(
            wanted, self.population.emigrated, "benefit_after_emigration", self.residence_conditioned
        )

    def _after_leaving(self, wanted: int, left: np.ndarray, rule: str, benefits: frozenset[str]) -> int:
        """A payment for the month after the person died or emigrated, as the month before."""
        rows = self._person_rows()
        rows = rows[rows["benefit"].isin(benefits)]
        left_month = self._month_of(left[rows[PERSON].to_numpy()])
        rows = rows[(left_month >= 0) & (rows[MONTH].to_numpy() == left_month) & (left_month + 1 < self.months.size)]
        chosen = self._one_per_person(rows, wanted)
        self._append(rule, self._moved(chosen, chosen[MONTH].to_numpy() + 1))
        return len(chosen)

    # --- told from abroad: the payments stay as they are; what changes is what the node learns -----

    def _staying_rows(self, benefits: tuple[str, ...] | frozenset[str]) -> pd.DataFrame:
        """Payments of ``benefits`` to people with a personnummer whom the population register knows
        neither dead nor emigrated (and who did not arrive during the year), in a month before the last."""
        rows = self._person_rows()
        rows = rows[rows["benefit"].isin(benefits) & (rows[MONTH].to_numpy() + 1 < self.months.size)]
        person = rows[PERSON].to_numpy().astype(np.int64)
        population = self.population
        stays = np.isnat(population.death[person]) & np.isnat(population.emigrated[person])
        stays &= np.isnat(population.immigrated[person]) & ~population.coordination[person]
        return rows[stays]

    def _day_in(self, month: np.ndarray) -> np.ndarray:
        """A day in each month (the 1st to the 28th)."""
        days: np.ndarray = self.months[month.astype(np.int64)].astype("datetime64[D]") + self.rng.integers(
            0, 28, month.size
        ).astype("timedelta64[D]")
        return days

    def _told(
        self, rule: str, chosen: pd.DataFrame, fact: pd.DataFrame, paid: Callable[[pd.DataFrame], np.ndarray]
    ) -> int:
        """Record the facts, and as planted every payment to the chosen people that ``paid`` selects
        (given their payments merged with their fact); one case per person."""
        self.facts.append(fact)
        rows = self.payments.reset_index(names="row").merge(fact, left_on=PERSON, right_on="person")
        rows = rows[paid(rows)]
        case = pd.factorize(rows[PERSON])[0]
        self._mark(rule, rows.set_index("row"), np.asarray(case, dtype=np.int64))
        return int(rows[PERSON].nunique())

    def _death_abroad(self, wanted: int) -> int:
        """A death in Finland the register has not heard of, in a month the person was paid: every
        payment for a period after the death is planted."""
        chosen = self._one_per_person(self._staying_rows(PLAIN_BENEFITS), wanted)
        died = self._day_in(chosen[MONTH].to_numpy())
        fact = self._fact(chosen, "death", died)
        return self._told(
            "payment_after_death_abroad", chosen, fact, lambda r: _dates(r["period_start"]) > _dates(r["start_date"])
        )

    def _benefit_abroad(self, wanted: int) -> int:
        """Finnish unemployment benefit for a month the person is paid unemployment benefit here too."""
        chosen = self._one_per_person(self._staying_rows(UNEMPLOYMENT), wanted)
        month = chosen[MONTH].to_numpy().astype(np.int64)
        start = self.months[month].astype("datetime64[D]")
        end = (self.months[month] + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
        fact = self._fact(chosen, "benefit_abroad", start, end=end, benefit_type="unemployment")

        def overlapping(rows: pd.DataFrame) -> np.ndarray:
            starts, ends = _dates(rows["period_start"]), _dates(rows["period_end"])
            within = (starts <= _dates(rows["end_date"])) & (ends >= _dates(rows["start_date"]))
            result: np.ndarray = rows["benefit"].isin(UNEMPLOYMENT).to_numpy() & within
            return result

        return self._told("benefit_also_paid_abroad", chosen, fact, overlapping)

    def _residence_abroad(self, wanted: int) -> int:
        """Finland determines that the person lives there since a day in a month they were paid a
        residence-based benefit: every such payment for a later period is planted."""
        chosen = self._one_per_person(self._staying_rows(self.residence_conditioned), wanted)
        since = self._day_in(chosen[MONTH].to_numpy())
        fact = self._fact(chosen, "residence_abroad", since)

        def later(rows: pd.DataFrame) -> np.ndarray:
            after: np.ndarray = rows["benefit"].isin(self.residence_conditioned).to_numpy() & (
                _dates(rows["period_start"]) > _dates(rows["start_date"])
            )
            return after

        return self._told("residence_benefit_while_resident_abroad", chosen, fact, later)

    def _fact(
        self,
        chosen: pd.DataFrame,
        kind: str,
        start: np.ndarray,
        *,
        end: np.ndarray | None = None,
        benefit_type: str = "",
    ) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "person": chosen[PERSON].to_numpy().astype(np.int64),
                "kind": kind,
                "start_date": start,
                "end_date": end if end is not None else np.full(len(chosen), np.datetime64("NaT"), "datetime64[D]"),
                "benefit_type": benefit_type,
                "institution": FOREIGN_INSTITUTION,
            }
        )

    def facts_frame(self) -> pd.DataFrame:
        """Every fact institutions abroad tell, one row each (person index, kind, dates, benefit type)."""
        columns = ("person", "kind", "start_date", "end_date", "benefit_type", "institution")
        return pd.concat(self.facts, ignore_index=True) if self.facts else pd.DataFrame({c: [] for c in columns})

    def _earnings(self, wanted: int) -> int:
        """Earnings well above the threshold in a month paid unemployment benefit."""
        rows = self._person_rows()
        rows = rows[(rows["benefit"] == "AKA") & (rows[MONTH] < self.income_months)]
        rows = rows[self.registers.employer[rows[PERSON].to_numpy()] >= 0]
        chosen = self._one_per_person(rows, wanted)
        person = chosen[PERSON].to_numpy().astype(np.int64)
        amount = self.rng.integers(*EARNINGS_PLANTED, len(chosen))
        self.extra_income.append(
            pd.DataFrame(
                {
                    "person": person,
                    "employer": self.registers.employer[person],
                    "month": chosen[MONTH].to_numpy().astype(np.int64),
                    "amount_minor": amount,
                }
            )
        )
        self._mark("earnings_beside_full_time_benefit", chosen, np.arange(len(chosen)))
        return len(chosen)

    def _exclusive(self, wanted: int) -> int:
        """Unemployment benefit from the fund for a month the person was paid student finance."""
        funds = self.payments[self.payments["benefit"] == "AKA"]
        if funds.empty:
            return 0  # a country too small to have an unemployment fund's payments
        fund = funds.iloc[0]
        rows = self._person_rows()
        chosen = self._one_per_person(rows[rows["benefit"] == "STM"], wanted).copy()
        chosen["payer"], chosen["key"], chosen["benefit"] = fund["payer"], fund["key"], "AKA"
        chosen["decision_reference"] = [f"AK-AKA-{int(p) + self.first_person:08d}" for p in chosen[PERSON]]
        chosen["amount_minor"] = 22 * (self.rng.lognormal(np.log(1_000), 0.25, len(chosen)) * 100).astype(np.int64)
        self._append("mutually_exclusive_benefits", self._moved(chosen, chosen[MONTH].to_numpy()))
        return len(chosen)

    def _duplicate(self, wanted: int) -> int:
        """The same payment sent twice under two references."""
        rows = self._person_rows()
        chosen = self._one_per_person(rows[rows["benefit"].isin(PLAIN_BENEFITS)], wanted)
        self._append("duplicate_payment", self._moved(chosen, chosen[MONTH].to_numpy()))
        return len(chosen)

    def _shared_account(self, wanted: int) -> int:
        """One payment each of four unrelated people diverted to a fifth person's account."""
        rows = self._person_rows()
        rows = rows[rows["account_scheme"] == "iban"]
        picks = rows.sample(frac=1.0, random_state=self._seed()).drop_duplicates(PERSON)
        picks = picks.assign(household=self.population.household[picks[PERSON].to_numpy()])
        picks = picks.drop_duplicates("household")
        cases = min(wanted, len(picks) // 5)
        picks = picks.head(cases * 5)
        self.used[picks[PERSON].to_numpy().astype(np.int64)] = True
        mule = np.repeat(picks["account"].to_numpy()[0::5], 4)
        victims = picks.iloc[[i for i in range(len(picks)) if i % 5]]
        self.payments.loc[victims.index, "account"] = mule
        self._divert(victims, "someone_elses")
        self._mark("account_for_unrelated_payees", victims, np.arange(len(victims)) // 4)
        return cases

    def _account_change(self, wanted: int) -> int:
        """A new account a little before a payment five to eight times the usual one."""
        rows = self._person_rows()
        rows = rows[rows["benefit"].isin(PLAIN_BENEFITS) & (rows["account_scheme"] == "iban")]
        keys = [PERSON, "payer", "benefit"]
        rows = rows[rows.groupby(keys)[MONTH].transform("size") >= 5]
        rank = rows.groupby(keys)[MONTH].rank(method="first")
        chosen = self._one_per_person(rows[rank == 5], wanted)
        bank = np.array([int(str(a)[4:7]) for a in chosen["account"]], dtype=np.int64)
        number = self.rng.integers(10**9, 10**11, len(chosen)).astype(np.int64)
        new_account = chosen.assign(new_account=ibans(bank, number).to_pylist(), cut=chosen[MONTH])
        later = (
            self.payments.reset_index(names="row")
            .merge(new_account[[PERSON, "payer", "new_account", "cut"]], on=[PERSON, "payer"])
            .query(f"{MONTH} >= cut")
        )
        later = later[later["account"].to_numpy() == self.own_account[later[PERSON].to_numpy().astype(np.int64)]]
        self._divert(later, "unknown")
        self.payments.loc[later["row"].to_numpy(), "account"] = later["new_account"].to_numpy()
        # Five to eight times the largest earlier payment of the series: well above four times the usual.
        earlier = rows[rank < 5].groupby(keys)["amount_minor"].max()
        largest = earlier.reindex(pd.MultiIndex.from_frame(chosen[keys])).to_numpy().astype(np.int64)
        self.payments.loc[chosen.index, "amount_minor"] = largest * self.rng.integers(5, 9, len(chosen))
        self._mark("account_changed_before_large_payment", chosen, np.arange(len(chosen)))
        return len(chosen)

    def _no_residence(self, wanted: int) -> int:
        """A residence permit that ran out while residence-based benefits went on being paid."""
        rows = self._person_rows()
        rows = rows[rows["benefit"].isin(self.residence_conditioned)]
        rows = rows[~np.isnat(self.registers.permit_until[rows[PERSON].to_numpy()])]
        months = rows.groupby(PERSON)[MONTH].agg(["min", "max"])
        months = months[months["max"] - months["min"] >= 2]
        chosen = months.sample(n=min(wanted, len(months)), random_state=self._seed())
        person = chosen.index.to_numpy().astype(np.int64)
        cut = chosen["max"].to_numpy().astype(np.int64)
        self.registers.permit_until[person] = self.months[cut].astype("datetime64[D]") - np.timedelta64(1, "D")
        self.used[person] = True
        cases = pd.Series(np.arange(person.size), index=person)
        hit = rows[rows[MONTH].to_numpy() >= chosen["max"].reindex(rows[PERSON]).fillna(10**6).to_numpy()]
        self._mark("no_right_of_residence", hit, cases.loc[hit[PERSON].to_numpy()].to_numpy())
        return int(person.size)

    def _two_identifiers(self, wanted: int) -> int:
        """The same benefit for the same month paid again under the person's earlier samordningsnummer."""
        rows = self._person_rows()
        rows = rows[rows["benefit"].isin(PLAIN_BENEFITS)]
        rows = rows[self.registers.previous[rows[PERSON].to_numpy()] > 0]
        chosen = self._one_per_person(rows, wanted).copy()
        # Every other case the register does not record the earlier number: only identity linkage
        # (the same name, birth date and account) can join the two.
        person = chosen[PERSON].to_numpy().astype(np.int64)
        self.registers.previous_recorded[person[1::2]] = False
        chosen["payee_scheme"] = "se_samordningsnummer"
        chosen["payee_id"] = [str(n) for n in self.registers.previous[person]]
        # Of those, every other one is paid under the Finnish identity number the person came with.
        foreign = np.arange(len(chosen)) % 4 == 3
        chosen.loc[chosen.index[foreign], "payee_scheme"] = "fi_hetu"
        chosen.loc[chosen.index[foreign], "payee_id"] = [
            finnish_identity_number(self.population.birth[p].item(), int(p) + self.first_person)
            for p in person[foreign]
        ]
        self._divert(chosen, "someone_elses")
        self._append("two_identifiers_same_benefit", self._moved(chosen, chosen[MONTH].to_numpy()))
        return len(chosen)

    def _organisation_twice(self, wanted: int) -> int:
        """A school or care provider paid a month's fee again under the Norwegian organisation number
        of its parent company, by the same municipality, to the same Bankgiro: one case per provider."""
        rows = self.payments[
            (self.payments[PERSON] < 0)
            & (self.payments["payee_scheme"] == "se_organisationsnummer")
            & self.payments["benefit"].isin(("SKP", "LOV", "VVE"))
        ]
        chosen = rows.sample(frac=1.0, random_state=self._seed()).drop_duplicates("payee_id").head(wanted).copy()
        swedish = chosen["payee_id"].astype(str).to_numpy()
        chosen["payee_scheme"] = "no_orgnr"
        chosen["payee_id"] = [norwegian_organisation_number(int(n)) for n in swedish]
        # The parent's name as a Norwegian company: the same words, "AS" for "AB".
        chosen["payee_name"] = [str(name).removesuffix(" AB") + " AS" for name in chosen["payee_name"]]
        self._divert(chosen, "someone_elses")  # the Bankgiro is held by the Swedish organisation number
        self._append("organisation_paid_twice_under_two_identifiers", self._moved(chosen, chosen[MONTH].to_numpy()))
        return len(chosen)

    def _beyond_amount(self, wanted: int) -> int:
        """A payment one and a half to three times the decided amount."""
        rows = self._person_rows()
        chosen = self._one_per_person(rows[rows["benefit"].isin(PLAIN_BENEFITS)], wanted)
        # Above the largest payment of the decision, which is what the decision grants a month.
        decided = self.payments.groupby(["payer", "decision_reference"])["amount_minor"].max()
        granted = decided.reindex(pd.MultiIndex.from_frame(chosen[["payer", "decision_reference"]])).to_numpy()
        factor = self.rng.uniform(1.5, 3.0, len(chosen))
        self.payments.loc[chosen.index, "amount_minor"] = (granted.astype(np.float64) * factor).astype(np.int64)
        self._mark("amount_beyond_decision", chosen, np.arange(len(chosen)))
        return len(chosen)

    def _beyond_period(self, wanted: int) -> int:
        """A payment for the month after the decision's period ended."""
        rows = self._person_rows()
        rows = rows[rows["benefit"].isin(PLAIN_BENEFITS) & (rows["benefit"] != "EKB")]
        # The decision's last month over all its payments, those to a wrong account included.
        ends = self.payments.groupby(["payer", "decision_reference"])[MONTH].max()
        last = ends.reindex(pd.MultiIndex.from_frame(rows[["payer", "decision_reference"]])).to_numpy()
        rows = rows[(rows[MONTH].to_numpy() == last) & (rows[MONTH] + 1 < self.months.size)]
        following = self.months[rows[MONTH].to_numpy().astype(np.int64) + 1].astype("datetime64[D]")
        person = rows[PERSON].to_numpy().astype(np.int64)
        alive = np.isnat(self.population.death[person]) | (self.population.death[person] > following + 40)
        here = np.isnat(self.population.emigrated[person]) | (self.population.emigrated[person] > following + 40)
        chosen = self._one_per_person(rows[alive & here], wanted)
        self._append("period_beyond_decision", self._moved(chosen, chosen[MONTH].to_numpy() + 1))
        return len(chosen)

    def declared_income_below(self, decisions: pd.DataFrame, wanted: int) -> int:
        """A monthly social-assistance decision whose declared income leaves out other payers' benefits."""
        ekb = decisions[(decisions["benefit"] == "EKB") & (decisions["person"] >= 0)]
        ekb = ekb[~self.used[ekb["person"].to_numpy()]]
        public = pd.Series(other_public_income(self.payments, ekb), index=ekb.index)
        candidates = ekb[public >= 600_000].drop_duplicates("person")
        chosen = candidates.sample(n=min(wanted, len(candidates)), random_state=self._seed())
        hidden = public.loc[chosen.index].to_numpy() * self.rng.uniform(0.0, 0.1, len(chosen))
        decisions.loc[chosen.index, "declared_income_minor"] = hidden.astype(np.int64)
        self.used[chosen["person"].to_numpy().astype(np.int64)] = True
        paid = (
            self.payments.reset_index(names="row")
            .merge(chosen[["payer", "decision_reference"]].assign(case=np.arange(len(chosen))))
            .set_index("row")
        )
        self._mark("declared_income_below_public_income", paid, paid["case"].to_numpy())
        self.counts["declared_income_below_public_income"] = len(chosen)
        return len(chosen)

    # --- helpers -------------------------------------------------------------------------------

    def _person_rows(self) -> pd.DataFrame:
        """Payments to people not yet in a planted case, to the person's own account."""
        rows = self.payments[self.payments[PERSON] >= 0]
        person = rows[PERSON].to_numpy().astype(np.int64)
        own: pd.DataFrame = rows[~self.used[person] & (rows["account"].to_numpy() == self.own_account[person])]
        return own

    def _divert(self, rows: pd.DataFrame, kind: str) -> None:
        for payer, count in rows.groupby("payer").size().items():
            self.diverted[str(payer), kind] = self.diverted.get((str(payer), kind), 0) + int(count)

    def _one_per_person(self, rows: pd.DataFrame, wanted: int) -> pd.DataFrame:
        chosen = rows.sample(frac=1.0, random_state=self._seed()).drop_duplicates(PERSON).head(wanted)
        self.used[chosen[PERSON].to_numpy().astype(np.int64)] = True
        return chosen

    def _month_of(self, days: np.ndarray) -> np.ndarray:
        """Index into ``months`` of each date; -1 for none or outside the year."""
        index = (days.astype("datetime64[M]") - self.months[0]).astype(np.int64)
        index[np.isnat(days) | (index < 0) | (index >= self.months.size)] = -1
        result: np.ndarray = index
        return result

    def _moved(self, rows: pd.DataFrame, month: np.ndarray) -> pd.DataFrame:
        """Copies of ``rows`` for the given month indexes: period, due date and remittance text."""
        rows = rows.copy()
        month = month.astype(np.int64)
        start = self.months[month].astype("datetime64[D]")
        end = (self.months[month] + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
        offset = [(due - old).days for due, old in zip(rows["due_date"], rows["period_start"], strict=True)]
        rows["period_start"] = start.tolist()
        rows["period_end"] = end.tolist()
        rows["due_date"] = [s + dt.timedelta(days=d) for s, d in zip(start.tolist(), offset, strict=True)]
        rows[MONTH] = month
        rows["remittance_info"] = [
            f"{REMITTANCE_SV[b]} {self.months[m]}" for b, m in zip(rows["benefit"], month, strict=True)
        ]
        return rows

    def _append(self, rule: str, rows: pd.DataFrame) -> None:
        """New payments, each one planted case; given references no payer file uses."""
        first = self.sequence + 1
        self.sequence += len(rows)
        rows = rows.assign(
            reference=[
                f"{key}-{benefit}-{str(self.months[m]).replace('-', '')}-X{n:08d}"
                for key, benefit, m, n in zip(
                    rows["key"], rows["benefit"], rows[MONTH], range(first, self.sequence + 1), strict=True
                )
            ]
        )
        self.added.append(rows)
        self._mark(rule, rows, np.arange(len(rows)))

    def _mark(self, rule: str, rows: pd.DataFrame, case: np.ndarray) -> None:
        """Record ``rows`` as planted for ``rule``; rows with the same ``case`` number are one case."""
        base = self.cases
        self.cases += int(case.max()) + 1 if case.size else 0
        self.truth.append(
            pd.DataFrame(
                {
                    "case": base + case + 1,
                    "rule": rule,
                    "payer": rows["payer"].to_numpy(),
                    "reference": rows["reference"],
                }
            )
        )

    def flush(self) -> None:
        """Add the new payments to the table, so that later steps see them."""
        if self.added:
            columns = self.payments.dtypes.to_dict()
            self.payments = pd.concat(
                [self.payments, *(a[list(columns)].astype(columns) for a in self.added)], ignore_index=True
            )
            self.added = []

    def extra_income_frame(self) -> pd.DataFrame:
        """The earnings planted beside full-time benefits, as income register rows."""
        if not self.extra_income:
            return pd.DataFrame({c: [] for c in ("person", "employer", "month", "amount_minor")}, dtype="int64")
        return pd.concat(self.extra_income, ignore_index=True)

    def _seed(self) -> int:
        return int(self.rng.integers(0, 2**31))

    def result(self) -> Planted:
        self.flush()
        truth = pd.concat(self.truth, ignore_index=True) if self.truth else pd.DataFrame()
        return Planted(self.payments, truth, self.counts)


def _dates(values: pd.Series) -> np.ndarray:
    result: np.ndarray = pd.to_datetime(values).to_numpy().astype("datetime64[D]")
    return result


_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def finnish_identity_number(born: dt.date, serial: int) -> str:
    """A valid Finnish henkilötunnus for a birth date: DDMMYY, the century sign, an individual number
    (002-899) from ``serial``, and the check character (the nine digits modulo 31)."""
    sign = {18: "+", 19: "-", 20: "A"}[born.year // 100]
    individual = 2 + serial % 898
    digits = f"{born:%d%m%y}{individual:03d}"
    return f"{born:%d%m%y}{sign}{individual:03d}{_HETU_CHECK[int(digits) % 31]}"


def norwegian_organisation_number(seed: int) -> str:
    """A valid Norwegian organisation number (nine digits, modulus 11 check digit), derived from
    ``seed``: the first eight digits that give a valid check digit."""
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    base = 90_000_000 + seed % 9_000_000
    while True:
        digits = f"{base:08d}"
        check = (11 - sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11) % 11
        if check < 10:  # a remainder of 1 gives no valid number: take the next base
            return f"{digits}{check}"
        base += 1
