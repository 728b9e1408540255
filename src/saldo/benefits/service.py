from __future__ import annotations

import tomllib
from collections import defaultdict
from pathlib import Path

from sqlalchemy.orm import Session

from saldo.benefits.errors import UnknownBenefitError
from saldo.benefits.models import BenefitKind
from saldo.benefits.repository import BenefitRepository
from saldo.benefits.schemas import BenefitOut

CATALOGUE_PATH = Path(__file__).with_name("catalogue.toml")


def seed_catalogue(session: Session, path: Path = CATALOGUE_PATH) -> int:
    """Insert or update the benefit catalogue from its TOML file; returns the number of benefits."""
    catalogue = tomllib.loads(path.read_text(encoding="utf-8"))
    repository = BenefitRepository(session)
    ids = {entry["code"]: repository.upsert(_with_defaults(entry)) for entry in catalogue["benefit"]}
    for exclusion in catalogue.get("exclusion", []):
        first, second = exclusion["benefits"]
        missing = [code for code in (first, second) if code not in ids]
        if missing:
            raise UnknownBenefitError(f"exclusion names unknown benefit(s): {', '.join(missing)}")
        repository.upsert_exclusion(ids[first], ids[second], exclusion["reason"])
    session.flush()
    return len(ids)


def _with_defaults(entry: dict[str, object]) -> dict[str, object]:
    kind = BenefitKind(str(entry["kind"]))
    return {"category_purpose": kind.default_category_purpose, **entry}


def list_benefits(session: Session) -> list[BenefitOut]:
    """The whole catalogue, each benefit with the codes of the benefits it excludes."""
    repository = BenefitRepository(session)
    benefits = repository.list_all()
    code_of = {b.id: b.code for b in benefits}
    excludes: dict[int, list[str]] = defaultdict(list)
    for a, b in repository.exclusion_pairs():
        excludes[a].append(code_of[b])
        excludes[b].append(code_of[a])
    return [BenefitOut.model_validate({**vars_of(b), "excludes": sorted(excludes[b.id])}) for b in benefits]


def vars_of(benefit: object) -> dict[str, object]:
    return {k: v for k, v in vars(benefit).items() if not k.startswith("_")}


def residence_conditioned_benefits(path: Path = CATALOGUE_PATH) -> frozenset[str]:
    """Codes of the catalogue's benefits that require living in the country."""
    catalogue = tomllib.loads(path.read_text(encoding="utf-8"))
    return frozenset(b["code"] for b in catalogue["benefit"] if b.get("residence_conditioned"))
