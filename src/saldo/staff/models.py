from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, CreatedAtMixin, IdMixin, TokenMixin
from saldo.db.types import UtcDateTime


class Role(StrEnum):
    """What a member of the authority's staff may do; every staff endpoint names the roles it needs."""

    ANALYST = "analyst"  # triages findings, opens cases (re-identifies) or dismisses them
    AUDITOR = "auditor"  # works cases: notes, evidence, information requests, notifications
    SUPERVISOR = "supervisor"  # assigns cases, puts rules in shadow mode or retires them, reads statistics
    LOG_AUDITOR = "log_auditor"  # the auditor of the auditors: reads and verifies the access log
    CASEWORKER = "caseworker"  # serves citizens: sees and does what they can, on their behalf (assisted channel)
    # decides applicable legislation and health-insurance cover as the competent institution; issues,
    # suspends and revokes PDA1 and EHIC credentials
    ISSUER = "issuer"


class StaffMember(IdMixin, CreatedAtMixin, Base):
    """A person at the payment authority. Roles are granted, never implied."""

    __tablename__ = "staff_members"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    # who they are by eID: the login on Saldo's pages matches this identifier, never a name
    person_scheme: Mapped[str | None] = mapped_column(String(32))
    person_id: Mapped[str | None] = mapped_column(String(20), unique=True)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class StaffToken(IdMixin, CreatedAtMixin, TokenMixin, Base):
    """A staff member's API credential (until login with eID replaces it for people)."""

    __tablename__ = "staff_tokens"

    staff_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("staff_members.id"), index=True)
