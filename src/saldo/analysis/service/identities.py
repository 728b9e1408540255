"""Training the identity model on the registry's own payees (the model file is then reviewed and
committed like code; snapshots link with the committed file)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from saldo.analysis.repository import AnalysisRepository
from saldo.analysis.service.linkage import (
    identity_records,
    organisation_records,
    train_identity_model,
    train_organisation_model,
)


def train_identities_from_registry(session: Session) -> dict[str, Any]:
    """A new identity model trained without labels on the payees in the registry."""
    payees = AnalysisRepository(session).export("identities").to_pandas()
    left, right = identity_records(payees)
    return train_identity_model(left, right)


def train_organisations_from_registry(session: Session) -> dict[str, Any]:
    """A new organisation model trained without labels on the organisations in the registry."""
    payees = AnalysisRepository(session).export("organisation_identities").to_pandas()
    left, right = organisation_records(payees)
    return train_organisation_model(left, right)
