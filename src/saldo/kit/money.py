"""Money is an integer number of minor units plus an ISO 4217 currency. Never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLAIN_DECIMAL = re.compile(
    r"([0-9]+)(?:\.([0-9]+))?"
)  # ASCII digits only: no sign, no full-width or superscript digits

# Minor-unit exponents of the currencies Saldo pays in (ISO 4217). ISK has no minor unit.
CURRENCY_EXPONENTS: dict[str, int] = {
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "EUR": 2,
    "ISK": 0,
}


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if self.currency not in CURRENCY_EXPONENTS:
            raise ValueError(f"unsupported currency {self.currency!r}")

    def format(self) -> str:
        """Human-readable amount with the currency's minor-unit exponent, e.g. '1 234.50 SEK'."""
        exponent = CURRENCY_EXPONENTS[self.currency]
        sign = "-" if self.amount_minor < 0 else ""
        major, minor = divmod(abs(self.amount_minor), 10**exponent)
        whole = f"{major:,}".replace(",", "\u202f")
        return f"{sign}{whole}.{minor:0{exponent}d} {self.currency}" if exponent else f"{sign}{whole} {self.currency}"


def to_decimal_text(amount_minor: int, currency: str) -> str:
    """The amount as a plain decimal in major units, as ISO 20022 writes it: 123450 SEK -> '1234.50'."""
    exponent = CURRENCY_EXPONENTS[currency]
    if not exponent:
        return str(amount_minor)
    sign = "-" if amount_minor < 0 else ""  # divmod of a negative amount would give -5 öre as "-1.95"
    major, minor = divmod(abs(amount_minor), 10**exponent)
    return f"{sign}{major}.{minor:0{exponent}d}"


def from_decimal_text(text: str, currency: str) -> int:
    """The amount in minor units of a decimal in major units ('1234.5' SEK -> 123450). Refuses an
    unknown currency, a sign, and more decimals than the currency has, rather than rounding."""
    if currency not in CURRENCY_EXPONENTS:
        raise ValueError(f"unsupported currency {currency!r}")
    exponent = CURRENCY_EXPONENTS[currency]
    plain = _PLAIN_DECIMAL.fullmatch(text.strip())
    if plain is None:
        raise ValueError(f"not a plain decimal amount: {text!r}")
    whole, fraction = plain.group(1), plain.group(2) or ""
    digits = fraction.rstrip("0")
    if len(digits) > exponent:
        raise ValueError(f"{text} has more decimals than {currency} has ({exponent})")
    return int(whole + digits.ljust(exponent, "0"))
