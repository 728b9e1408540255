"""National identifiers: every scheme validated by python-stdnum, and the fast path agrees with it."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from saldo.kit import national_id
from saldo.kit.national_id import (
    IdKind,
    IdScheme,
    InvalidIdentifierError,
    birth_date_of,
    born_on_bounds,
    kind_of,
    normalize_identifier,
)


class TestSwedishPersons:
    @pytest.mark.parametrize("form", ["198112289874", "811228-9874", "19811228-9874", "8112289874", "811228 9874"])
    def test_every_common_form_gives_the_12_digit_canonical_number(self, form: str) -> None:
        assert normalize_identifier(IdScheme.SE_PERSONNUMMER, form) == "198112289874"

    def test_centenarian_plus_sign_moves_the_century(self) -> None:
        assert normalize_identifier(IdScheme.SE_PERSONNUMMER, "121212+1212").startswith("19")

    def test_samordningsnummer_has_its_own_scheme(self) -> None:
        assert normalize_identifier(IdScheme.SE_SAMORDNINGSNUMMER, "701063-2391") == "197010632391"
        with pytest.raises(InvalidIdentifierError, match="se_samordningsnummer"):
            normalize_identifier(IdScheme.SE_PERSONNUMMER, "701063-2391")
        with pytest.raises(InvalidIdentifierError, match="se_personnummer"):
            normalize_identifier(IdScheme.SE_SAMORDNINGSNUMMER, "811228-9874")

    @pytest.mark.parametrize(
        ("number", "reason"),
        [("811228-9875", "check digit"), ("811328-9876", "invalid"), ("", "invalid format"), ("abc", "invalid")],
    )
    def test_invalid_number_says_why(self, number: str, reason: str) -> None:
        with pytest.raises(InvalidIdentifierError, match=reason):
            normalize_identifier(IdScheme.SE_PERSONNUMMER, number)


@pytest.mark.parametrize(
    ("scheme", "number", "canonical", "kind", "invalid"),
    [
        (IdScheme.SE_ORGANISATIONSNUMMER, "212000-0142", "2120000142", IdKind.ORGANISATION, "212000-0143"),
        (IdScheme.FI_HETU, "131052-308T", "131052-308T", IdKind.PERSON, "131052-308U"),
        (IdScheme.FI_YTUNNUS, "2077474-0", "20774740", IdKind.ORGANISATION, "2077474-1"),
        (IdScheme.NO_FODSELSNUMMER, "151086 95088", "15108695088", IdKind.PERSON, "15108695089"),
        (IdScheme.NO_ORGNR, "988 077 917", "988077917", IdKind.ORGANISATION, "988077918"),
        # Denmark dropped the CPR check digit in 2007; the date is what can be wrong.
        (IdScheme.DK_CPR, "211062-5629", "2110625629", IdKind.PERSON, "311362-5629"),
        (IdScheme.IS_KENNITALA, "120174-3399", "1201743399", IdKind.PERSON, "120174-3398"),
        (IdScheme.EE_ISIKUKOOD, "36805280109", "36805280109", IdKind.PERSON, "36805280108"),
        (IdScheme.LV_PERSONAS_KODS, "161175-19997", "16117519997", IdKind.PERSON, "161175-19996"),
        (IdScheme.LT_ASMENS_KODAS, "33309240064", "33309240064", IdKind.PERSON, "33309240063"),
    ],
)
def test_nordic_and_baltic_schemes(scheme: IdScheme, number: str, canonical: str, kind: IdKind, invalid: str) -> None:
    assert normalize_identifier(scheme, number) == canonical
    assert kind_of(scheme) is kind
    with pytest.raises(InvalidIdentifierError):
        normalize_identifier(scheme, invalid)


def _full_path(scheme: IdScheme, number: str) -> str | None:
    try:
        return national_id._normalize_identifier(scheme, number)
    except InvalidIdentifierError:
        return None


def _twelve_digit(draw: st.DrawFn) -> str:
    year = draw(st.integers(1800, 2099))
    month = draw(st.integers(0, 13))
    day = draw(st.sampled_from([*range(0, 33), *range(59, 93)]))
    serial = draw(st.integers(0, 999))
    body = f"{year % 100:02d}{month:02d}{day:02d}{serial:03d}"
    check = luhn.calc_check_digit(body) if draw(st.booleans()) else draw(st.sampled_from("0123456789"))
    return f"{year}{body[2:]}{check}"


@settings(max_examples=3000, deadline=None)
@given(number=st.composite(_twelve_digit)(), coordination=st.booleans())
def test_fast_path_gives_the_same_verdict_as_stdnum(number: str, coordination: bool) -> None:
    scheme = IdScheme.SE_SAMORDNINGSNUMMER if coordination else IdScheme.SE_PERSONNUMMER
    fast = national_id._fast_se_person(number, coordination=coordination)
    if fast is not None:  # the shortcut may decline, but never accept what stdnum refuses
        assert _full_path(scheme, number) == fast
    else:
        full = _full_path(scheme, number)
        assert full is None or full != number or not number.isdigit(), "fast path declined a valid canonical number"


def test_the_persons_born_on_a_day_are_a_range_of_identifiers() -> None:
    born = dt.date(1952, 3, 4)
    assert born_on_bounds(IdScheme.SE_PERSONNUMMER, born) == ("195203040000", "195203049999")
    assert born_on_bounds(IdScheme.SE_SAMORDNINGSNUMMER, born) == ("195203640000", "195203649999")
    first, last = born_on_bounds(IdScheme.SE_PERSONNUMMER, born) or ("", "")
    for number in ("195203041230", "19520304-1230"):
        canonical = normalize_identifier(IdScheme.SE_PERSONNUMMER, number)
        assert first <= canonical <= last
        assert birth_date_of(IdScheme.SE_PERSONNUMMER, canonical) == born
    assert born_on_bounds(IdScheme.FI_HETU, born) is None  # its numbers do not begin with the date
