"""Credentials this installation issues as a competent institution (PDA1, EHIC), the decisions
they come from, their history, and the status lists that tell verifiers whether each still holds.

A credential is recorded when staff issue it; the person's wallet collects it over OpenID4VCI
(the offer), bound to the wallet's key, or the person takes the PDF. What it says (its claims) is
fixed when recorded; its status (valid, suspended, revoked) is the one thing that changes, and every
change is appended to its history and shown in its status list entry."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, IdMixin
from saldo.db.types import UtcDateTime, str_enum


class CredentialType(StrEnum):
    PDA1 = "pda1"  # Portable Document A1: which country's social security legislation applies
    EHIC = "ehic"  # European Health Insurance Card


class CredentialState(StrEnum):
    """The credential's status, as its status list entry tells it (0, 2, 1)."""

    VALID = "valid"
    SUSPENDED = "suspended"  # may be reinstated
    REVOKED = "revoked"  # for good


class LegislationDecision(IdMixin, Base):
    """A decision of which country's legislation applies to a person working across borders
    (Regulation 883/2004 Title II), recorded by staff: what a PDA1 certifies."""

    __tablename__ = "legislation_decisions"

    person_scheme: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(20), index=True)
    legislation_country: Mapped[str] = mapped_column(String(2))
    status_confirmation: Mapped[str] = mapped_column(String(2))  # the PDA1 code 01-12 (docs/credentials.md)
    starting_date: Mapped[dt.date] = mapped_column(Date)
    ending_date: Mapped[dt.date] = mapped_column(Date)
    employer: Mapped[dict[str, Any]] = mapped_column(JSONB)  # {id, name, country}
    work_address: Mapped[dict[str, Any]] = mapped_column(JSONB)  # {street_address, postal_code, locality, country, …}
    # the cross-border case (LA_BUC) the decision was reached in, if any
    eessi_case_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("eessi_cases.id"))
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class StatusList(IdMixin, Base):
    """One token status list: ``size`` entries of two bits; ``version`` rises with every change so a
    served token is signed again only when something changed."""

    __tablename__ = "credential_status_lists"

    size: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class Credential(IdMixin, Base):
    """A PDA1 or EHIC issued to a person. ``claims`` are the credential's attributes as issued;
    the person is held beside them so the person's pages and staff find it."""

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("status_list_id", "status_index"),)

    document_number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[CredentialType] = mapped_column(str_enum(CredentialType, "credential_kind"))
    vct: Mapped[str] = mapped_column(String(100))
    person_scheme: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(20), index=True)
    claims: Mapped[dict[str, Any]] = mapped_column(JSONB)
    decision_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("legislation_decisions.id"), index=True)
    status_list_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("credential_status_lists.id"))
    status_index: Mapped[int] = mapped_column(Integer)
    state: Mapped[CredentialState] = mapped_column(str_enum(CredentialState, "credential_state"))
    valid_from: Mapped[dt.date] = mapped_column(Date)  # date_of_issuance
    valid_until: Mapped[dt.date] = mapped_column(Date)  # date_of_expiry
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())
    # each time a wallet collected it: the holder key it is bound to, and a digest of what was sent
    collections: Mapped[int] = mapped_column(Integer, default=0)
    holder_jwk: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    collected_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class CredentialEvent(IdMixin, Base):
    """The credential's history, never rewritten: issued, offered, collected, printed, suspended,
    reinstated, revoked — who, when and why."""

    __tablename__ = "credential_events"

    credential_pk: Mapped[int] = mapped_column(BigInteger, ForeignKey("credentials.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class CredentialOffer(IdMixin, Base):
    """An OpenID4VCI grant of one credential to a wallet: a pre-authorised code (traded with the
    transaction code the person was told apart), or an authorisation code the person gave their
    wallet after logging in with eID (traded with the PKCE verifier, by the same client and redirect
    URI). Either is traded for an access token once, before it expires."""

    __tablename__ = "credential_offers"
    __table_args__ = (Index("ix_credential_offers_token", "token_sha256", unique=True),)

    credential_pk: Mapped[int] = mapped_column(BigInteger, ForeignKey("credentials.id"), index=True)
    code_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    tx_code_sha256: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    failed_tx_codes: Mapped[int] = mapped_column(Integer, default=0)
    # the authorisation code flow: who asked, where the code went, and the PKCE challenge (S256)
    client_id: Mapped[str | None] = mapped_column(String(200))
    redirect_uri: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    token_sha256: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    token_expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # the credential was collected with it
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class IssuanceNonce(Base):
    """A c_nonce from the nonce endpoint: a wallet's key proof must carry one, and each is taken once."""

    __tablename__ = "credential_nonces"

    nonce_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class RequestPurpose(StrEnum):
    """What a presentation request is for."""

    INSPECT = "inspect"  # an inspector or a hospital checks a PDA1 or an EHIC (the verifier page)
    # a person designates the account for their public payments with their bank's account
    # attestation and their PID (the citizen's page); the request is theirs alone
    DESIGNATE_ACCOUNT = "designate_account"
    # a person logs in with the PID in their wallet; the request is bound to the browser that asked
    LOG_IN = "log_in"


class PresentationRequest(IdMixin, Base):
    """A verifier's OpenID4VP request: what it asks for, the nonce and state a wallet's answer must
    carry, and once answered, the outcome (valid or not, why, what was disclosed)."""

    __tablename__ = "presentation_requests"
    __table_args__ = (
        CheckConstraint(
            "(purpose = 'inspect' AND kind IS NOT NULL) OR "
            "(purpose = 'designate_account' AND person_id IS NOT NULL AND actor IS NOT NULL) OR "
            "(purpose = 'log_in' AND browser_sha256 IS NOT NULL)",
            name="purpose_fields",
        ),
    )

    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[RequestPurpose] = mapped_column(str_enum(RequestPurpose, "purpose"))
    kind: Mapped[CredentialType | None] = mapped_column(str_enum(CredentialType, "presentation_kind"))
    # the person a designation request was made for, and who made it (their session)
    person_scheme: Mapped[str | None] = mapped_column(String(32))
    person_id: Mapped[str | None] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(100))
    browser_sha256: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # a login's browser (its cookie's hash)
    nonce: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, server_default=func.now())


class CachedStatusList(Base):
    """A status list the verifier fetched: used while fresh (its ttl), and when it cannot be fetched
    again (offline), until it expires, with its age shown."""

    __tablename__ = "verifier_status_lists"

    uri: Mapped[str] = mapped_column(String(500), primary_key=True)
    token: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
