"""National identifiers of persons and organisations, validated with python-stdnum.

Every identifier carries an explicit scheme, so a Finnish HETU never passes as a Swedish
personnummer and new countries fit in by adding one row to ``SCHEMES``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from types import ModuleType

from stdnum import exceptions as stdnum_errors
from stdnum import luhn
from stdnum.dk import cpr
from stdnum.ee import ik
from stdnum.fi import hetu, ytunnus
from stdnum.is_ import kennitala
from stdnum.lt import asmens
from stdnum.lv import pvn
from stdnum.no import fodselsnummer
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr
from stdnum.se import personnummer

from saldo.kit.clock import today
from saldo.kit.problem import ProblemError


class IdScheme(StrEnum):
    SE_PERSONNUMMER = "se_personnummer"
    SE_SAMORDNINGSNUMMER = "se_samordningsnummer"
    SE_ORGANISATIONSNUMMER = "se_organisationsnummer"
    FI_HETU = "fi_hetu"
    FI_YTUNNUS = "fi_ytunnus"
    NO_FODSELSNUMMER = "no_fodselsnummer"
    NO_ORGNR = "no_orgnr"
    DK_CPR = "dk_cpr"
    IS_KENNITALA = "is_kennitala"
    EE_ISIKUKOOD = "ee_isikukood"
    LV_PERSONAS_KODS = "lv_personas_kods"
    LT_ASMENS_KODAS = "lt_asmens_kodas"


class IdKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class InvalidIdentifierError(ProblemError, ValueError):
    """The identifier does not pass its scheme's format or check-digit rules."""

    status = 422
    error = "invalid_identifier"


@dataclass(frozen=True, slots=True)
class SchemeRule:
    kind: IdKind
    module: ModuleType
    canonical: Callable[[str], str]


OLDEST_LIVING_YEARS = 120  # older than anyone alive: a ten-digit number with '+' beyond it is refused


def _se_person_canonical(number: str) -> str:
    """12 digits, century included: 198112289874. The century comes from stdnum's birth date."""
    compact = personnummer.compact(number)
    digits = compact.replace("-", "").replace("+", "")
    if len(digits) == 12:
        return str(digits)
    day = int(compact[-7:-5])
    if day > 60:
        compact = f"{compact[:-7]}{day - 60:02d}{compact[-5:]}"
    born = personnummer.get_birth_date(compact)
    if "+" in compact and today().year - born.year > OLDEST_LIVING_YEARS:
        # '+' marks a person of 100 or more; a birth so long ago is a typing error, not a payee
        raise InvalidIdentifierError(
            f"'+' in {number.strip()} marks a person over 100, so born {born.year}; no one living is that old: "
            "send the 12-digit form (YYYYMMDDNNNN)"
        )
    return f"{born.year // 100}{digits}"


def _is_coordination(number: str) -> bool:
    # A samordningsnummer adds 60 to the day of birth (Skatteverket SKV 707).
    compact = personnummer.compact(number)
    return int(compact[-7:-5]) > 60


class _Samordningsnummer(ModuleType):
    """stdnum knows the personnummer only; a samordningsnummer is one with 60 added to the day."""

    @staticmethod
    def compact(number: str) -> str:
        return str(personnummer.compact(number))

    @staticmethod
    def validate(number: str) -> str:
        compact = personnummer.compact(number)
        if len(compact) not in (11, 13) or compact[-5] not in "-+":
            raise stdnum_errors.InvalidFormat()
        digits = compact[:-5] + compact[-4:]
        if not digits.isdigit():
            raise stdnum_errors.InvalidFormat()
        day = int(compact[-7:-5])
        if day > 60:
            as_birth = f"{compact[:-7]}{day - 60:02d}{compact[-5:]}"
            personnummer.get_birth_date(as_birth)
        luhn.validate(digits[-10:])
        return str(compact)


samordningsnummer = _Samordningsnummer("samordningsnummer")


def _compact(module: ModuleType) -> Callable[[str], str]:
    def canonical(number: str) -> str:
        return str(module.compact(number))

    return canonical


SCHEMES: dict[IdScheme, SchemeRule] = {
    IdScheme.SE_PERSONNUMMER: SchemeRule(IdKind.PERSON, personnummer, _se_person_canonical),
    IdScheme.SE_SAMORDNINGSNUMMER: SchemeRule(IdKind.PERSON, samordningsnummer, _se_person_canonical),
    IdScheme.SE_ORGANISATIONSNUMMER: SchemeRule(IdKind.ORGANISATION, se_orgnr, _compact(se_orgnr)),
    IdScheme.FI_HETU: SchemeRule(IdKind.PERSON, hetu, _compact(hetu)),
    IdScheme.FI_YTUNNUS: SchemeRule(IdKind.ORGANISATION, ytunnus, _compact(ytunnus)),
    IdScheme.NO_FODSELSNUMMER: SchemeRule(IdKind.PERSON, fodselsnummer, _compact(fodselsnummer)),
    IdScheme.NO_ORGNR: SchemeRule(IdKind.ORGANISATION, no_orgnr, _compact(no_orgnr)),
    IdScheme.DK_CPR: SchemeRule(IdKind.PERSON, cpr, _compact(cpr)),
    IdScheme.IS_KENNITALA: SchemeRule(IdKind.PERSON, kennitala, _compact(kennitala)),
    IdScheme.EE_ISIKUKOOD: SchemeRule(IdKind.PERSON, ik, _compact(ik)),
    IdScheme.LV_PERSONAS_KODS: SchemeRule(IdKind.PERSON, pvn, _compact(pvn)),
    IdScheme.LT_ASMENS_KODAS: SchemeRule(IdKind.PERSON, asmens, _compact(asmens)),
}


# Luhn weights applied to ASCII digits with bytes.translate, so the sum runs in C.
_DOUBLED = bytes.maketrans(b"0123456789", bytes([0, 2, 4, 6, 8, 1, 3, 5, 7, 9]))
_PLAIN = bytes.maketrans(b"0123456789", bytes(range(10)))


@lru_cache(maxsize=200_000)  # about 40 000 birth dates; a few hundred thousand keys with both forms
def birth_date_valid(yyyymmdd: str, coordination: bool) -> bool:
    """Whether YYYYMMDD (day + 60 for a samordningsnummer) is a real date from 1800 to 2099."""
    day = int(yyyymmdd[6:8]) - (60 if coordination else 0)
    try:
        dt.date(int(yyyymmdd[0:4]), int(yyyymmdd[4:6]), day)
    except ValueError:
        return False
    return 1800 <= int(yyyymmdd[0:4]) <= 2099


def _fast_se_person(number: str, *, coordination: bool) -> str | None:
    """The canonical form of a 12-digit Swedish number that is certainly valid, else None.

    A shortcut for the form files carry (YYYYMMDDNNNC): the same rules stdnum applies — real birth
    date (day + 60 for a samordningsnummer), Luhn over the last ten digits — without its parsing.
    Anything else, and every invalid number, goes the full way so the error names the fault.
    tests/kit/test_national_id.py holds this to the same verdict as the full path."""
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        return None
    if (number[6] >= "6") != coordination or not birth_date_valid(number[:8], coordination):
        return None
    digits = number[2:].encode()
    if (sum(digits[0::2].translate(_DOUBLED)) + sum(digits[1::2].translate(_PLAIN))) % 10:
        return None
    return number


def normalize_identifier(scheme: IdScheme, number: str) -> str:
    """Validate ``number`` under ``scheme`` and return its canonical form, or raise InvalidIdentifierError."""
    if scheme is IdScheme.SE_PERSONNUMMER or scheme is IdScheme.SE_SAMORDNINGSNUMMER:
        coordination = scheme is IdScheme.SE_SAMORDNINGSNUMMER
        fast = _fast_se_person(number, coordination=coordination)
        if fast is not None:
            return fast
    return _normalize_identifier(scheme, number)


@lru_cache(maxsize=100_000)  # the numbers that need the full parse recur: validate each once
def _normalize_identifier(scheme: IdScheme, number: str) -> str:
    rule = SCHEMES[scheme]
    try:
        if scheme is IdScheme.SE_PERSONNUMMER and _is_coordination(number):
            raise InvalidIdentifierError("this is a samordningsnummer; send it with scheme se_samordningsnummer")
        rule.module.validate(number)
    except stdnum_errors.ValidationError as exc:
        raise InvalidIdentifierError(f"not a valid {scheme.value}: {str(exc).lower()}") from exc
    except (IndexError, ValueError) as exc:
        if isinstance(exc, InvalidIdentifierError):
            raise
        raise InvalidIdentifierError(f"not a valid {scheme.value}: the number has an invalid format") from exc
    if scheme is IdScheme.SE_SAMORDNINGSNUMMER and not _is_coordination(number):
        raise InvalidIdentifierError("this is a personnummer; send it with scheme se_personnummer")
    if scheme is IdScheme.LV_PERSONAS_KODS and not pvn.compact(number).isdigit():
        raise InvalidIdentifierError("not a valid lv_personas_kods: a personal code has digits only")
    return rule.canonical(number)


def kind_of(scheme: IdScheme) -> IdKind:
    """Whether identifiers of ``scheme`` name persons or organisations."""
    return SCHEMES[scheme].kind


_HETU_CENTURY = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}
_KENNITALA_CENTURY = {"8": 1800, "9": 1900, "0": 2000}


def born_on_bounds(scheme: IdScheme, born: dt.date) -> tuple[str, str] | None:
    """The first and the last identifier (canonical form, inclusive) a person born on ``born`` can
    have in ``scheme``, where the identifier starts with the birth date; None for schemes where it
    does not. Both bounds are digits of one length, so they compare alike under any collation."""
    if scheme in (IdScheme.SE_PERSONNUMMER, IdScheme.SE_SAMORDNINGSNUMMER):
        day = born.day + (60 if scheme is IdScheme.SE_SAMORDNINGSNUMMER else 0)
        prefix = f"{born.year:04d}{born.month:02d}{day:02d}"
        return prefix + "0000", prefix + "9999"
    return None


def birth_date_of(scheme: IdScheme, identifier: str) -> dt.date | None:
    """The birth date a person's identifier carries, or None (organisations, numbers without one such as
    Latvia's newer personal codes, or one that does not parse). ``identifier`` is in canonical form."""
    try:
        if scheme in (IdScheme.SE_PERSONNUMMER, IdScheme.SE_SAMORDNINGSNUMMER):
            day = int(identifier[6:8]) - (60 if scheme is IdScheme.SE_SAMORDNINGSNUMMER else 0)
            return dt.date(int(identifier[0:4]), int(identifier[4:6]), day)
        if scheme is IdScheme.FI_HETU:  # DDMMYY, a century sign, an individual number, a check character
            century = _HETU_CENTURY[identifier[6].upper()]
            return dt.date(century + int(identifier[4:6]), int(identifier[2:4]), int(identifier[0:2]))
        if scheme is IdScheme.IS_KENNITALA:  # DDMMYY, two digits, a check digit, the century's digit
            century = _KENNITALA_CENTURY[identifier[9]]
            return dt.date(century + int(identifier[4:6]), int(identifier[2:4]), int(identifier[0:2]))
        module = SCHEMES[scheme].module
        if kind_of(scheme) is IdKind.PERSON and hasattr(module, "get_birth_date"):
            born: dt.date = module.get_birth_date(identifier)
            return born
    except (KeyError, IndexError, ValueError, stdnum_errors.ValidationError):
        return None
    return None
