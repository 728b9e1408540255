"""A year of payments from every payer of the synthetic country, as Arrow tables in the payment
file format (docs/formats/payment-file.md). Vectorised: one call per benefit and month."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from saldo.synthetic.accounts import WRONG_KINDS, Register, ibans, plant_wrong_accounts
from saldo.synthetic.names import FEMALE_NAMES, MALE_NAMES, SURNAMES
from saldo.synthetic.payers import Organisations, PayerSpec
from saldo.synthetic.population import MUNICIPALITIES, BoolArray, IntArray, Population

REMITTANCE_SV = {
    "BB": "Barnbidrag",
    "SJP": "Sjukpenning",
    "FPG": "Föräldrapenning",
    "TFP": "Tillfällig föräldrapenning",
    "BOB": "Bostadsbidrag",
    "UHS": "Underhållsstöd",
    "AST": "Aktivitetsstöd",
    "SJE": "Sjukersättning",
    "AKE": "Aktivitetsersättning",
    "ETB": "Etableringsersättning",
    "IP": "Inkomstpension",
    "GP": "Garantipension",
    "BTP": "Bostadstillägg",
    "STM": "Studiemedel",
    "AKA": "Arbetslöshetsersättning",
    "EKB": "Ekonomiskt bistånd",
    "FOB": "Föreningsbidrag",
    "SKP": "Grundbelopp",
    "LOV": "Ersättning LOV",
    "SJR": "Sjukresor",
    "VVE": "Ersättning vårdval",
    "RKB": "Kulturbidrag",
}
MONTHLY_DECISIONS = frozenset({"EKB"})
PERSON, MONTH = "_person", "_month"  # generator-only columns, dropped before a file is written
ORGANISATION_BENEFITS = frozenset({"FOB", "SKP", "LOV", "VVE", "RKB"})


@dataclass
class Rows:
    """Payment rows of one payer under construction: who, which month, how much."""

    benefit: list[str] = field(default_factory=list)
    recipient: list[IntArray] = field(default_factory=list)  # person or organisation index
    month: list[IntArray] = field(default_factory=list)
    amount: list[IntArray] = field(default_factory=list)  # öre
    due_day: list[IntArray] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

    def add(self, benefit: str, recipient: IntArray, month: int, amount: IntArray, due_day: int | IntArray) -> None:
        n = recipient.size
        if n == 0:
            return
        self.benefit.append(benefit)
        self.counts.append(n)
        self.recipient.append(recipient.astype(np.int64))
        self.month.append(np.full(n, month, dtype=np.int64))
        self.amount.append(np.maximum(amount.astype(np.int64), 100))
        self.due_day.append(np.broadcast_to(np.asarray(due_day, dtype=np.int64), (n,)).copy())


class PersonColumns:
    """Text columns of every person, built once and then taken per payment row."""

    def __init__(self, population: Population) -> None:
        male = pa.array(MALE_NAMES).take(pa.array(population.given % len(MALE_NAMES)))
        female = pa.array(FEMALE_NAMES).take(pa.array(population.given % len(FEMALE_NAMES)))
        given = pc.if_else(pa.array(population.male), male, female)
        surname = pa.array(SURNAMES).take(pa.array(population.surname))
        self.name = pc.binary_join_element_wise(given, surname, " ")
        self.identifier = pc.cast(pa.array(population.pnr), pa.string())
        self.scheme = pc.if_else(pa.array(population.coordination), "se_samordningsnummer", "se_personnummer")
        self.account = ibans(population.account_bank, population.account_number)


class PaymentGenerator:
    def __init__(
        self,
        rng: np.random.Generator,
        population: Population,
        organisations: Organisations,
        months: np.ndarray,
        register: Register | None = None,
        mistakes: np.random.Generator | None = None,
        *,
        first_person: int = 0,
        first_organisation: int = 0,
    ) -> None:
        self.rng = rng
        self.pop = population
        self.orgs = organisations
        self.months = months  # datetime64[M], oldest first
        self.persons = PersonColumns(population)
        self.register = register
        # In a block of a larger country: the country-wide number of the block's first person and
        # organisation, which the decision references carry.
        self.first_person = first_person
        self.first_organisation = first_organisation
        # A stream of its own, so planting wrong accounts leaves every other generated value as it was.
        self.mistakes = mistakes or np.random.default_rng(0)
        self.wrong_accounts = dict.fromkeys(WRONG_KINDS, 0)
        # Who received which benefit in which month, so that later payers respect the catalogue's
        # exclusions (unemployment benefit is not paid to someone on sickness benefit, and so on).
        self.receiving: dict[tuple[str, int], IntArray] = {}

    # --- eligibility helpers -------------------------------------------------------------------

    def _present(self, month: int) -> BoolArray:
        start = self.months[month].astype("datetime64[D]")
        return self.pop.present_on(start)

    def _age(self, month: int) -> IntArray:
        return self.pop.age_on(self.months[month].astype("datetime64[D]"))

    def _sample(self, mask: BoolArray, rate: float) -> IntArray:
        return np.flatnonzero(mask & (self.rng.random(mask.size) < rate))

    def _lognormal(self, size: int, median: float, sigma: float) -> IntArray:
        return (self.rng.lognormal(np.log(median), sigma, size) * 100).astype(np.int64)

    def _account_holders(self, persons: IntArray, month: int) -> IntArray:
        """Who is paid for ``persons``: a child's guardian receives for the child (no own account)."""
        payee = np.where(self.pop.account_bank[persons] > 0, persons, self.pop.guardian[persons])
        payee = payee[payee >= 0]
        return payee[(self.pop.account_bank[payee] > 0) & self._present(month)[payee]]

    def _pay(
        self, rows: Rows, benefit: str, recipient: IntArray, month: int, amount: IntArray, due_day: int | IntArray
    ) -> None:
        rows.add(benefit, recipient, month, amount, due_day)
        if benefit not in ORGANISATION_BENEFITS:
            self.receiving[benefit, month] = np.union1d(self.receiving.get((benefit, month), recipient), recipient)

    def _receiving(self, month: int, *benefits: str) -> BoolArray:
        mask = np.zeros(self.pop.size, dtype=bool)
        for benefit in benefits:
            mask[self.receiving.get((benefit, month), np.empty(0, dtype=np.int64))] = True
        return mask

    # --- payers --------------------------------------------------------------------------------

    def rows_for(self, spec: PayerSpec) -> Rows:
        """Every payment row of one payer over the whole year."""
        rows = Rows()
        generators: dict[str, Callable[[Rows, int], None]] = {
            "FK": self._forsakringskassan,
            "PM": self._pensions,
            "CSN": self._csn,
            "AK": self._unemployment,
        }
        for month in range(self.months.size):
            if spec.key in generators:
                generators[spec.key](rows, month)
            elif spec.municipality is not None:
                self._municipality(rows, month, spec)
            elif spec.region is not None:
                self._region(rows, month, spec)
        return rows

    def _forsakringskassan(self, rows: Rows, m: int) -> None:
        present, age = self._present(m), self._age(m)
        children = np.flatnonzero(present & (age < 16) & (self.pop.guardian >= 0))
        # One child allowance per guardian and month, for all their children together.
        guardians, per_guardian = np.unique(self.pop.guardian[children], return_counts=True)
        ok = present[guardians]
        self._pay(rows, "BB", guardians[ok], m, 125_000 * per_guardian[ok], 20)
        infants = np.flatnonzero(present & (age < 2) & (self.pop.guardian >= 0))
        parents = np.unique(self.pop.guardian[infants])
        parents = parents[present[parents]]
        self._pay(
            rows,
            "FPG",
            parents,
            m,
            self.rng.integers(10, 31, parents.size) * self._lognormal(parents.size, 900, 0.25),
            25,
        )
        disabled = present & (age >= 30) & (age <= 64) & ((self.pop.pnr // 10) % 97 == 1)
        young_disabled = present & (age >= 19) & (age <= 29) & ((self.pop.pnr // 10) % 131 == 2)
        working = present & (age >= 20) & (age <= 64)
        # The catalogue's exclusions hold in the generated data: nobody on parental benefit or
        # sickness compensation also gets sickness benefit for the same month.
        sick = self._sample(working & ~disabled & ~young_disabled & ~self._receiving(m, "FPG"), 0.03)
        self._pay(
            rows,
            "SJP",
            sick,
            m,
            self.rng.integers(1, 31, sick.size) * np.minimum(self._lognormal(sick.size, 800, 0.3), 121_800),
            25,
        )
        young = np.flatnonzero(present & (age >= 1) & (age <= 11) & (self.pop.guardian >= 0))
        vab = np.unique(self.pop.guardian[young[self.rng.random(young.size) < 0.04]])
        vab = vab[present[vab]]
        self._pay(rows, "TFP", vab, m, self.rng.integers(1, 6, vab.size) * self._lognormal(vab.size, 900, 0.25), 25)
        family_heads = guardians[ok]
        housing = family_heads[self.rng.random(family_heads.size) < 0.05]
        self._pay(rows, "BOB", housing, m, self.rng.integers(1_500, 4_500, housing.size) * 100, 27)
        single = family_heads[self.rng.random(family_heads.size) < 0.03]
        self._pay(rows, "UHS", single, m, np.full(single.size, 157_300), 20)
        newcomers = present & ~np.isnat(self.pop.immigrated) & (age >= 20) & (age <= 64)
        newcomers &= (self.months[m].astype("datetime64[D]") - self.pop.immigrated) < np.timedelta64(730, "D")
        activity = self._sample(working & (age >= 25) & ~newcomers & ~disabled, 0.01)
        self._pay(rows, "AST", activity, m, 22 * self._lognormal(activity.size, 510, 0.2), 10)
        self._pay(rows, "SJE", np.flatnonzero(disabled), m, self._lognormal(int(disabled.sum()), 11_000, 0.2), 19)
        self._pay(
            rows, "AKE", np.flatnonzero(young_disabled), m, self._lognormal(int(young_disabled.sum()), 9_500, 0.15), 19
        )
        self._pay(rows, "ETB", np.flatnonzero(newcomers), m, 22 * self._lognormal(int(newcomers.sum()), 308, 0.05), 10)

    def _pensions(self, rows: Rows, m: int) -> None:
        pensioners = np.flatnonzero(self._present(m) & (self._age(m) >= 65))
        income = self._lognormal(pensioners.size, 14_500, 0.45)
        seed = (self.pop.pnr[pensioners] // 10) % 1000  # the same people get supplements every month
        self._pay(rows, "IP", pensioners, m, income, 19)
        low = income < 1_300_000
        self._pay(rows, "GP", pensioners[low], m, np.maximum(1_000_000 - income[low] // 2, 50_000), 19)
        housing = seed < 180
        self._pay(rows, "BTP", pensioners[housing], m, 200_000 + seed[housing] * 2_000, 19)

    def _csn(self, rows: Rows, m: int) -> None:
        if self.months[m].astype(object).month in (6, 7):
            return  # no student finance over the summer
        age = self._age(m)
        students = self._present(m) & (age >= 19) & (age <= 30) & ((self.pop.pnr // 10) % 7 < 2)
        self._pay(rows, "STM", np.flatnonzero(students), m, np.full(int(students.sum()), 356_400), 25)

    def _unemployment(self, rows: Rows, m: int) -> None:
        age = self._age(m)
        # Not to those on sickness benefit, activity support or student finance that month (exclusions).
        busy = self._receiving(m, "SJP", "AST", "STM", "SJE", "AKE")
        unemployed = self._sample(self._present(m) & (age >= 20) & (age <= 64) & ~busy, 0.025)
        self._pay(
            rows, "AKA", unemployed, m, 22 * np.minimum(self._lognormal(unemployed.size, 1_000, 0.25), 120_000), 15
        )

    def _municipality(self, rows: Rows, m: int, spec: PayerSpec) -> None:
        here = self.pop.municipality == spec.municipality
        if "EKB" in spec.benefits:
            age = self._age(m)
            # the same households tend to need support month after month
            steady = here & (age >= 18) & (age <= 64) & ((self.pop.pnr // 10) % 53 == 0)
            support = np.flatnonzero(self._present(m) & steady & (self.rng.random(here.size) < 0.85))
            self._pay(rows, "EKB", support, m, self.rng.integers(4_000, 13_000, support.size) * 100, 1)
        orgs_here = self.orgs.municipality == spec.municipality
        if "FOB" in spec.benefits and m % 12 == 2:
            associations = np.flatnonzero(orgs_here & (self.orgs.kind == "association"))
            self._pay(rows, "FOB", associations, m, self.rng.integers(5_000, 200_000, associations.size) * 100, 15)
        if "SKP" in spec.benefits:
            schools = np.flatnonzero(orgs_here & (self.orgs.kind == "school"))
            self._pay(rows, "SKP", schools, m, ((self.orgs.orgnr[schools] % 550) + 50) * 1_050_000, 25)
        if "LOV" in spec.benefits:
            providers = np.flatnonzero(orgs_here & (self.orgs.kind == "provider"))
            self._pay(rows, "LOV", providers, m, ((self.orgs.orgnr[providers] % 190) + 10) * 1_000_000, 28)

    def _region(self, rows: Rows, m: int, spec: PayerSpec) -> None:
        in_region = np.array([mu.region for mu in MUNICIPALITIES])
        here = in_region[self.pop.municipality] == spec.region
        travel = self._account_holders(self._sample(self._present(m) & here, 0.005), m)
        self._pay(rows, "SJR", travel, m, self.rng.integers(100, 1_500, travel.size) * 100, 10)
        orgs_here = in_region[self.orgs.municipality] == spec.region
        providers = np.flatnonzero(orgs_here & (self.orgs.kind == "provider"))
        self._pay(rows, "VVE", providers, m, ((self.orgs.orgnr[providers] % 90) + 10) * 2_000_000, 28)
        if m % 12 == 3:
            associations = np.flatnonzero(orgs_here & (self.orgs.kind == "association"))
            chosen = associations[self.rng.random(associations.size) < 0.2]
            self._pay(rows, "RKB", chosen, m, self.rng.integers(10_000, 150_000, chosen.size) * 100, 15)

    # --- tables --------------------------------------------------------------------------------

    def table(self, spec: PayerSpec, rows: Rows, *, first_reference: int = 0) -> pa.Table | None:
        """The payer's payment file as an Arrow table (column order of the CSV format); its references
        are numbered on from ``first_reference`` (the payer's payments in a country's earlier blocks)."""
        if not rows.counts:
            return None
        parts = []
        for benefit, recipient, month, amount, due_day in zip(
            rows.benefit, rows.recipient, rows.month, rows.amount, rows.due_day, strict=True
        ):
            parts.append(self._part(spec, benefit, recipient, month, amount, due_day, benefit in ORGANISATION_BENEFITS))
        table = pa.concat_tables(parts)
        numbers = np.arange(first_reference + 1, first_reference + table.num_rows + 1)
        seq = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), 9, "0")
        reference = pc.binary_join_element_wise(table["reference"], seq, "-")
        return table.set_column(0, "reference", reference)

    def _part(
        self,
        spec: PayerSpec,
        benefit: str,
        recipient: IntArray,
        month: IntArray,
        amount: IntArray,
        due_day: IntArray,
        to_orgs: bool,
    ) -> pa.Table:
        n = recipient.size
        start = self.months[month].astype("datetime64[D]")
        end = (self.months[month] + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
        due = start + (due_day - 1).astype("timedelta64[D]")
        take = pa.array(recipient)
        if to_orgs:
            payee_scheme = pa.repeat(pa.scalar("se_organisationsnummer"), n)
            payee_id = pc.cast(pa.array(self.orgs.orgnr[recipient]), pa.string())
            payee_name = pa.array(self.orgs.name[recipient].astype(str))
            account_scheme = pa.repeat(pa.scalar("se_bankgiro"), n)
            account = pc.cast(pa.array(self.orgs.bankgiro[recipient]), pa.string())
        else:
            payee_scheme = self.persons.scheme.take(take)
            payee_id = self.persons.identifier.take(take)
            payee_name = self.persons.name.take(take)
            account_scheme = pa.repeat(pa.scalar("iban"), n)
            account = self.persons.account.take(take)
            if self.register is not None:
                account, planted = plant_wrong_accounts(self.mistakes, account, recipient, self.pop, self.register)
                for kind, count in planted.items():
                    self.wrong_accounts[kind] += count
        yyyymm = str(self.months[month[0]]).replace("-", "")
        label = f"{REMITTANCE_SV[benefit]} {self.months[month[0]]!s}"
        # Social assistance is decided month by month; other benefits by one decision per payee.
        prefix = f"{spec.key}-{benefit}-{yyyymm}" if benefit in MONTHLY_DECISIONS else f"{spec.key}-{benefit}"
        numbered = pa.array(recipient + (self.first_organisation if to_orgs else self.first_person))
        decision = pc.binary_join_element_wise(prefix, pc.utf8_lpad(pc.cast(numbered, pa.string()), 8, "0"), "-")
        return pa.table(
            {
                "reference": pa.repeat(pa.scalar(f"{spec.key}-{benefit}-{yyyymm}"), n),
                "payee_scheme": payee_scheme,
                "payee_id": payee_id,
                "payee_name": payee_name,
                "benefit": pa.repeat(pa.scalar(benefit), n),
                "amount_minor": pa.array(amount),
                "currency": pa.repeat(pa.scalar("SEK"), n),
                "decision_reference": decision,
                "period_start": pa.array(start),
                "period_end": pa.array(end),
                "due_date": pa.array(due),
                "account_scheme": account_scheme,
                "account": account,
                "remittance_info": pa.repeat(pa.scalar(label), n),
                # Not part of the file format: who and which month, for the registers and the anomalies.
                PERSON: pa.array(np.full(n, -1) if to_orgs else recipient),
                MONTH: pa.array(month),
            }
        )
