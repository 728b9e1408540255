"""The data categories an information request may name (categories.toml), and the refusal of the
exempt ones: patient-confidential categories and the categories Saldo never handles."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from saldo.inforequests.errors import CategoryRefusedError
from saldo.kit.data_categories import excluded_reason

CATALOGUE = Path(__file__).parents[1] / "categories.toml"
PATIENT_CONFIDENTIAL = (
    "patient-confidential data is exempt from information requests (SOU 2025:20): the authority may not ask for it"
)


@dataclass(frozen=True)
class Category:
    code: str
    name_sv: str
    name_en: str
    description: str
    patient_confidential: bool


@cache
def categories() -> dict[str, Category]:
    entries = tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))["category"]
    return {
        e["code"]: Category(
            e["code"], e["name_sv"], e["name_en"], e["description"], bool(e.get("patient_confidential", False))
        )
        for e in entries
    }


def check_categories(codes: list[str]) -> list[str]:
    """The codes, checked: every refusal says which category and why; raises CategoryRefusedError."""
    if not codes:
        raise CategoryRefusedError("categories: a request names at least one data category")
    known = categories()
    refusals = []
    for code in codes:
        category = known.get(code)
        excluded = excluded_reason(code)
        if category is not None and category.patient_confidential:
            refusals.append(f"{code}: {PATIENT_CONFIDENTIAL}")
        elif excluded is not None:
            refusals.append(f"{code}: {excluded}")
        elif category is None:
            refusals.append(f"{code}: not a data category of the catalogue ({', '.join(sorted(requestable()))})")
    if refusals:
        raise CategoryRefusedError("; ".join(refusals))
    return sorted(set(codes))


def requestable() -> list[str]:
    return [c.code for c in categories().values() if not c.patient_confidential]
