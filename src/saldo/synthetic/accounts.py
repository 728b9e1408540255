"""The synthetic country's bank account register: which bank holds whose account, since when, and
the old closed accounts people leave behind. Payments then carry a few wrong accounts (someone
else's, a closed one, one no bank knows) so the pre-payment check has something real to catch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from saldo.synthetic.population import Population, distinct_numbers

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DateArray = npt.NDArray[np.datetime64]

# The banks behind the IBAN bank codes the population uses, and Bankgirot for organisations' Bankgiro numbers.
BANKS: dict[int, tuple[str, str]] = {
    500: ("ESSESESS", "Skandinaviska Enskilda Banken"),
    800: ("SWEDSESS", "Swedbank"),
    600: ("HANDSESS", "Handelsbanken"),
    300: ("NDEASESS", "Nordea"),
    120: ("DABASESX", "Danske Bank"),
    902: ("ELLFSESS", "Länsförsäkringar Bank"),
    927: ("IBCASES1", "ICA Banken"),
    915: ("SKIASESS", "Skandiabanken"),
}
BANKGIROT = ("BGABSESS", "Bankgirot")

CLOSED_ACCOUNT_RATE = 0.02  # holders who also have an old, closed account
# Shares of person payments sent to a wrong account: small, as in a payer's real files.
SOMEONE_ELSES_RATE = 0.002
CLOSED_RATE = 0.001
UNKNOWN_RATE = 0.0005
WRONG_KINDS = ("someone_elses", "closed", "unknown")


@dataclass(frozen=True)
class Register:
    opened: DateArray  # per person: when the current account opened (NaT without an account)
    closed_person: IntArray  # persons with an old closed account
    closed_bank: IntArray
    closed_number: IntArray
    closed_opened: DateArray
    closed_on: DateArray
    closed_index: IntArray  # per person: index into the closed_* arrays, -1 without an old account
    with_account: IntArray  # persons who hold a current account


def ibans(bank: IntArray, account: IntArray) -> pa.Array:
    """Swedish IBANs for bank codes and 17-digit account numbers (null where the bank code is 0)."""
    remainder = bank % 97
    for digits, chunk in ((9, account // 10**8), (8, account % 10**8), (6, np.full_like(account, 281400))):
        remainder = (remainder * 10**digits + chunk) % 97
    check = pc.utf8_lpad(pc.cast(pa.array(98 - remainder), pa.string()), 2, "0")
    number = pc.utf8_lpad(pc.cast(pa.array(account), pa.string()), 17, "0")
    iban = pc.binary_join_element_wise("SE", check, pc.cast(pa.array(bank), pa.string()), number, "")
    return pc.if_else(pa.array(bank > 0), iban, pa.scalar(None, pa.string()))


def generate_register(
    rng: np.random.Generator, population: Population, as_of: np.datetime64, *, taken: IntArray | None = None
) -> Register:
    """Opening dates for every current account and a few older accounts that have been closed; the
    closed accounts' numbers are none of the population's, nor of ``taken`` (other blocks' accounts)."""
    n = population.size
    sixteen = (population.birth.astype("datetime64[Y]") + 17).astype("datetime64[D]")  # accounts from 16
    earliest = np.minimum(np.maximum(sixteen, np.datetime64("1995-01-01")), as_of)
    span = np.maximum((as_of - np.timedelta64(30, "D") - earliest).astype(np.int64), 1)
    opened = np.minimum(earliest + (rng.random(n) * span).astype("timedelta64[D]"), as_of)
    # A joint account opened once: every holder shares the household head's date.
    same = population.account_number == population.account_number[population.household]
    opened = np.where(same & (population.account_bank > 0), opened[population.household], opened)
    opened = np.where(population.account_bank > 0, opened, np.datetime64("NaT"))
    holders = np.flatnonzero((population.account_bank > 0) & (rng.random(n) < CLOSED_ACCOUNT_RATE))
    closed_opened = np.datetime64("2005-01-01") + rng.integers(0, 3650, holders.size).astype("timedelta64[D]")
    closed_on = as_of - rng.integers(30, 720, holders.size).astype("timedelta64[D]")
    closed_index = np.full(n, -1, dtype=np.int64)
    closed_index[holders] = np.arange(holders.size)
    return Register(
        opened=opened,
        closed_index=closed_index,
        with_account=np.flatnonzero(population.account_bank > 0),
        closed_person=holders,
        closed_bank=population.account_bank[holders],
        closed_number=distinct_numbers(
            rng.integers(10**9, 10**11, holders.size).astype(np.int64),
            taken=population.account_number if taken is None else np.concatenate([taken, population.account_number]),
            stream=None if taken is None else taken.size + population.size,
        ),
        closed_opened=np.minimum(closed_opened, closed_on - np.timedelta64(1, "D")),
        closed_on=closed_on,
    )


def plant_wrong_accounts(
    rng: np.random.Generator, accounts: pa.Array, payees: IntArray, population: Population, register: Register
) -> tuple[pa.Array, dict[str, int]]:
    """Replace a few payments' accounts with wrong ones; the new accounts and how many of each kind."""
    n = payees.size
    draw = rng.random(n)
    someone = draw < SOMEONE_ELSES_RATE
    unknown = (draw >= SOMEONE_ELSES_RATE) & (draw < SOMEONE_ELSES_RATE + UNKNOWN_RATE)
    # Of those who have an old closed account, a few are still paid to it.
    closed = (
        (register.closed_index[payees] >= 0) & (rng.random(n) < CLOSED_RATE / CLOSED_ACCOUNT_RATE) & ~someone & ~unknown
    )
    other = register.with_account[rng.integers(0, register.with_account.size, n)]
    # Someone else's: another person's account that the payee does not share.
    someone &= population.account_number[other] != population.account_number[payees]
    bank = population.account_bank[payees].copy()
    number = population.account_number[payees].copy()
    bank[someone], number[someone] = population.account_bank[other[someone]], population.account_number[other[someone]]
    idx = register.closed_index[payees[closed]]
    bank[closed], number[closed] = register.closed_bank[idx], register.closed_number[idx]
    number[unknown] = rng.integers(10**11, 10**12, int(unknown.sum()))  # longer than any issued number
    replaced = someone | closed | unknown
    wrong = ibans(bank, number)
    result = pc.if_else(pa.array(replaced), wrong, accounts)
    counts = {"someone_elses": int(someone.sum()), "closed": int(closed.sum()), "unknown": int(unknown.sum())}
    return result, counts
