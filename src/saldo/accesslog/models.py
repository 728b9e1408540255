from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Index, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base
from saldo.db.types import UtcDateTime


class AccessLogEntry(Base):
    """One read of a person's identity or data by staff: who, when, which person, for which case and
    purpose. Rows are only ever appended (a trigger refuses UPDATE, DELETE and TRUNCATE) through the
    ``access_log_append`` function, which chains each entry to the one before:
    ``hash = sha256(prev_hash || canonical(entry))`` (docs/access-log.md)."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_person", "person_scheme", "person_id", "seq"),
        Index("ix_access_log_actor", "actor", "seq"),
        Index("ix_access_log_case_id", "case_id"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(100))  # the staff member's username
    role: Mapped[str] = mapped_column(String(16))  # the role they acted in
    channel: Mapped[str] = mapped_column(String(16))  # api, web, cli, assisted
    action: Mapped[str] = mapped_column(String(32))  # re_identify, read_case, read_answer ...
    person_scheme: Mapped[str | None] = mapped_column(String(32))
    person_id: Mapped[str | None] = mapped_column(String(20))
    case_id: Mapped[int | None] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
