from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from saldo.benefits.models import BenefitKind, BenefitLevel


class BenefitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_sv: str
    name_en: str
    kind: BenefitKind
    level: BenefitLevel
    legal_basis: str
    residence_conditioned: bool
    income_replacing: bool
    means_tested: bool
    category_purpose: str  # ISO 20022 category purpose its payments carry in bank files
    excludes: list[str]
