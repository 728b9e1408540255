"""Money written as text and read back: every amount, negative ones included, round-trips exactly;
only plain ASCII decimals are read (no sign, no full-width or superscript digits), and a decimal
with more places than its currency has is refused rather than rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saldo.kit.money import CURRENCY_EXPONENTS, from_decimal_text, to_decimal_text

CURRENCIES = st.sampled_from(sorted(CURRENCY_EXPONENTS))
AMOUNTS = st.integers(min_value=-(10**15), max_value=10**15)


@given(AMOUNTS, CURRENCIES)
def test_text_is_the_exact_decimal_value_of_the_minor_units(amount: int, currency: str) -> None:
    text = to_decimal_text(amount, currency)
    assert Decimal(text) * 10 ** CURRENCY_EXPONENTS[currency] == amount
    assert to_decimal_text(-amount, currency) == (text[1:] if text.startswith("-") else f"-{text}" if amount else text)


@given(st.integers(min_value=0, max_value=10**15), CURRENCIES)
def test_a_non_negative_amount_round_trips(amount: int, currency: str) -> None:
    assert from_decimal_text(to_decimal_text(amount, currency), currency) == amount


def test_a_few_ore_below_zero_are_written_as_such() -> None:
    assert to_decimal_text(-5, "SEK") == "-0.05"
    assert to_decimal_text(-12345, "EUR") == "-123.45"


@pytest.mark.parametrize(
    "text", ["\uff11\uff12\uff13", "12.\uff15", "²", "-5", "+5", "1,5", "1.", ".5", "", "1e3", "١٢٣"]
)
def test_only_plain_ascii_decimals_are_read(text: str) -> None:
    with pytest.raises(ValueError, match="not a plain decimal amount"):
        from_decimal_text(text, "SEK")


@given(st.text(max_size=20), CURRENCIES)
def test_any_text_is_read_or_refused_with_a_value_error(text: str, currency: str) -> None:
    try:
        amount = from_decimal_text(text, currency)
    except ValueError:
        return
    assert amount >= 0
    assert Decimal(text.strip()) * 10 ** CURRENCY_EXPONENTS[currency] == amount
