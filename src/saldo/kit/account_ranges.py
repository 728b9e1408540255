"""Which bank holds an account number: the ranges of account numbers each bank holds.

An account number's *range key* is the part of it that names its bank:

- a Swedish account (``se_clearing``): its clearing number's first four digits, e.g. ``5491``;
- an IBAN: its country and national bank code, e.g. ``SE500`` or ``DK0040``;
- a Bankgiro number (``se_bankgiro``): the whole number, eight digits, e.g. ``50501055``
  (Bankgiro numbers carry no bank; Bankgirot holds them all).

A range is written ``<scheme>:<first>[-<last>]`` — ``se_clearing:5000-5999``, ``iban:SE500``,
``se_bankgiro:00000000-99999999`` — and holds every key of the same length between its ends.

When a bank is connected without ranges, they come from the published registers: its IBAN bank
codes from the national bank registries that schwifty carries (by BIC), its Swedish clearing
numbers from the Swedish Bankers' Association's list that bankkonto carries (by the bank's name in
the Swedish registry). The register keeps each bank's ranges (saldo.banks); see
docs/decisions/0016-banks-hold-account-ranges.md."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bankkonto.clearing import get_clearing_ranges_for_bank
from bankkonto.exceptions import BankkontoException
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from schwifty.registry import get_banks_by_bic

from saldo.kit.account_number import AccountNumber, AccountScheme

ALL_BANKGIRO = ("00000000", "99999999")
# Bankgirot keeps the register of Bankgiro numbers; no other party may report one.
BANKGIRO_REGISTER_KEEPERS = frozenset({"BGABSESS"})

_KEY_PATTERNS = {
    AccountScheme.SE_CLEARING: re.compile(r"^[0-9]{4}$"),
    AccountScheme.IBAN: re.compile(r"^[A-Z]{2}[0-9A-Z]{1,12}$"),
    AccountScheme.SE_BANKGIRO: re.compile(r"^[0-9]{8}$"),
}


class InvalidRangeError(ValueError):
    """A range that cannot be read."""


@dataclass(frozen=True, slots=True)
class AccountRange:
    scheme: AccountScheme
    first: str
    last: str

    def holds(self, scheme: AccountScheme, key: str) -> bool:
        return scheme is self.scheme and len(key) == len(self.first) and self.first <= key <= self.last

    def overlaps(self, other: AccountRange) -> bool:
        return (
            self.scheme is other.scheme
            and len(self.first) == len(other.first)
            and self.first <= other.last
            and other.first <= self.last
        )

    def __str__(self) -> str:
        ends = self.first if self.first == self.last else f"{self.first}-{self.last}"
        return f"{self.scheme.value}:{ends}"


def range_key(account: AccountNumber) -> str:
    """The part of a canonical account number that names its bank (see the module's text)."""
    if account.scheme is AccountScheme.SE_CLEARING:
        return account.number[:4]
    if account.scheme is AccountScheme.SE_BANKGIRO:
        return account.number.zfill(8)
    if account.number.startswith("SE") and len(account.number) == 24:
        return account.number[:2] + account.number[4:7]  # Sweden: three-digit bank code after the check digits
    try:
        return account.number[:2] + str(IBAN(account.number).bank_code)
    except SchwiftyException:
        return account.number[:2]


def parse_range(text: str) -> AccountRange:
    """``<scheme>:<first>[-<last>]``, e.g. ``se_clearing:5000-5999`` or ``iban:SE500``."""
    scheme_text, sep, ends = text.strip().partition(":")
    try:
        scheme = AccountScheme(scheme_text.strip().lower())
    except ValueError:
        known = ", ".join(s.value for s in AccountScheme)
        raise InvalidRangeError(f"range {text!r}: unknown scheme {scheme_text!r}; one of {known}") from None
    first, _, last = ends.strip().upper().partition("-")
    last = last or first
    pattern = _KEY_PATTERNS[scheme]
    if not sep or not pattern.match(first) or not pattern.match(last) or len(first) != len(last) or first > last:
        raise InvalidRangeError(
            f"range {text!r}: write {scheme.value}:<first>-<last>, e.g. {example_range(scheme)}, "
            "with both ends of one length and the first no greater than the last"
        )
    return AccountRange(scheme, first, last)


def example_range(scheme: AccountScheme) -> str:
    return {
        AccountScheme.SE_CLEARING: "se_clearing:5000-5999",
        AccountScheme.IBAN: "iban:SE500",
        AccountScheme.SE_BANKGIRO: "se_bankgiro:00000000-99999999",
    }[scheme]


def published_ranges(bic: str) -> list[AccountRange]:
    """The ranges the published registers give the bank with this BIC (empty if they know none)."""
    if bic in BANKGIRO_REGISTER_KEEPERS:
        return [AccountRange(AccountScheme.SE_BANKGIRO, *ALL_BANKGIRO)]
    entries = get_banks_by_bic(bic)
    if not entries and len(bic) == 11 and bic.endswith("XXX"):  # the head office's BIC, in its long form
        entries = get_banks_by_bic(bic[:8])
    ranges: list[AccountRange] = []
    for entry in entries:
        code = f"{entry.country_code}{entry.bank_code}".upper()
        ranges.append(AccountRange(AccountScheme.IBAN, code, code))
        if entry.country_code == "SE":
            try:
                clearing = get_clearing_ranges_for_bank(entry.name)
            except BankkontoException:
                clearing = ()
            ranges.extend(AccountRange(AccountScheme.SE_CLEARING, f"{lo:04d}", f"{hi:04d}") for lo, hi in clearing)
    return sorted(set(ranges), key=lambda r: (r.scheme.value, r.first))
