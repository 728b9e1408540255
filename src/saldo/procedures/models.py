"""Applications for a PDA1 or an EHIC: what the person asked for, as they gave it, and the decision
on it. An application is written whole when it is sent (a form sent twice is one application) and
decided once; the decision links what it produced (the applicable-legislation decision, the
credential, the cross-border case that told the other state)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime, str_enum


class ApplicationKind(StrEnum):
    PDA1 = "pda1"  # a Portable Document A1: which country's social security legislation applies
    EHIC = "ehic"  # a European Health Insurance Card


class ApplicationState(StrEnum):
    SUBMITTED = "submitted"  # waiting for a caseworker
    GRANTED = "granted"  # decided: the credential is issued
    REFUSED = "refused"  # decided: not granted, with the reason
    WITHDRAWN = "withdrawn"  # the person took it back before it was decided


class RefusalGround(StrEnum):
    """Why an application is refused, in words the person reads in their language (the caseworker
    explains beside it)."""

    NOT_INSURED = "not_insured"  # the person is not insured here for the period
    NOT_COMPETENT = "not_competent"  # another state's legislation applies, or another institution decides
    INCOMPLETE = "incomplete"  # what is needed to decide is missing and was not given when asked
    OTHER = "other"


class Application(IdMixin, Base):
    """One application, by the person it is for."""

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("person_scheme", "person_id", "form_key"),
        # the queue staff work: the waiting ones, oldest first
        Index("ix_applications_waiting", "submitted_at", postgresql_where=text("state = 'submitted'")),
        # one of each kind waits at a time, also when two forms are sent at once
        Index(
            "uq_applications_one_waiting",
            "person_scheme",
            "person_id",
            "kind",
            unique=True,
            postgresql_where=text("state = 'submitted'"),
        ),
    )

    reference: Mapped[str] = mapped_column(String(16), unique=True)  # what the person quotes, "A-7K3M9Q2X4A"
    kind: Mapped[ApplicationKind] = mapped_column(str_enum(ApplicationKind, "application_kind"))
    person_scheme: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[ApplicationState] = mapped_column(str_enum(ApplicationState, "application_state"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)  # what the person gave, as validated (schemas)
    language: Mapped[str] = mapped_column(String(8))  # the decision is written in it
    form_key: Mapped[str] = mapped_column(String(64))  # the form's own key: sent twice, it is one application
    submitted_by: Mapped[str] = mapped_column(String(100))  # "citizen", or "staff:<username>" in the assisted channel
    submitted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    refusal_ground: Mapped[RefusalGround | None] = mapped_column(str_enum(RefusalGround, "refusal_ground"))
    explanation: Mapped[str | None] = mapped_column(Text)  # the caseworker's words to the person
    # what a grant produced
    decision_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("legislation_decisions.id"))
    credential_pk: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("credentials.id"))
    eessi_case_pk: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("eessi_cases.id"))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
