"""Every domain's tables, imported once so ``Base.metadata`` is complete (Alembic, tests)."""

from saldo.accesslog.models import AccessLogEntry
from saldo.accounts.models import AccountDesignation, AccountEvent, AccountHolder, BankAccount, BankFile, Letter
from saldo.analysis.models import AnalysisRun, Finding, RuleModeChange, Snapshot
from saldo.banks.models import Bank, BankToken
from saldo.benefits.models import Benefit, BenefitExclusion
from saldo.cases.models import Case, CaseEvent, CaseFinding, CasePerson, FindingReview
from saldo.credentials.models import (
    CachedStatusList,
    Credential,
    CredentialEvent,
    CredentialOffer,
    IssuanceNonce,
    LegislationDecision,
    PresentationRequest,
    StatusList,
)
from saldo.crossborder.models import ForeignLink, ForeignLogin
from saldo.db.base import Base
from saldo.decisions.models import Decision
from saldo.eessi.models import CrossBorderCase, CrossBorderDocument, CrossBorderFact
from saldo.identity.models import LoginAttempt, WebSession
from saldo.inforequests.models import InformationAnswer, InformationRequest
from saldo.mediation.models import BankMessage, PaymentFile, PaymentRun, UnmatchedEntry
from saldo.messages.models import MessageCounter, PayerMessage, Webhook
from saldo.notifications.models import Notification, NotificationOutcome
from saldo.onceonly.models import EvidenceExchange, ExchangeMessage
from saldo.payees.models import Payee
from saldo.payers.models import ApiToken, Payer, PayerBenefit
from saldo.payments.models import (
    ArchivedPaymentKey,
    ArchivedPaymentYear,
    ArchivedRunTotal,
    ArchivedStatusTotal,
    Payment,
    PaymentBatch,
    PaymentEvent,
    PaymentEventMoment,
    PaymentEventNote,
    PaymentHold,
)
from saldo.procedures.models import Application
from saldo.registers.models import IncomeRecord, PopulationRecord, RegisterLoad
from saldo.staff.models import StaffMember, StaffToken

__all__ = [
    "AccessLogEntry",
    "AccountDesignation",
    "AccountEvent",
    "AccountHolder",
    "AnalysisRun",
    "ApiToken",
    "Application",
    "ArchivedPaymentKey",
    "ArchivedPaymentYear",
    "ArchivedRunTotal",
    "ArchivedStatusTotal",
    "Bank",
    "BankAccount",
    "BankFile",
    "BankMessage",
    "BankToken",
    "Base",
    "Benefit",
    "BenefitExclusion",
    "CachedStatusList",
    "Case",
    "CaseEvent",
    "CaseFinding",
    "CasePerson",
    "Credential",
    "CredentialEvent",
    "CredentialOffer",
    "CrossBorderCase",
    "CrossBorderDocument",
    "CrossBorderFact",
    "Decision",
    "EvidenceExchange",
    "ExchangeMessage",
    "Finding",
    "FindingReview",
    "ForeignLink",
    "ForeignLogin",
    "IncomeRecord",
    "InformationAnswer",
    "InformationRequest",
    "IssuanceNonce",
    "LegislationDecision",
    "Letter",
    "LoginAttempt",
    "MessageCounter",
    "Notification",
    "NotificationOutcome",
    "Payee",
    "Payer",
    "PayerBenefit",
    "PayerMessage",
    "Payment",
    "PaymentBatch",
    "PaymentEvent",
    "PaymentEventMoment",
    "PaymentEventNote",
    "PaymentFile",
    "PaymentHold",
    "PaymentRun",
    "PopulationRecord",
    "PresentationRequest",
    "RegisterLoad",
    "RuleModeChange",
    "Snapshot",
    "StaffMember",
    "StaffToken",
    "StatusList",
    "UnmatchedEntry",
    "WebSession",
    "Webhook",
]
