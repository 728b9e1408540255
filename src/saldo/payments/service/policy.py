"""What the payment services need to know about Saldo's limits, and the per-payer validator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from saldo.benefits.models import BenefitKind
from saldo.payments.repository import PaymentRepository
from saldo.payments.service.records import BenefitRule, RecordValidator
from saldo.settings import Settings


@dataclass(frozen=True, slots=True)
class RegistrationPolicy:
    currencies: frozenset[str]
    max_amount_minor: int
    max_reported_errors: int
    max_json_batch: int
    chunk_rows: int
    writers: int = 1  # connections storing one large CSV file (two-phase commit); 1: the batch's own only
    parallel_bytes: int = 64 << 20  # file size from which those connections are used

    @classmethod
    def from_settings(cls, settings: Settings) -> RegistrationPolicy:
        """Saldo's configured limits."""
        return cls(
            currencies=frozenset(settings.payment_currencies),
            max_amount_minor=settings.max_amount_minor,
            max_reported_errors=settings.max_reported_errors,
            max_json_batch=settings.max_json_batch,
            chunk_rows=settings.ingest_chunk_rows,
            writers=settings.ingest_writers,
            parallel_bytes=settings.ingest_parallel_bytes,
        )


def build_validator(session: Session, payer_id: int, policy: RegistrationPolicy, today: dt.date) -> RecordValidator:
    """A record validator for one payer: the catalogue, the benefits it may pay, and the limits."""
    catalogue: dict[str, BenefitRule] = {}
    permitted: set[str] = set()
    for code, benefit_id, kind, allowed in PaymentRepository(session).benefits_for_payer(payer_id):
        catalogue[code] = BenefitRule(benefit_id, BenefitKind(kind))
        if allowed:
            permitted.add(code)
    return RecordValidator(
        catalogue=catalogue,
        permitted=frozenset(permitted),
        currencies=policy.currencies,
        max_amount_minor=policy.max_amount_minor,
        today=today,
    )
