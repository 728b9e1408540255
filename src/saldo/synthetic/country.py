"""Generate the synthetic country into a folder of documented files (docs/formats/synthetic-country.md)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from saldo.benefits.service import residence_conditioned_benefits
from saldo.kit.clock import today
from saldo.synthetic.accounts import BANKGIROT, BANKS, Register, generate_register, ibans
from saldo.synthetic.anomalies import AFTER_DECISIONS, BEFORE_DECISIONS, CROSS_BORDER, DEFAULT_RATE, Planter
from saldo.synthetic.payers import Organisations, PayerSpec, generate_organisations, payer_specs
from saldo.synthetic.payments import MONTH, PERSON, PaymentGenerator
from saldo.synthetic.population import MUNICIPALITIES, Population, birth_ranks, generate_population
from saldo.synthetic.registers import Registers, decision_rows, generate_registers, income_rows

MONTHS = 12  # ten past months, the current one and the next: history and upcoming payments
# 2: bank register files and planted wrong accounts; 3: registers, decisions, anomalies; 4: payers' banks
FORMAT_VERSION = 4
PAYER_BANKS = tuple(bic for bic, _ in BANKS.values())[:4]  # the payers bank with the four largest banks
INCOME_MONTHS = MONTHS - 2  # the income register holds the completed months only


@dataclass(frozen=True)
class CountrySummary:
    folder: Path
    persons: int
    organisations: int
    payers: int
    payments: int
    payment_files: dict[str, int]  # organisation number -> payments in its file
    planted: dict[str, int]  # analysis rule -> planted cases (ground_truth.csv)
    bank_files: dict[str, int]  # BIC -> rows in its register file
    wrong_accounts: dict[str, dict[str, int]]  # per payment file: planted wrong accounts by kind


def generate_country(
    folder: Path,
    *,
    persons: int,
    seed: int = 1,
    as_of: dt.date | None = None,
    anomaly_rate: float = DEFAULT_RATE,
    progress: Callable[[str], None] | None = None,
    block_persons: int | None = None,
) -> CountrySummary:
    """Write a deterministic synthetic country for ``seed`` and ``as_of`` into ``folder``.

    With ``block_persons``, a country of more persons is written in blocks of at most that many (as
    even as can be), one after the other, so that the generator holds one block's payments at a
    time, not the country's: each block a population of its own (its households, organisations,
    registers and planted cases), its identifiers, account numbers, references and case numbers
    unique in the whole country, and its rows appended to the country's files
    (docs/formats/synthetic-country.md, "Written in blocks")."""
    as_of = as_of or today()
    note = progress or (lambda _message: None)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "payments").mkdir(exist_ok=True)
    writer = _Writer()
    if block_persons is None or persons <= block_persons:
        blocks = [_block(folder, writer, persons, (seed,), as_of, anomaly_rate, note, None)]
    else:
        taken, blocks = Taken(), []
        count = -(-persons // block_persons)
        # as even as can be, so that no block is a sliver (1,001 persons: two of 501 and 500, not 1,000 and 1)
        sizes = [persons // count + (block < persons % count) for block in range(count)]
        for block, size in enumerate(sizes):
            note(f"block {block + 1} of {count}")
            blocks.append(_block(folder, writer, size, (seed, BLOCKS + block), as_of, anomaly_rate, note, taken))
    return _manifest(folder, seed, as_of, persons, anomaly_rate, blocks)


BLOCKS = 100  # block b of a country written in blocks draws from the streams [seed, BLOCKS + b, ...]


@dataclass
class Taken:
    """What the blocks of a country written so far hold, so that the next block's identifiers,
    account numbers, references and case numbers are unique in the whole country."""

    persons: int = 0
    organisations: int = 0
    ranks: np.ndarray = field(default_factory=birth_ranks)  # serials given per birth date, sex and kind
    accounts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    serials: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # organisations'
    references: dict[str, int] = field(default_factory=dict)  # payer -> payments numbered
    planted_payments: int = 0
    planted_cases: int = 0


class _Writer:
    """CSV files of the country: a file's first table written with its header, later ones (the next
    blocks') appended under it."""

    def __init__(self) -> None:
        self.written: set[Path] = set()

    def __call__(self, path: Path, table: pa.Table, *, once: bool = False) -> None:
        if path not in self.written:
            _write(path, table)
            self.written.add(path)
        elif not once:  # a file every block writes the same (payers.csv, banks.csv) is written once
            with path.open("ab") as out:
                pacsv.write_csv(
                    table, out, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed")
                )


@dataclass
class _Block:
    organisations: int
    payment_files: dict[str, int]
    bank_files: dict[str, int]
    wrong: dict[str, dict[str, int]]
    planted: dict[str, int]
    registers: dict[str, int]  # file -> rows
    decision_files: dict[str, int]


def _block(
    folder: Path,
    write: _Writer,
    persons: int,
    entropy: tuple[int, ...],
    as_of: dt.date,
    anomaly_rate: float,
    note: Callable[[str], None],
    taken: Taken | None,
) -> _Block:
    """One block of the country (or the whole of it, when ``taken`` is None), appended to its files."""
    rng = np.random.default_rng(list(entropy) if len(entropy) > 1 else entropy[0])
    note("population")
    ranks = None if taken is None else taken.ranks
    population = generate_population(
        rng, persons, as_of, ranks=ranks, taken_accounts=None if taken is None else taken.accounts
    )
    organisations = generate_organisations(rng, persons, taken=None if taken is None else taken.serials)
    # Own random streams for the register and the wrong accounts: the rest of the country stays as before.
    register = generate_register(
        np.random.default_rng([*entropy, 1]),
        population,
        np.datetime64(as_of, "D"),
        taken=None if taken is None else taken.accounts,
    )
    generator = PaymentGenerator(
        rng,
        population,
        organisations,
        _months(as_of),
        register,
        np.random.default_rng([*entropy, 2]),
        first_person=0 if taken is None else taken.persons,
        first_organisation=0 if taken is None else taken.organisations,
    )
    write(folder / "persons.csv", _persons(population, generator))
    write(folder / "accounts.csv", _accounts(population, generator, organisations))
    note("bank register files")
    bank_files = _write_bank_files(write, folder, population, generator, organisations, register)
    write(folder / "organisations.csv", _organisations(organisations))
    specs = payer_specs()
    write(folder / "payers.csv", _payers(specs), once=True)

    tables = []
    wrong: dict[str, dict[str, int]] = {}
    for spec in specs:
        note(f"payments of {spec.name}")
        generator.wrong_accounts = dict.fromkeys(generator.wrong_accounts, 0)
        first_reference = 0 if taken is None else taken.references.get(spec.organisation_number, 0)
        table = generator.table(spec, generator.rows_for(spec), first_reference=first_reference)
        if table is None:
            continue
        if taken is not None:
            taken.references[spec.organisation_number] = first_reference + table.num_rows
        frame = table.to_pandas().assign(payer=spec.organisation_number, key=spec.key)
        tables.append(frame)
        wrong[spec.organisation_number] = dict(generator.wrong_accounts)
    payments = pd.concat(tables, ignore_index=True)
    del tables
    file_columns = [c for c in payments.columns if c not in (PERSON, MONTH, "payer", "key")]

    note("registers, decisions and planted anomalies")
    analysis = _write_analysis_inputs(
        write, folder, entropy, population, organisations, generator, payments, anomaly_rate, taken
    )
    del payments
    for (payer, kind), count in analysis.diverted.items():
        wrong[payer][kind] += count
    files: dict[str, int] = {}
    for group, frame in analysis.payments.groupby("payer", sort=False):
        payer = str(group)
        write(folder / "payments" / f"{payer}.csv", pa.Table.from_pandas(frame[file_columns], preserve_index=False))
        files[payer] = len(frame)
    if taken is not None:
        taken.persons += population.size
        taken.organisations += organisations.orgnr.size
        taken.accounts = np.concatenate([taken.accounts, population.account_number, register.closed_number])
        taken.serials = np.concatenate([taken.serials, (organisations.bankgiro // 10) - 1_000_000])
    registers = {"population": analysis.population_rows, "income": analysis.income_rows}
    return _Block(
        organisations.orgnr.size, files, bank_files, wrong, analysis.planted, registers, analysis.decision_files
    )


def _payers(specs: list[PayerSpec]) -> pa.Table:
    return pa.table(
        {
            "organisation_number": [s.organisation_number for s in specs],
            "name": [s.name for s in specs],
            "kind": [s.kind for s in specs],
            "connection_model": [s.connection_model for s in specs],
            "debtor_account_scheme": ["se_bankgiro"] * len(specs),
            "debtor_account": [s.bankgiro for s in specs],
            "benefits": [" ".join(s.benefits) for s in specs],
            # the bank holding each payer's Bankgiro account, spread over the country's banks
            "bank": [PAYER_BANKS[i % len(PAYER_BANKS)] for i in range(len(specs))],
        }
    )


def _summed(parts: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return total


def _manifest(
    folder: Path, seed: int, as_of: dt.date, persons: int, anomaly_rate: float, blocks: list[_Block]
) -> CountrySummary:
    """The country's summary, and its manifest.json: every block's counts added up."""
    files = _summed([b.payment_files for b in blocks])
    wrong: dict[str, dict[str, int]] = {}
    for block in blocks:
        for payer, kinds in block.wrong.items():
            wrong[payer] = _summed([wrong.get(payer, {}), kinds])
    planted = _summed([b.planted for b in blocks])
    bank_files = _summed([b.bank_files for b in blocks])
    decision_files = _summed([b.decision_files for b in blocks])
    summary = CountrySummary(
        folder,
        persons,
        sum(b.organisations for b in blocks),
        len(payer_specs()),
        sum(files.values()),
        files,
        planted,
        bank_files,
        wrong,
    )
    manifest = {
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "as_of": as_of.isoformat(),
        "persons": persons,
        "organisations": summary.organisations,
        "payers": summary.payers,
        "payments": summary.payments,
        "payment_files": {f"payments/{k}.csv": v for k, v in files.items()},
        "bank_files": {f"banks/{k}.csv": v for k, v in bank_files.items()},
        "wrong_accounts": {f"payments/{k}.csv": v for k, v in wrong.items() if k in files},
        "registers": {
            "registers/population.csv": sum(b.registers["population"] for b in blocks),
            "registers/income.csv": sum(b.registers["income"] for b in blocks),
        },
        "decision_files": {f"decisions/{k}.csv": v for k, v in decision_files.items()},
        "anomaly_rate": anomaly_rate,
        "planted": planted,
        **({"blocks": len(blocks)} if len(blocks) > 1 else {}),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary


DECISION_FILE_COLUMNS = (
    "decision_reference",
    "payee_scheme",
    "payee_id",
    "benefit",
    "period_start",
    "period_end",
    "amount_minor",
    "currency",
    "household_size",
    "declared_income_minor",
)


@dataclass
class AnalysisInputs:
    payments: pd.DataFrame
    diverted: dict[tuple[str, str], int]
    planted: dict[str, int]
    population_rows: int
    income_rows: int
    decision_files: dict[str, int]


def _write_analysis_inputs(
    write: _Writer,
    folder: Path,
    entropy: tuple[int, ...],
    population: Population,
    organisations: Organisations,
    generator: PaymentGenerator,
    payments: pd.DataFrame,
    anomaly_rate: float,
    taken: Taken | None,
) -> AnalysisInputs:
    """The registers and decisions beside the payments, with anomalies planted and their ground truth."""
    rng = np.random.default_rng([*entropy, 3])  # a stream of its own: the payments above stay as they were
    registers = generate_registers(rng, population, organisations, ranks=None if taken is None else taken.ranks)
    planter = Planter(
        rng=rng,
        population=population,
        registers=registers,
        months=generator.months,
        income_months=INCOME_MONTHS,
        residence_conditioned=residence_conditioned_benefits(),
        rate=anomaly_rate,
        payments=payments,
        own_account=generator.persons.account.to_numpy(zero_copy_only=False),
        first_person=generator.first_person,
        sequence=0 if taken is None else taken.planted_payments,
        cases=0 if taken is None else taken.planted_cases,
    )
    planter.plant(BEFORE_DECISIONS)
    income = income_rows(rng, population, registers, planter.payments, generator.months, INCOME_MONTHS)
    income = pd.concat([income, planter.extra_income_frame()], ignore_index=True)
    # One row per person, employer and month, as employers declare it.
    income = income.groupby(["person", "employer", "month"], as_index=False, sort=False).agg(
        amount_minor=("amount_minor", "sum")
    )
    decisions = decision_rows(rng, population, planter.payments, income)
    planter.plant(tuple(r for r in AFTER_DECISIONS if r != "declared_income_below_public_income"))
    planter.declared_income_below(decisions, planter.wanted)
    planter.plant(CROSS_BORDER)
    planted = planter.result()
    if taken is not None:
        taken.planted_payments, taken.planted_cases = planter.sequence, planter.cases

    (folder / "registers").mkdir(exist_ok=True)
    (folder / "decisions").mkdir(exist_ok=True)
    write(folder / "registers" / "population.csv", _population_register(population, registers, generator))
    people = generator.persons
    income_table = pa.table(
        {
            "person_scheme": people.scheme.take(pa.array(income["person"].to_numpy())),
            "person_id": people.identifier.take(pa.array(income["person"].to_numpy())),
            "employer_id": pc.cast(pa.array(organisations.orgnr[income["employer"].to_numpy()]), pa.string()),
            "month": pa.array([str(m) for m in generator.months[income["month"].to_numpy()]]),
            "amount_minor": pa.array(income["amount_minor"].to_numpy()),
        }
    )
    write(folder / "registers" / "income.csv", income_table)
    decision_files: dict[str, int] = {}
    for payer, frame in decisions.groupby("payer", sort=False):
        table = pa.Table.from_pandas(frame[list(DECISION_FILE_COLUMNS)], preserve_index=False)
        write(folder / "decisions" / f"{payer}.csv", table)
        decision_files[str(payer)] = len(frame)
    write(folder / "ground_truth.csv", pa.Table.from_pandas(planted.truth, preserve_index=False))
    write(folder / "cross_border.csv", _cross_border(planter.facts_frame(), population, generator))
    return AnalysisInputs(
        planted.payments,
        planter.diverted,
        planted.counts,
        population.size,
        income_table.num_rows,
        decision_files,
    )


def _cross_border(facts: pd.DataFrame, population: Population, generator: PaymentGenerator) -> pa.Table:
    """What institutions abroad tell of people here (docs/formats/synthetic-country.md): the demo and
    the tests deliver each as the SED that institution sends (H070, H002, H003)."""
    person = pa.array(facts["person"].to_numpy().astype(np.int64))
    names = pc.split_pattern(generator.persons.name.take(person), " ", max_splits=1)
    return pa.table(
        {
            "person_scheme": generator.persons.scheme.take(person),
            "person_id": generator.persons.identifier.take(person),
            "forename": pc.list_element(names, 0),
            "family_name": pc.list_element(names, 1),
            "birth_date": _date_or_null(population.birth[facts["person"].to_numpy().astype(np.int64)]),
            "kind": pa.array(facts["kind"].astype(str)),
            "start_date": _date_or_null(facts["start_date"].to_numpy().astype("datetime64[D]")),
            "end_date": _date_or_null(facts["end_date"].to_numpy().astype("datetime64[D]")),
            "benefit_type": pa.array(facts["benefit_type"].astype(str)),
            "institution": pa.array(facts["institution"].astype(str)),
        }
    )


def _population_register(population: Population, registers: Registers, generator: PaymentGenerator) -> pa.Table:
    previous = np.where(registers.previous_recorded, registers.previous, 0)
    return pa.table(
        {
            "person_scheme": generator.persons.scheme,
            "person_id": generator.persons.identifier,
            **_life(population),
            "household_id": pa.array(population.household + generator.first_person),
            **_home(population),
            "residence_permit_until": _date_or_null(registers.permit_until),
            "previous_id": pa.array(np.where(previous > 0, previous, 0).astype(str), mask=previous == 0),
        }
    )


def _months(as_of: dt.date) -> np.ndarray:
    current = np.datetime64(as_of, "M")
    return np.arange(current - (MONTHS - 2), current + 2)


def _write(path: Path, table: pa.Table) -> None:
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))


def _life(population: Population) -> dict[str, pa.Array]:
    """A person's sex and dates, as persons.csv and the population register give them."""
    return {
        "sex": pc.if_else(pa.array(population.male), "M", "F"),
        "birth_date": pa.array(population.birth.astype("datetime64[D]")),
        "death_date": _date_or_null(population.death),
        "emigration_date": _date_or_null(population.emigrated),
        "immigration_date": _date_or_null(population.immigrated),
    }


def _home(population: Population) -> dict[str, pa.Array]:
    """A person's address and municipality, as persons.csv and the population register give them."""
    codes = np.array([m.code for m in MUNICIPALITIES])
    street = pc.binary_join_element_wise(
        pa.array(population.street_names()), pc.cast(pa.array(population.street_number), pa.string()), " "
    )
    return {
        "street_address": street,
        "postal_code": pa.array(population.postal_code),
        "municipality_code": pa.array(codes[population.municipality]),
    }


def _date_or_null(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype("datetime64[D]"), mask=np.isnat(values))


def _persons(population: Population, generator: PaymentGenerator) -> pa.Table:
    given_and_surname = pc.split_pattern(generator.persons.name, " ", max_splits=1)
    return pa.table(
        {
            "id_scheme": generator.persons.scheme,
            "identifier": generator.persons.identifier,
            "given_name": pc.list_element(given_and_surname, 0),
            "surname": pc.list_element(given_and_surname, 1),
            **_life(population),
            "household": pa.array(population.household + generator.first_person),
            **_home(population),
        }
    )


def _accounts(population: Population, generator: PaymentGenerator, organisations: Organisations) -> pa.Table:
    has = population.account_bank > 0
    persons = pa.table(
        {
            "holder_scheme": generator.persons.scheme.filter(pa.array(has)),
            "holder_id": generator.persons.identifier.filter(pa.array(has)),
            "account_scheme": pa.repeat(pa.scalar("iban"), int(has.sum())),
            "account": generator.persons.account.filter(pa.array(has)),
        }
    )
    orgs = pa.table(
        {
            "holder_scheme": pa.repeat(pa.scalar("se_organisationsnummer"), organisations.orgnr.size),
            "holder_id": pc.cast(pa.array(organisations.orgnr), pa.string()),
            "account_scheme": pa.repeat(pa.scalar("se_bankgiro"), organisations.orgnr.size),
            "account": pc.cast(pa.array(organisations.bankgiro), pa.string()),
        }
    )
    return pa.concat_tables([persons, orgs])


def _organisations(organisations: Organisations) -> pa.Table:
    codes = np.array([m.code for m in MUNICIPALITIES])
    return pa.table(
        {
            "id_scheme": pa.repeat(pa.scalar("se_organisationsnummer"), organisations.orgnr.size),
            "identifier": pc.cast(pa.array(organisations.orgnr), pa.string()),
            "name": pa.array(organisations.name.astype(str)),
            "kind": pa.array(organisations.kind.astype(str)),
            "municipality_code": pa.array(codes[organisations.municipality]),
        }
    )


def _write_bank_files(
    write: _Writer,
    folder: Path,
    population: Population,
    generator: PaymentGenerator,
    organisations: Organisations,
    register: Register,
) -> dict[str, int]:
    """banks.csv and one register file per bank (docs/formats/bank-account-file.md): current
    accounts with every holder (joint accounts have two), old closed accounts, and Bankgirot's
    register of the organisations' Bankgiro numbers."""
    (folder / "banks").mkdir(exist_ok=True)
    people = generator.persons
    has = population.account_bank > 0
    current = pa.table(
        {
            "bank": pa.array(population.account_bank[has]),
            "account": people.account.filter(pa.array(has)),
            "opened_on": pa.array(register.opened[has].astype("datetime64[D]")),
            "closed_on": pa.nulls(int(has.sum()), pa.date32()),
            "holder_scheme": people.scheme.filter(pa.array(has)),
            "holder_id": people.identifier.filter(pa.array(has)),
            "holder_name": people.name.filter(pa.array(has)),
        }
    )
    old = register.closed_person
    closed = pa.table(
        {
            "bank": pa.array(register.closed_bank),
            "account": ibans(register.closed_bank, register.closed_number),
            "opened_on": pa.array(register.closed_opened.astype("datetime64[D]")),
            "closed_on": pa.array(register.closed_on.astype("datetime64[D]")).cast(pa.date32()),
            "holder_scheme": people.scheme.take(pa.array(old)),
            "holder_id": people.identifier.take(pa.array(old)),
            "holder_name": people.name.take(pa.array(old)),
        }
    )
    accounts = pa.concat_tables([current, closed.cast(current.schema)])
    columns = ["account", "opened_on", "closed_on", "holder_scheme", "holder_id", "holder_name"]
    banks = [(code, bic, name) for code, (bic, name) in BANKS.items()]
    written: dict[str, int] = {}
    for code, bic, _ in banks:
        mine = accounts.filter(pc.equal(accounts["bank"], code))
        mine = mine.take(pc.sort_indices(mine, [("account", "ascending"), ("holder_id", "ascending")]))
        write(folder / "banks" / f"{bic}.csv", _with_scheme(mine.select(columns), "iban"))
        written[bic] = mine.num_rows
    bankgiro = pa.table(
        {
            "account": pc.cast(pa.array(organisations.bankgiro), pa.string()),
            "opened_on": pa.repeat(pa.scalar(dt.date(2000, 1, 2)), organisations.orgnr.size),
            "closed_on": pa.nulls(organisations.orgnr.size, pa.date32()),
            "holder_scheme": pa.repeat(pa.scalar("se_organisationsnummer"), organisations.orgnr.size),
            "holder_id": pc.cast(pa.array(organisations.orgnr), pa.string()),
            "holder_name": pa.array(organisations.name.astype(str)),
        }
    )
    bankgiro = bankgiro.take(pc.sort_indices(bankgiro, [("account", "ascending"), ("holder_id", "ascending")]))
    write(folder / "banks" / f"{BANKGIROT[0]}.csv", _with_scheme(bankgiro, "se_bankgiro"))
    written[BANKGIROT[0]] = bankgiro.num_rows
    write(
        folder / "banks.csv",
        pa.table(
            {
                "bic": [bic for _, bic, _ in banks] + [BANKGIROT[0]],
                "name": [name for _, _, name in banks] + [BANKGIROT[1]],
            }
        ),
        once=True,
    )
    return written


def _with_scheme(table: pa.Table, scheme: str) -> pa.Table:
    return table.add_column(0, "account_scheme", pa.repeat(pa.scalar(scheme), table.num_rows))
