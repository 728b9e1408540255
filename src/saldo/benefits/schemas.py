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
    excludes: list[str]
