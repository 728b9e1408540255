"""Money is an integer number of minor units plus an ISO 4217 currency. Never a float."""

from __future__ import annotations

from dataclasses import dataclass

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
