from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saldo.db.base import Base, CreatedAtMixin, IdMixin, TokenMixin
from saldo.db.types import UtcDateTime, str_enum
from saldo.kit.account_number import AccountScheme


class PayerKind(StrEnum):
    STATE_AGENCY = "state_agency"
    MUNICIPALITY = "municipality"
    REGION = "region"
    UNEMPLOYMENT_FUND = "unemployment_fund"


class ConnectionModel(StrEnum):
    """The three ways to connect proposed in SOU 2025:20."""

    FULL = "full"  # transaction account and data analysis
    ANALYSIS_ONLY = "analysis_only"  # data analysis only; pays out through its own bank
    TRANSACTION_ACCOUNT_ONLY = "transaction_account_only"  # e.g. payments to school providers

    @property
    def pays_through_saldo(self) -> bool:
        return self is not ConnectionModel.ANALYSIS_ONLY


class Payer(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "payers"

    organisation_number: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PayerKind] = mapped_column(str_enum(PayerKind, "kind"))
    connection_model: Mapped[ConnectionModel] = mapped_column(str_enum(ConnectionModel, "connection_model"))
    debtor_account_scheme: Mapped[AccountScheme] = mapped_column(str_enum(AccountScheme, "debtor_account_scheme"))
    debtor_account: Mapped[str] = mapped_column(String(40))
    # The bank that holds the debtor account: its payment files go to that bank, and only that bank's
    # answers move its payments. None: the bank whose ranges hold the account (IBAN, clearing number).
    bank_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("banks.id"))


class PayerBenefit(Base):
    """A benefit the payer is entitled to pay."""

    __tablename__ = "payer_benefits"

    payer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payers.id"), primary_key=True)
    benefit_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("benefits.id"), primary_key=True)


class ApiToken(IdMixin, CreatedAtMixin, TokenMixin, Base):
    """A payer's API credential."""

    __tablename__ = "api_tokens"

    payer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payers.id"), index=True)


class PayerUser(IdMixin, CreatedAtMixin, Base):
    """A person who works for a payer in Saldo's pages (uploads files, answers requests), known by the
    national identifier their eID gives. A person is a user of one payer at most."""

    __tablename__ = "payer_users"
    __table_args__ = (UniqueConstraint("person_scheme", "person_id"),)

    payer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payers.id"), index=True)
    person_scheme: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
