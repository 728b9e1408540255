"""The connected payers of the synthetic country and the organisations some of them pay."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from saldo.synthetic.names import ASSOCIATION_WORDS, PROVIDER_WORDS, SCHOOL_WORDS
from saldo.synthetic.population import MUNICIPALITIES, REGIONS, IntArray, distinct_numbers, luhn_orgnr, with_luhn


@dataclass(frozen=True)
class PayerSpec:
    key: str  # short code used in payment references
    organisation_number: str
    name: str
    kind: str
    connection_model: str
    benefits: tuple[str, ...]
    municipality: int | None = None  # index into MUNICIPALITIES
    region: int | None = None  # index into REGIONS

    @property
    def bankgiro(self) -> str:
        prefix = int(self.organisation_number[2:9]) % 10_000_000
        return str(int(with_luhn(np.array([prefix], dtype=np.int64), 7)[0]))


def payer_specs() -> list[PayerSpec]:
    """Three state agencies, an unemployment fund, twelve municipalities and three regions."""
    specs = [
        PayerSpec(
            "FK",
            "2021005521",
            "Försäkringskassan",
            "state_agency",
            "full",
            ("BB", "SJP", "FPG", "TFP", "BOB", "UHS", "AST", "SJE", "AKE", "ETB"),
        ),
        PayerSpec("PM", "2021006255", "Pensionsmyndigheten", "state_agency", "full", ("IP", "GP", "BTP")),
        PayerSpec("CSN", "2021001819", "Centrala studiestödsnämnden", "state_agency", "full", ("STM",)),
        PayerSpec("AK", luhn_orgnr("802016220"), "Arbetslöshetskassan Alfa", "unemployment_fund", "full", ("AKA",)),
    ]
    for index, m in enumerate(MUNICIPALITIES):
        model = "full"
        benefits: tuple[str, ...] = ("EKB", "FOB", "SKP", "LOV")
        if m.code == "1281":
            model = "analysis_only"  # pays through its own bank; sends data for analysis only
        if m.code == "1290":
            model, benefits = "transaction_account_only", ("SKP", "LOV")
        specs.append(
            PayerSpec(
                f"K{m.code}", luhn_orgnr(m.orgnr_prefix), m.name, "municipality", model, benefits, municipality=index
            )
        )
    for index, (name, prefix) in enumerate(REGIONS):
        specs.append(
            PayerSpec(f"R{index + 1}", luhn_orgnr(prefix), name, "region", "full", ("SJR", "VVE", "RKB"), region=index)
        )
    return specs


@dataclass
class Organisations:
    """Associations, independent schools and care providers that receive grants and fees."""

    orgnr: IntArray
    kind: np.ndarray  # "association" | "school" | "provider"
    name: np.ndarray
    municipality: IntArray
    bankgiro: IntArray


def generate_organisations(rng: np.random.Generator, persons: int, *, taken: IntArray | None = None) -> Organisations:
    """The associations, schools and providers of ``persons``. In a block of a larger country, their
    serials (and so their organisation and Bankgiro numbers) are none of ``taken``, nor each other's."""
    per_kind = {
        "association": (max(persons // 1500, 12), "802", ASSOCIATION_WORDS),
        "school": (max(persons // 6000, 6), "556", SCHOOL_WORDS),
        "provider": (max(persons // 6000, 6), "559", PROVIDER_WORDS),
    }
    parts = []
    for kind, (count, form, words) in per_kind.items():
        serial = rng.choice(10**6, size=count, replace=False).astype(np.int64)
        if taken is not None:
            serial = distinct_numbers(serial, taken=taken, low=0, high=10**6, stream=taken.size)
            taken = np.concatenate([taken, serial])
        orgnr = with_luhn(int(form) * 10**6 + serial, 9)
        place = rng.choice(len(MUNICIPALITIES), size=count, p=[m.share for m in MUNICIPALITIES]).astype(np.int64)
        town = np.array([m.name.replace(" kommun", "").rstrip("s") for m in MUNICIPALITIES])[place]
        word = np.array(words)[rng.integers(0, len(words), count)]
        suffix = " AB" if kind != "association" else ""
        name = np.char.add(np.char.add(np.char.add(town, " "), word), suffix)
        name = (
            np.char.add(np.char.add(name, " "), (np.arange(count) + 1).astype(str)) if count > len(words) * 12 else name
        )
        bankgiro = with_luhn(1_000_000 + serial, 7)
        parts.append((orgnr, np.full(count, kind), name, place, bankgiro))
    return Organisations(*(np.concatenate(column) for column in zip(*parts, strict=True)))
