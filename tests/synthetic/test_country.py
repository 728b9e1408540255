"""The synthetic country: deterministic, valid, Swedish-shaped, and ingestible as payers send it."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session

from saldo.cli.accounts import connect_country_banks, import_bank_register
from saldo.cli.ingest import ingest_file
from saldo.cli.payers import import_payers_file
from saldo.kit.account_number import AccountScheme, normalize_account
from saldo.kit.clock import today
from saldo.kit.national_id import IdScheme, normalize_identifier
from saldo.payers.service import list_payers
from saldo.payments.models import AccountCheck
from saldo.payments.schemas import BatchAccepted
from saldo.payments.service.verify import check_payment_accounts
from saldo.settings import Settings
from saldo.synthetic.country import generate_country
from saldo.synthetic.population import distinct_numbers

AS_OF = today()


@pytest.fixture(scope="module", params=[None, 1_000], ids=["whole", "in-blocks"])
def block_persons(request: pytest.FixtureRequest) -> int | None:
    """The country written whole, and in blocks of a thousand persons (as a national one is)."""
    value: int | None = request.param
    return value


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory, block_persons: int | None) -> Path:
    folder = tmp_path_factory.mktemp("country")
    generate_country(folder, persons=3_000, seed=7, as_of=AS_OF, block_persons=block_persons)
    return folder


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.csv"))
    }


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_same_seed_gives_the_same_country(country: Path, tmp_path: Path, block_persons: int | None) -> None:
    generate_country(tmp_path, persons=3_000, seed=7, as_of=AS_OF, block_persons=block_persons)
    assert digest(tmp_path) == digest(country)


def test_other_seed_gives_another_country(country: Path, tmp_path: Path, block_persons: int | None) -> None:
    generate_country(tmp_path, persons=3_000, seed=8, as_of=AS_OF, block_persons=block_persons)
    assert digest(tmp_path)["persons.csv"] != digest(country)["persons.csv"]


def test_what_one_block_numbers_no_other_block_numbers_again(country: Path) -> None:
    """Each block is a population of its own, written after the others: its references, decisions,
    households, earlier identifiers, organisations and planted cases are numbered on from theirs."""
    for once in ("payers.csv", "banks.csv"):  # the same in every block: written once
        lines = (country / once).read_text(encoding="utf-8").splitlines()
        assert len(set(lines)) == len(lines), once
    persons = rows(country / "persons.csv")
    addresses: dict[str, set[str]] = {}
    for person in persons:
        addresses.setdefault(person["household"], set()).add(person["street_address"])
    assert len(addresses) < len(persons)
    assert all(len(street) == 1 for street in addresses.values())  # a household lives at one address
    for folder, column in (("payments", "reference"), ("decisions", "decision_reference")):
        for path in sorted((country / folder).glob("*.csv")):
            numbers = [row[column] for row in rows(path)]
            assert len(set(numbers)) == len(numbers), path
    earlier = [r["previous_id"] for r in rows(country / "registers" / "population.csv") if r["previous_id"]]
    assert earlier
    assert len(set(earlier)) == len(earlier)
    assert not set(earlier) & {p["identifier"] for p in persons}
    organisations = rows(country / "organisations.csv")
    assert len({o["identifier"] for o in organisations}) == len(organisations)
    giro = [a["account"] for a in rows(country / "accounts.csv") if a["account_scheme"] == "se_bankgiro"]
    assert len(set(giro)) == len(giro) == len(organisations)
    manifest = json.loads((country / "manifest.json").read_text(encoding="utf-8"))
    cases = {(row["rule"], row["case"]) for row in rows(country / "ground_truth.csv")}
    assert len(cases) == sum(manifest["planted"].values())


def test_every_identifier_and_account_is_valid_and_unique(country: Path) -> None:
    persons = rows(country / "persons.csv")
    assert len({p["identifier"] for p in persons}) == len(persons) == 3_000
    for person in persons:
        normalize_identifier(IdScheme(person["id_scheme"]), person["identifier"])
    assert any(p["id_scheme"] == "se_samordningsnummer" for p in persons)
    for account in rows(country / "accounts.csv"):
        normalize_account(AccountScheme(account["account_scheme"]), account["account"])


def test_population_has_deaths_emigration_and_households(country: Path) -> None:
    persons = rows(country / "persons.csv")
    assert sum(1 for p in persons if p["death_date"]) > 0
    assert sum(1 for p in persons if p["emigration_date"]) > 0
    households = [p["household"] for p in persons]
    assert len(set(households)) < len(households)  # people live together


def test_payers_cover_state_municipal_regional_and_a_fund(country: Path) -> None:
    kinds = [p["kind"] for p in rows(country / "payers.csv")]
    assert kinds.count("state_agency") >= 3
    assert kinds.count("municipality") >= 10
    assert kinds.count("region") >= 2
    assert kinds.count("unemployment_fund") >= 1


def test_a_year_of_payments_is_in_the_manifest(country: Path) -> None:
    manifest = json.loads((country / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["payments"] == sum(manifest["payment_files"].values()) > 3_000 * 4
    fk = rows(country / "payments" / "2021005521.csv")
    months = {r["period_start"][:7] for r in fk}
    assert len(months) == 12


def test_country_is_ingested_through_the_payer_path(country: Path, session: Session, settings: Settings) -> None:
    connect_country_banks(session, country)  # payers.csv names each payer's bank
    import_payers_file(session, country / "payers.csv")
    registered = 0
    for payer in list_payers(session):
        path = country / "payments" / f"{payer.organisation_number}.csv"
        if not path.exists() or not payer.connection_model.pays_through_saldo:
            continue
        outcome = ingest_file(
            session, settings, organisation_number=payer.organisation_number, path=path, show_progress=False
        )
        assert isinstance(outcome, BatchAccepted), outcome
        registered += outcome.registered
    manifest = json.loads((country / "manifest.json").read_text(encoding="utf-8"))
    skipped = {
        p["organisation_number"] for p in rows(country / "payers.csv") if p["connection_model"] == "analysis_only"
    }
    expected = sum(v for k, v in manifest["payment_files"].items() if Path(k).stem not in skipped)
    assert registered == expected


def test_bank_files_are_valid_and_the_account_check_catches_every_planted_wrong_account(
    country: Path, session: Session, settings: Settings
) -> None:
    loaded = import_bank_register(session, country, settings)
    manifest = json.loads((country / "manifest.json").read_text(encoding="utf-8"))
    assert {f"banks/{bic}.csv": r.rows for bic, r in loaded.items()} == manifest["bank_files"]
    assert sum(r.closed for r in loaded.values()) > 0
    import_payers_file(session, country / "payers.csv")
    planted = {"someone_elses": 0, "closed": 0, "unknown": 0}
    total = 0
    for payer in list_payers(session):
        name = f"payments/{payer.organisation_number}.csv"
        if name not in manifest["payment_files"] or not payer.connection_model.pays_through_saldo:
            continue
        ingest_file(
            session, settings, organisation_number=payer.organisation_number, path=country / name, show_progress=False
        )
        total += manifest["payment_files"][name]
        for kind, count in manifest["wrong_accounts"][name].items():
            planted[kind] += count
    assert min(planted.values()) > 0
    summary = check_payment_accounts(session, on=AS_OF)
    assert summary.checked == total
    assert summary.held == {
        AccountCheck.NOT_HOLDER: planted["someone_elses"],
        AccountCheck.ACCOUNT_CLOSED: planted["closed"],
        AccountCheck.ACCOUNT_UNKNOWN: planted["unknown"],
    }
    assert summary.verified == total - sum(planted.values())


def test_account_numbers_drawn_twice_are_drawn_again() -> None:
    """At national size random account numbers repeat by chance; a repeat, or a number already held
    (a closed account drawn onto a current one), is drawn again and nothing else changes."""
    drawn = np.array([5 * 10**9, 6 * 10**9, 5 * 10**9, 7 * 10**9, 8 * 10**9], dtype=np.int64)
    distinct = distinct_numbers(drawn, taken=np.array([7 * 10**9], dtype=np.int64))
    assert len(set(distinct.tolist())) == drawn.size
    assert 7 * 10**9 not in distinct
    assert distinct[[0, 1, 4]].tolist() == [5 * 10**9, 6 * 10**9, 8 * 10**9]  # the others stay as drawn
    assert distinct_numbers(distinct).tolist() == distinct.tolist()
