from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import str_enum


class BenefitKind(StrEnum):
    ECONOMIC_BENEFIT = "economic_benefit"  # ekonomisk förmån (e.g. sickness benefit, pension)
    ECONOMIC_SUPPORT = "economic_support"  # ekonomiskt bistånd (municipal social assistance)
    ASSOCIATION_GRANT = "association_grant"  # bidrag till förening
    SCHOOL_PROVIDER = "school_provider"  # ersättning till skolhuvudman
    PRIVATE_CONTRACTOR = "private_contractor"  # ersättning till privat utförare

    @property
    def default_category_purpose(self) -> str:
        """The ISO 20022 category purpose its payments carry unless the catalogue says otherwise."""
        return "SUPP" if self in _SUPPLIER_KINDS else "SSBE"


_SUPPLIER_KINDS = frozenset(
    {BenefitKind.ASSOCIATION_GRANT, BenefitKind.SCHOOL_PROVIDER, BenefitKind.PRIVATE_CONTRACTOR}
)


class BenefitLevel(StrEnum):
    STATE = "state"
    MUNICIPAL = "municipal"
    REGIONAL = "regional"


class Benefit(IdMixin, Base):
    __tablename__ = "benefits"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_sv: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[BenefitKind] = mapped_column(str_enum(BenefitKind, "kind"))
    level: Mapped[BenefitLevel] = mapped_column(str_enum(BenefitLevel, "level"))
    legal_basis: Mapped[str] = mapped_column(Text)
    residence_conditioned: Mapped[bool]
    income_replacing: Mapped[bool]
    means_tested: Mapped[bool]
    # ExternalCategoryPurpose1Code for bank files: PENS pensions, SSBE social security benefits,
    # SUPP grants and payments to providers. Banks route and report on it.
    category_purpose: Mapped[str] = mapped_column(String(4), server_default="SSBE")


class BenefitExclusion(Base):
    """Two benefits that may not both be paid to one person for the same period.

    Stored once per pair, lower id first; the repository answers in both directions."""

    __tablename__ = "benefit_exclusions"
    __table_args__ = (CheckConstraint("benefit_id < excluded_benefit_id", name="ordered_pair"),)

    benefit_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("benefits.id"), primary_key=True)
    excluded_benefit_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("benefits.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
