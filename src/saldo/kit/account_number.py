"""Bank account identifiers: IBAN (schwifty), Swedish clearing + account number (bankkonto) and
Bankgiro numbers, each validated and normalised to one canonical text form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import bankkonto
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError

from saldo.kit.problem import ProblemError


class AccountScheme(StrEnum):
    IBAN = "iban"
    SE_CLEARING = "se_clearing"
    SE_BANKGIRO = "se_bankgiro"


class InvalidAccountError(ProblemError, ValueError):
    """The account identifier does not pass its scheme's format or check-digit rules."""

    status = 422
    error = "invalid_account"


@dataclass(frozen=True, slots=True)
class AccountNumber:
    scheme: AccountScheme
    number: str  # canonical: IBAN compact upper case; "CCCC-AAAAAAA" for clearing; digits for Bankgiro


_SEPARATORS = re.compile(r"[\s.\-]")


def _iban(raw: str) -> str:
    try:
        return str(IBAN(raw).compact)
    except SchwiftyException as exc:
        raise InvalidAccountError(f"not a valid IBAN: {str(exc).rstrip('.').lower()}") from exc


def _se_clearing(raw: str) -> str:
    # Accepted as "CCCC-AAAAAAA", "CCCC AAAAAAA", "CCCC, AAAAAAA" and Swedbank's "8CCC-K, AAAAAAAAAA"
    # (five-digit clearing number with its own check digit, as printed on Swedbank statements).
    text = raw.strip()
    parts = text.split(",", 1) if "," in text else re.split(r"[\s\-]+", text, maxsplit=1)
    clearing, account = (_SEPARATORS.sub("", p) for p in parts) if len(parts) == 2 else ("", "")
    if not (clearing.isdigit() and account.isdigit() and len(clearing) in (4, 5)):
        raise InvalidAccountError("a Swedish account is clearing number and account number, e.g. 5491-0000003")
    try:
        bankkonto.validate(clearing, account)
    except (bankkonto.BankkontoException, ValueError) as exc:
        raise InvalidAccountError(f"not a valid Swedish bank account: {str(exc).rstrip('.').lower()}") from exc
    return f"{clearing}-{account}"


def _se_bankgiro(raw: str) -> str:
    digits = _SEPARATORS.sub("", raw)
    if not digits.isdigit() or len(digits) not in (7, 8):
        raise InvalidAccountError("a Bankgiro number has 7 or 8 digits, e.g. 5050-1055")
    try:
        luhn.validate(digits)  # Bankgirot: the last digit is a modulus-10 (Luhn) check digit
    except StdnumError as exc:
        raise InvalidAccountError("not a valid Bankgiro number: the check digit is wrong") from exc
    return digits


_NORMALIZERS = {
    AccountScheme.IBAN: _iban,
    AccountScheme.SE_CLEARING: _se_clearing,
    AccountScheme.SE_BANKGIRO: _se_bankgiro,
}


def _fast_se_iban(raw: str) -> AccountNumber | None:
    """A compact Swedish IBAN (SE + 22 digits) with correct ISO 7064 check digits, else None.

    schwifty checks exactly this for Sweden (structure, length, mod 97); the shortcut skips its
    parsing for the form payment files carry. tests/kit/test_account_number.py holds the two to the
    same verdict."""
    if len(raw) != 24 or not raw.startswith("SE") or not raw[2:].isdigit() or not raw.isascii():
        return None
    if not "02" <= raw[2:4] <= "98":  # ISO 13616: check digits 00, 01 and 99 are never issued
        return None
    if int(raw[4:] + "2814" + raw[2:4]) % 97 != 1:
        return None
    return AccountNumber(AccountScheme.IBAN, raw)


def normalize_account(scheme: AccountScheme, raw: str) -> AccountNumber:
    """Validate ``raw`` under ``scheme`` and return it in canonical form, or raise InvalidAccountError."""
    if scheme is AccountScheme.IBAN:
        fast = _fast_se_iban(raw)
        if fast is not None:
            return fast
    return _normalize_account(scheme, raw)


@lru_cache(maxsize=100_000)  # the accounts that need the full parse recur: validate each once
def _normalize_account(scheme: AccountScheme, raw: str) -> AccountNumber:
    if not raw or not raw.strip():
        raise InvalidAccountError("the account number is empty")
    return AccountNumber(scheme, _NORMALIZERS[scheme](raw))
