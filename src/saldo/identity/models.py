from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, CreatedAtMixin, IdMixin
from saldo.db.types import UtcDateTime, str_enum


class Audience(StrEnum):
    """Who a login is for: a payee seeing their own payments, a member of the authority's staff, or a
    person working for a payer."""

    CITIZEN = "citizen"
    STAFF = "staff"
    PAYER = "payer"  # a person working for a connected payer


class LoginAttempt(IdMixin, CreatedAtMixin, Base):
    """A login sent to an eID provider and not yet back: what the callback must match (state, nonce,
    PKCE verifier). Used once; an attempt older than ``LOGIN_TTL`` is refused."""

    __tablename__ = "login_attempts"

    state_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, "audience"))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    return_to: Mapped[str] = mapped_column(Text)


class WebSession(IdMixin, CreatedAtMixin, Base):
    """A logged-in browser. Only a SHA-256 of the cookie's secret is kept. A staff session may act for a
    citizen (the assisted channel); every page it then reads is in the access log."""

    __tablename__ = "web_sessions"

    secret_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, "audience"))
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))  # the provider's `sub`
    person_scheme: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    loa: Mapped[str] = mapped_column(String(16))  # eIDAS level of assurance: substantial or high
    staff_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("staff_members.id"))
    payer_user_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("payer_users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    acting_scheme: Mapped[str | None] = mapped_column(String(32))
    acting_id: Mapped[str | None] = mapped_column(String(20))
    acting_purpose: Mapped[str | None] = mapped_column(Text)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
