from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime, str_enum


class Snapshot(IdMixin, Base):
    """A pseudonymised Parquet export of what the analysis reads; its manifest proves what it held."""

    __tablename__ = "analysis_snapshots"

    label: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(Text)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSONB)
    key_fingerprint: Mapped[str] = mapped_column(String(16))  # which pseudonym key; never the key
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class AnalysisRun(IdMixin, Base):
    """The rules of the catalogue run on one snapshot by one engine."""

    __tablename__ = "analysis_runs"

    snapshot_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("analysis_snapshots.id"))
    engine: Mapped[str] = mapped_column(String(16))
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # [{"id", "version", "findings", "seconds"}]
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus, "analysis_run_status"))
    capacity: Mapped[int] = mapped_column(Integer)  # how many findings the authority can review
    findings: Mapped[int] = mapped_column(Integer, server_default="0")
    selected: Mapped[int] = mapped_column(Integer, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class Finding(IdMixin, Base):
    """A lead, never a decision: what a rule found, on which snapshot, why, and what is at stake."""

    __tablename__ = "findings"
    __table_args__ = (
        Index("ix_findings_run_id_selected_expected_value", "run_id", "selected", "expected_value_minor"),
    )

    run_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("analysis_runs.id"))
    snapshot_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("analysis_snapshots.id"))
    rule_id: Mapped[str] = mapped_column(String(64))
    rule_version: Mapped[int] = mapped_column(Integer)
    subject_kind: Mapped[str] = mapped_column(String(16))  # person / account / decision
    subject_key: Mapped[str] = mapped_column(String(64))  # a pseudonym from the snapshot
    payment_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    amount_at_risk_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reason_sv: Mapped[str] = mapped_column(Text)
    reason_en: Mapped[str] = mapped_column(Text)
    expected_value_minor: Mapped[int] = mapped_column(BigInteger)  # amount at risk x the rule's precision
    selected: Mapped[bool] = mapped_column(server_default="false")  # within the run's capacity
    shadow: Mapped[bool] = mapped_column(server_default="false")  # from a rule in shadow mode: never selected
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class RuleMode(StrEnum):
    ACTIVE = "active"  # runs; its findings can be selected for triage
    SHADOW = "shadow"  # runs and is measured; its findings are kept but never selected for triage
    RETIRED = "retired"  # no longer runs


class RuleModeChange(IdMixin, Base):
    """A rule put in shadow mode, retired or made active again: who and why. Only appended; a rule's
    mode is its latest change (active when it has none)."""

    __tablename__ = "rule_mode_changes"
    __table_args__ = (Index("ix_rule_mode_changes_rule_id_id", "rule_id", "id"),)

    rule_id: Mapped[str] = mapped_column(String(64))
    mode: Mapped[RuleMode] = mapped_column(str_enum(RuleMode, "rule_mode"))
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
