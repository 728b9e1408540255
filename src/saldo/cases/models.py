from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime, str_enum


class Triage(StrEnum):
    OPENED = "opened"  # a case was opened: the subject was re-identified
    DISMISSED = "dismissed"  # not worth a case, with the reason


class FindingReview(Base):
    """An analyst's decision on a finding: open a case or dismiss it, with the reason. One per finding."""

    __tablename__ = "finding_reviews"

    finding_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("findings.id"), primary_key=True)
    decision: Mapped[Triage] = mapped_column(str_enum(Triage, "triage"))
    reason: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    reviewed_by: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class CaseStatus(StrEnum):
    OPEN = "open"  # opened, nobody working it yet
    IN_PROGRESS = "in_progress"
    AWAITING_INFORMATION = "awaiting_information"  # an information request is out
    NOTIFIED = "notified"  # the paying payer(s) were notified; their outcome is awaited
    CLOSED = "closed"


class Case(IdMixin, Base):
    """An in-depth audit of what one or more findings point at, worked by a person at the authority."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status_deadline", "status", "deadline"),)

    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "case_status"))
    rule_id: Mapped[str] = mapped_column(String(64))  # the rule of the finding that opened it
    subject_kind: Mapped[str] = mapped_column(String(16))
    amount_at_risk_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    purpose: Mapped[str] = mapped_column(Text)  # why the subject was re-identified
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    assigned_to: Mapped[str | None] = mapped_column(String(64), index=True)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    closing_reason: Mapped[str | None] = mapped_column(Text)


class CaseFinding(Base):
    """The findings a case works; a finding belongs to at most one case."""

    __tablename__ = "case_findings"

    finding_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("findings.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)


class CasePerson(Base):
    """A person a case is about, re-identified when it was opened (``subject``: the one the finding
    names; the others are the other payees of its payments, e.g. on a shared account)."""

    __tablename__ = "case_persons"
    __table_args__ = (Index("ix_case_persons_person", "person_scheme", "person_id"),)

    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), primary_key=True)
    person_scheme: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    subject: Mapped[bool]


class CaseEventKind(StrEnum):
    OPENED = "opened"
    ASSIGNED = "assigned"
    STATUS = "status"
    DEADLINE = "deadline"
    NOTE = "note"
    EVIDENCE = "evidence"
    REQUEST_SENT = "request_sent"
    ANSWER_RECEIVED = "answer_received"
    NOTIFIED = "notified"
    OUTCOME = "outcome"


class CaseEvent(IdMixin, Base):
    """Everything that happened in a case, in order; only appended (a trigger refuses changes)."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_id_id", "case_id", "id"),)

    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"))
    kind: Mapped[CaseEventKind] = mapped_column(str_enum(CaseEventKind, "case_event_kind"))
    actor: Mapped[str] = mapped_column(String(100))  # "staff:<username>", "payer:<id>", "system"
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
