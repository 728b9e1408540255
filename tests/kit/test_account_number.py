"""Account identifiers: IBAN via schwifty, Swedish clearing + account via bankkonto, Bankgiro."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saldo.kit import account_number
from saldo.kit.account_number import AccountScheme, InvalidAccountError, normalize_account
from saldo.kit.money import Money


@pytest.mark.parametrize(
    ("scheme", "raw", "canonical"),
    [
        (AccountScheme.IBAN, "SE45 5000 0000 0583 9825 7466", "SE4550000000058398257466"),
        (AccountScheme.IBAN, "se4550000000058398257466", "SE4550000000058398257466"),
        (AccountScheme.IBAN, "FI21 1234 5600 0007 85", "FI2112345600000785"),
        (AccountScheme.IBAN, "DK50 0040 0440 1162 43", "DK5000400440116243"),
        (AccountScheme.SE_CLEARING, "5491-0000003", "5491-0000003"),
        (AccountScheme.SE_CLEARING, "5491 000 000 3", "5491-0000003"),
        (AccountScheme.SE_CLEARING, "3300 811228-9874", "3300-8112289874"),
        (AccountScheme.SE_BANKGIRO, "5050-1055", "50501055"),
    ],
)
def test_valid_accounts_are_normalised(scheme: AccountScheme, raw: str, canonical: str) -> None:
    assert normalize_account(scheme, raw).number == canonical


@pytest.mark.parametrize(
    ("scheme", "raw", "reason"),
    [
        (AccountScheme.IBAN, "SE45 5000 0000 0583 9825 7467", "checksum"),
        (AccountScheme.IBAN, "XX00", "IBAN"),
        (AccountScheme.SE_CLEARING, "1234", "clearing number and account number"),
        (AccountScheme.SE_CLEARING, "0999-1234567", "Swedish bank account"),
        (AccountScheme.SE_BANKGIRO, "5050-1056", "check digit"),
        (AccountScheme.SE_BANKGIRO, "12", "7 or 8 digits"),
        (AccountScheme.IBAN, "   ", "empty"),
    ],
)
def test_invalid_accounts_say_why(scheme: AccountScheme, raw: str, reason: str) -> None:
    with pytest.raises(InvalidAccountError, match=reason):
        normalize_account(scheme, raw)


def _schwifty_verdict(raw: str) -> str | None:
    try:
        return account_number._normalize_account(AccountScheme.IBAN, raw).number
    except InvalidAccountError:
        return None


@settings(max_examples=3000, deadline=None)
@given(check=st.integers(0, 99), bban=st.from_regex(r"[0-9]{20}", fullmatch=True))
def test_fast_iban_path_gives_the_same_verdict_as_schwifty(check: int, bban: str) -> None:
    raw = f"SE{check:02d}{bban}"
    fast = account_number._fast_se_iban(raw)
    assert (fast.number if fast else None) == _schwifty_verdict(raw)


class TestMoney:
    def test_amount_is_shown_with_the_currency_exponent(self) -> None:
        assert Money(123450, "SEK").format() == "1\u202f234.50 SEK"
        assert Money(5000, "ISK").format() == "5\u202f000 ISK"

    def test_unknown_currency_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unsupported currency"):
            Money(1, "XYZ")
