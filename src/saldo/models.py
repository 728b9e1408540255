"""Every domain's tables, imported once so ``Base.metadata`` is complete (Alembic, tests)."""

from saldo.accounts.models import AccountDesignation, AccountEvent, AccountHolder, BankAccount, BankFile, Letter
from saldo.banks.models import Bank, BankToken
from saldo.benefits.models import Benefit, BenefitExclusion
from saldo.db.base import Base
from saldo.mediation.models import BankMessage, PaymentFile, PaymentRun, UnmatchedEntry
from saldo.payees.models import Payee
from saldo.payers.models import ApiToken, Payer, PayerBenefit
from saldo.payments.models import Payment, PaymentBatch, PaymentEvent, PaymentHold

__all__ = [
    "AccountDesignation",
    "AccountEvent",
    "AccountHolder",
    "ApiToken",
    "Bank",
    "BankAccount",
    "BankFile",
    "BankMessage",
    "BankToken",
    "Base",
    "Benefit",
    "BenefitExclusion",
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
    "UnmatchedEntry",
]
