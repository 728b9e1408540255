"""Every domain's tables, imported once so ``Base.metadata`` is complete (Alembic, tests)."""

from saldo.accounts.models import AccountDesignation, AccountEvent, AccountHolder, BankAccount, BankFile, Letter
from saldo.analysis.models import AnalysisRun, Finding, Snapshot
from saldo.banks.models import Bank, BankToken
from saldo.benefits.models import Benefit, BenefitExclusion
from saldo.db.base import Base
from saldo.decisions.models import Decision
from saldo.mediation.models import BankMessage, PaymentFile, PaymentRun, UnmatchedEntry
from saldo.payees.models import Payee
from saldo.payers.models import ApiToken, Payer, PayerBenefit
from saldo.payments.models import Payment, PaymentBatch, PaymentEvent, PaymentHold
from saldo.registers.models import IncomeRecord, PopulationRecord, RegisterLoad

__all__ = [
    "AccountDesignation",
    "AccountEvent",
    "AccountHolder",
    "AnalysisRun",
    "ApiToken",
    "Bank",
    "BankAccount",
    "BankFile",
    "BankMessage",
    "BankToken",
    "Base",
    "Benefit",
    "BenefitExclusion",
    "Decision",
    "Finding",
    "IncomeRecord",
    "Letter",
    "Payee",
    "Payer",
    "PayerBenefit",
    "Payment",
    "PaymentBatch",
    "PaymentEvent",
    "PaymentFile",
    "PaymentHold",
    "PaymentRun",
    "PopulationRecord",
    "RegisterLoad",
    "Snapshot",
    "UnmatchedEntry",
]
