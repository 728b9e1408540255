from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, LargeBinary, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime, str_enum


class RequestStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"


class InformationRequest(IdMixin, Base):
    """The authority asks a payer for data on a named person in a case, by data category."""

    __tablename__ = "information_requests"
    __table_args__ = (
        Index("ix_information_requests_payer_id_id", "payer_id", "id"),
        Index("ix_information_requests_status_deadline", "status", "deadline"),
    )

    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    payer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payers.id"))
    person_scheme: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(20))
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(48)))
    question: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus, "request_status"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class InformationAnswer(IdMixin, Base):
    """A payer's answer: data per requested category and, optionally, a file. Only appended."""

    __tablename__ = "information_answers"

    request_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("information_requests.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    filename: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_sha256: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    received_by: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
