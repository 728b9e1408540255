"""ISO 20022 external codes Saldo reads from banks, with the plain-language meaning shown to payers.

Status reason and return reason codes come from the ISO external code sets
(ExternalStatusReason1Code, ExternalReturnReason1Code); the list holds those Nordic and SEPA banks
use for credit transfers. An unknown code is kept as reported and explained as such, never guessed."""

from __future__ import annotations

REASONS: dict[str, str] = {
    "AC01": "incorrect account number",
    "AC03": "invalid creditor account number",
    "AC04": "closed account number",
    "AC06": "blocked account",
    "AC13": "invalid debtor account type",
    "AG01": "transaction forbidden on this account",
    "AG02": "invalid bank operation code",
    "AGNT": "incorrect agent",
    "AM01": "zero amount",
    "AM02": "amount above the allowed maximum",
    "AM04": "insufficient funds",
    "AM05": "duplication",
    "AM09": "wrong amount",
    "BE01": "creditor name does not match the account holder",
    "BE04": "missing creditor address",
    "BE05": "unrecognised initiating party",
    "CURR": "incorrect currency",
    "CUST": "requested by the customer",
    "DT01": "invalid date",
    "DUPL": "duplicate payment",
    "ED05": "settlement failed",
    "FF01": "invalid file format",
    "FOCR": "following a cancellation request",
    "MD07": "the payee has died",
    "MS02": "reason not specified (payee)",
    "MS03": "reason not specified (bank)",
    "NARR": "see the bank's narrative",
    "RC01": "incorrect bank identifier",
    "RR01": "missing debtor account or identification",
    "RR02": "missing debtor name or address",
    "RR03": "missing creditor name or address",
    "RR04": "regulatory reason",
    "TM01": "received after the cut-off time",
}

# ExternalPaymentTransactionStatus1Code / ExternalPaymentGroupStatus1Code values that mean the bank
# refused; every other status (ACCP, ACSP, ACSC, ACTC, ACWC, PDNG, RCVD, PART) leaves a sent payment sent.
REJECTED = "RJCT"


def explain(code: str | None) -> str:
    """A reason code with its meaning, e.g. 'AC04 (closed account number)'."""
    if not code:
        return "no reason given"
    meaning = REASONS.get(code)
    return f"{code} ({meaning})" if meaning else f"{code} (a code Saldo does not know)"
