"""Persons, households, addresses and bank accounts of the synthetic country, as NumPy columns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from saldo.synthetic.names import FEMALE_NAMES, MALE_NAMES, STREETS, SURNAMES

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DateArray = npt.NDArray[np.datetime64]
NO_DATE = np.datetime64("NaT")


@dataclass(frozen=True)
class Municipality:
    code: str  # SCB municipality code
    name: str
    orgnr_prefix: str  # first nine digits; the check digit is computed
    share: float  # of the synthetic population
    postal_prefix: str
    region: int  # index into REGIONS


REGIONS: tuple[tuple[str, str], ...] = (
    ("Region Stockholm", "232100001"),
    ("Västra Götalandsregionen", "232100013"),
    ("Region Skåne", "232100025"),
)
MUNICIPALITIES: tuple[Municipality, ...] = (
    Municipality("0180", "Stockholms kommun", "212000014", 0.30, "11", 0),
    Municipality("0184", "Solna kommun", "212000027", 0.03, "17", 0),
    Municipality("0181", "Södertälje kommun", "212000006", 0.04, "15", 0),
    Municipality("0126", "Huddinge kommun", "212000007", 0.04, "14", 0),
    Municipality("1480", "Göteborgs kommun", "212000135", 0.20, "41", 1),
    Municipality("1490", "Borås kommun", "212000153", 0.04, "50", 1),
    Municipality("1488", "Trollhättans kommun", "212000154", 0.02, "46", 1),
    Municipality("1280", "Malmö kommun", "212000112", 0.13, "21", 2),
    Municipality("1283", "Helsingborgs kommun", "212000106", 0.06, "25", 2),
    Municipality("1281", "Lunds kommun", "212000122", 0.06, "22", 2),
    Municipality("1290", "Kristianstads kommun", "212000096", 0.04, "29", 2),
    Municipality("1287", "Trelleborgs kommun", "212000117", 0.04, "23", 2),
)
# Bank codes in Swedish IBANs with rough market shares (SEB, Swedbank, Handelsbanken, Nordea,
# Danske Bank, Länsförsäkringar, ICA Banken, Skandiabanken).
BANK_CODES = np.array([500, 800, 600, 300, 120, 902, 927, 915])
BANK_SHARES = np.array([0.17, 0.28, 0.18, 0.22, 0.04, 0.06, 0.03, 0.02])


def with_luhn(prefixes: IntArray, length: int) -> IntArray:
    """Append a Luhn (modulus 10) check digit to ``length``-digit numbers: personnummer, Bankgiro, orgnr."""
    total = np.zeros(prefixes.shape, dtype=np.int64)
    rest = prefixes.copy()
    for position in range(length):  # rightmost digit first; it gets weight 2
        digit = rest % 10
        rest //= 10
        doubled = digit * (2 if position % 2 == 0 else 1)
        total += doubled - 9 * (doubled > 9)
    return prefixes * 10 + (10 - total % 10) % 10


def luhn_orgnr(prefix9: str) -> str:
    return str(int(with_luhn(np.array([int(prefix9)], dtype=np.int64), 9)[0]))


@dataclass
class Population:
    as_of: dt.date
    pnr: IntArray  # canonical 12 digits as an integer
    coordination: BoolArray  # samordningsnummer
    male: BoolArray
    birth: DateArray
    death: DateArray  # NaT when alive on as_of
    emigrated: DateArray  # NaT when never emigrated
    immigrated: DateArray  # NaT when born here or arrived long ago
    given: IntArray  # index into the sex's name list
    surname: IntArray
    household: IntArray
    guardian: IntArray  # for children: index of the parent who receives child benefits; -1 otherwise
    municipality: IntArray
    street: IntArray
    street_number: IntArray
    postal_code: IntArray
    account_bank: IntArray  # IBAN bank code; 0 for persons without an account (young children)
    account_number: IntArray  # 17-digit account part of the IBAN

    @property
    def size(self) -> int:
        return int(self.pnr.shape[0])

    def age_on(self, day: np.datetime64) -> IntArray:
        return ((day - self.birth).astype("timedelta64[D]").astype(np.int64) // 365.25).astype(np.int64)

    def present_on(self, day: np.datetime64) -> BoolArray:
        """Alive and living in Sweden on ``day``."""
        alive = np.isnat(self.death) | (self.death > day)
        here = np.isnat(self.emigrated) | (self.emigrated > day)
        arrived = np.isnat(self.immigrated) | (self.immigrated <= day)
        born = self.birth <= day
        result: BoolArray = alive & here & arrived & born
        return result

    def names(self, index: IntArray) -> npt.NDArray[np.str_]:
        male = np.array(MALE_NAMES)[self.given[index] % len(MALE_NAMES)]
        female = np.array(FEMALE_NAMES)[self.given[index] % len(FEMALE_NAMES)]
        given = np.where(self.male[index], male, female)
        return np.char.add(np.char.add(given, " "), np.array(SURNAMES)[self.surname[index]])

    def street_names(self) -> npt.NDArray[np.str_]:
        return np.array(STREETS)[self.street]


def zipf_choice(rng: np.random.Generator, options: int, size: int, exponent: float = 0.9) -> IntArray:
    weights = 1.0 / np.arange(1, options + 1) ** exponent
    return rng.choice(options, size=size, p=weights / weights.sum()).astype(np.int64)


def generate_population(
    rng: np.random.Generator,
    persons: int,
    as_of: dt.date,
    *,
    ranks: IntArray | None = None,
    taken_accounts: IntArray | None = None,
) -> Population:
    """A Swedish-shaped population: age pyramid, households, addresses, deaths and migration.

    A block of a larger country passes what the blocks before it hold: the serial numbers given for
    each birth date (``ranks``, see ``birth_ranks``, counted on here) and the account numbers in use,
    so that its identifiers and accounts are unique in the whole country."""
    today = np.datetime64(as_of, "D")
    ages = np.arange(101)
    weights = np.where(ages < 70, 1.2, 1.2 * np.exp(-(ages - 70) / 9.0))
    age = rng.choice(ages, size=persons, p=weights / weights.sum())
    birth = today - (age * 365.25 + rng.integers(1, 365, size=persons)).astype("timedelta64[D]")
    male = rng.random(persons) < 0.5
    coordination = (age >= 18) & (rng.random(persons) < 0.015)
    pnr = _personnummer(birth, male, coordination, ranks=ranks)

    municipality = rng.choice(len(MUNICIPALITIES), size=persons, p=[m.share for m in MUNICIPALITIES]).astype(np.int64)
    given = zipf_choice(rng, len(MALE_NAMES), persons)
    surname = zipf_choice(rng, len(SURNAMES), persons, exponent=0.7)
    household, guardian = _households(rng, age, municipality, surname)
    street = rng.integers(0, len(STREETS), size=persons).astype(np.int64)
    # Members of one household share an address: take the street of the household's first member.
    street = street[household]
    street_number = (rng.integers(1, 120, size=persons))[household].astype(np.int64)
    postal_code = (
        np.array([int(m.postal_prefix) * 1000 for m in MUNICIPALITIES])[municipality] + rng.integers(0, 999, persons)
    )[household].astype(np.int64)

    window = 365
    yearly_death = np.minimum(0.0009 * np.exp((age - 40) / 10.0), 0.35)
    dies = rng.random(persons) < yearly_death
    death = np.where(dies, today - rng.integers(1, window, persons).astype("timedelta64[D]"), NO_DATE)
    emigrates = (age >= 20) & (age <= 60) & (rng.random(persons) < 0.006)
    emigrated = np.where(emigrates, today - rng.integers(1, window, persons).astype("timedelta64[D]"), NO_DATE)
    immigrates = (rng.random(persons) < 0.02) & (age >= 1)
    arrival_days = rng.integers(1, 3650, persons)
    arrival_days = np.minimum(arrival_days, (today - birth).astype(np.int64) - 1)
    immigrated = np.where(immigrates, today - arrival_days.astype("timedelta64[D]"), NO_DATE)

    has_account = age >= 16
    bank = np.where(has_account, rng.choice(BANK_CODES, size=persons, p=BANK_SHARES), 0).astype(np.int64)
    account = distinct_numbers(
        rng.integers(10**9, 10**11, size=persons).astype(np.int64),
        taken=taken_accounts,
        stream=None if taken_accounts is None else taken_accounts.size,
    )
    # Some couples use one joint account for everything: a legitimate look-alike for the analysis.
    shares = has_account & (household != np.arange(persons)) & (age >= 18) & (rng.random(persons) < 0.08)
    head = household[shares]
    shares_with_adult = has_account[head]
    idx = np.flatnonzero(shares)[shares_with_adult]
    bank[idx] = bank[household[idx]]
    account[idx] = account[household[idx]]

    return Population(
        as_of=as_of,
        pnr=pnr,
        coordination=coordination,
        male=male,
        birth=birth,
        death=death,
        emigrated=emigrated,
        immigrated=immigrated,
        given=given,
        surname=surname,
        household=household,
        guardian=guardian,
        municipality=municipality,
        street=street,
        street_number=street_number,
        postal_code=postal_code,
        account_bank=bank,
        account_number=account,
    )


# A personnummer's serial is ranked within its birth date, sex and kind (``key`` below): the ranks
# given so far are counted per key from 1900 to 2100, for a country written in blocks.
_FIRST_KEY = int(np.datetime64("1900-01-01", "D").astype(np.int64)) * 4
_KEYS = (int(np.datetime64("2100-01-01", "D").astype(np.int64)) * 4) - _FIRST_KEY


def birth_ranks() -> IntArray:
    """Serial numbers given so far for each birth date, sex and kind: none."""
    return np.zeros(_KEYS, dtype=np.int64)


def _personnummer(
    birth: DateArray, male: BoolArray, coordination: BoolArray, *, ranks: IntArray | None = None
) -> IntArray:
    """Unique, valid personnummer/samordningsnummer: serials are ranked within (birth date, sex), after
    the ``ranks`` already given for each (which this counts on), if any."""
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    month = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    day_field = day + 60 * coordination
    key = birth.astype(np.int64) * 4 + male * 2 + coordination
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, key.size]))
    rank = np.empty_like(key)
    rank[order] = np.arange(key.size) - group_start
    if ranks is not None:
        slot = key - _FIRST_KEY
        rank += ranks[slot]
        ranks += np.bincount(slot, minlength=ranks.size)
    if rank.max(initial=0) >= 500:
        raise ValueError("too many persons born on one day for unique serial numbers")
    serial = 2 * ((rank * 37 + key) % 500) + male  # the ninth digit is odd for men, even for women
    ten = (year % 100) * 10**7 + month * 10**5 + day_field * 10**3 + serial
    check_digit = with_luhn(ten, 9) % 10
    result: IntArray = (year * 10**8 + month * 10**6 + day_field * 10**4 + serial * 10 + check_digit).astype(np.int64)
    return result


def _households(
    rng: np.random.Generator, age: IntArray, municipality: IntArray, surname: IntArray
) -> tuple[IntArray, IntArray]:
    """Pair adults into couples and give every child a parent in the same municipality."""
    n = age.size
    household = np.arange(n, dtype=np.int64)
    adults = np.flatnonzero((age >= 22) & (age <= 85))
    adults = adults[np.lexsort((rng.random(adults.size), municipality[adults]))]
    pairs = adults[: adults.size // 2 * 2].reshape(-1, 2)
    same_place = municipality[pairs[:, 0]] == municipality[pairs[:, 1]]
    couple = pairs[same_place & (rng.random(pairs.shape[0]) < 0.6)]
    household[couple[:, 1]] = couple[:, 0]
    surname[couple[:, 1]] = np.where(rng.random(couple.shape[0]) < 0.6, surname[couple[:, 0]], surname[couple[:, 1]])

    guardian = np.full(n, -1, dtype=np.int64)
    children = np.flatnonzero(age < 18)
    parents = np.flatnonzero((age >= 22) & (age <= 55))
    if parents.size == 0 or children.size == 0:
        return household, guardian
    parents = parents[np.argsort(municipality[parents], kind="stable")]
    starts = np.searchsorted(municipality[parents], np.arange(len(MUNICIPALITIES)))
    ends = np.searchsorted(municipality[parents], np.arange(len(MUNICIPALITIES)), side="right")
    place = municipality[children]
    span = ends[place] - starts[place]
    has_parent = span > 0
    pick = starts[place] + (rng.random(children.size) * np.maximum(span, 1)).astype(np.int64)
    chosen = parents[np.minimum(pick, parents.size - 1)]
    kids = children[has_parent]
    guardian[kids] = chosen[has_parent]
    household[kids] = household[chosen[has_parent]]
    surname[kids] = surname[chosen[has_parent]]
    return household, guardian


def distinct_numbers(
    drawn: IntArray,
    *,
    taken: IntArray | None = None,
    low: int = 10**9,
    high: int = 10**11,
    stream: int | None = None,
) -> IntArray:
    """Account numbers ``drawn`` with every repeat (and every number in ``taken``) drawn again, so no
    two accounts share a number by chance: at a million persons or more, random 11-digit numbers do
    repeat (a bank's register then shows one account with two opening dates). The new draws come from
    a stream of their own, so every number that did not repeat, and every later draw, stays as it was.
    Numbers are drawn again from ``low`` to ``high`` (exclusive): an account number's range by default.

    A block of a larger country names a ``stream`` of its own: ``taken`` holds the earlier blocks'
    numbers, and the stream they drew again from would give those same numbers again, one round of
    drawing for each earlier block's repeats."""
    redraw = np.random.default_rng(drawn.size if stream is None else [drawn.size, stream])
    held = None if taken is None or not taken.size else np.sort(taken)
    drawn = drawn.copy()
    while True:
        _, first = np.unique(drawn, return_index=True)
        again = np.setdiff1d(np.arange(drawn.size), first)
        if held is not None:
            found = held[np.minimum(np.searchsorted(held, drawn), held.size - 1)] == drawn
            again = np.union1d(again, np.flatnonzero(found))
        if not again.size:
            return drawn
        drawn[again] = redraw.integers(low, high, again.size)
