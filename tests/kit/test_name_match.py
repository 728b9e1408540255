"""Name matching as a Nordic bank would accept it: every rule in docs/name-matching.md, by example."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saldo.kit.name_match import Outcome, Reason, Thresholds, match_name

M, C, N = Outcome.MATCH, Outcome.CLOSE_MATCH, Outcome.NO_MATCH

PERSONS = [
    ("Anna Andersson", "Anna Andersson", M, Reason.EXACT),
    ("ANNA  andersson", "Anna Andersson", M, Reason.NORMALISED),
    ("Anna Andersson.", "Anna Andersson", M, Reason.NORMALISED),
    ("Andersson Anna", "Anna Andersson", M, Reason.TOKEN_ORDER),
    ("Andersson, Anna", "Anna Andersson", M, Reason.NORMALISED),
    ("Bjorn Ostlund", "Björn Östlund", M, Reason.DIACRITICS),
    ("Bjoern Oestlund", "Björn Östlund", M, Reason.DIACRITICS),
    ("Soren Moller", "Søren Møller", M, Reason.DIACRITICS),
    ("Soeren Moeller", "Søren Møller", M, Reason.DIACRITICS),
    ("Jurgen Muller", "Jürgen Müller", M, Reason.DIACRITICS),
    ("Aasa Aastroem", "Åsa Åström", M, Reason.DIACRITICS),
    ("Anna Andersson", "Anna Maria Andersson", M, Reason.GIVEN_NAME_OMITTED),
    ("Maria Andersson", "Anna Maria Andersson", M, Reason.GIVEN_NAME_OMITTED),
    ("Anna M. Andersson", "Anna Maria Andersson", M, Reason.GIVEN_NAME_ABBREVIATED),
    ("A. Andersson", "Anna Andersson", C, Reason.INITIALS),
    ("A M Andersson", "Anna Maria Andersson", C, Reason.INITIALS),
    ("Anna Andersson Berg", "Anna Andersson-Berg", M, Reason.NORMALISED),
    ("Anna Berg", "Anna Andersson-Berg", C, Reason.SURNAME_PART),
    ("Anna Andersson", "Anna Andersson-Berg", C, Reason.SURNAME_PART),
    ("Anna Andersson", "ANDERSSON ANNA MARIA", C, Reason.GIVEN_NAME_OMITTED),
    ("Anderson Anna", "Anna Andersson", C, Reason.SIMILAR),
    ("Mohamed Ali", "Mohammed Ali", C, Reason.SIMILAR),
    ("Per Svensson", "Anna Andersson", N, Reason.NAME_DIFFERS),
    ("Anna Maria", "Anna Maria Andersson", C, Reason.GIVEN_NAME_OMITTED),
    ("Maria Karlsson", "Anna Maria Andersson", N, Reason.NAME_DIFFERS),
    ("...", "Anna Andersson", N, Reason.NAME_EMPTY),
]

ORGANISATIONS = [
    ("Volvo Personvagnar AB", "Volvo Personvagnar Aktiebolag", M, Reason.NORMALISED),
    ("Volvo Personvagnar", "Volvo Personvagnar AB", M, Reason.LEGAL_FORM_OMITTED),
    ("AB Volvo", "Volvo AB", M, Reason.NORMALISED),
    ("Hemköp AB (publ)", "Hemköp AB", M, Reason.NORMALISED),
    ("Nordsol Oy", "Nordsol AB", C, Reason.LEGAL_FORM_DIFFERS),
    ("Mærsk A/S", "Maersk AS", M, Reason.NORMALISED),
    ("Nordsol Osakeyhtiö", "Nordsol Oy", M, Reason.NORMALISED),
    ("Equinor ASA", "Equinor", M, Reason.LEGAL_FORM_OMITTED),
    ("Nordic Fish ApS", "Nordic Fish", M, Reason.LEGAL_FORM_OMITTED),
    ("Landsvirkjun hf", "Landsvirkjun", M, Reason.LEGAL_FORM_OMITTED),
    ("Rigas Udens SIA", "SIA Rigas Udens", M, Reason.NORMALISED),
    ("Vilniaus Vandenys UAB", "Vilniaus Vandenys", M, Reason.LEGAL_FORM_OMITTED),
    ("Tallinna Vesi OÜ", "Tallinna Vesi OU", M, Reason.NORMALISED),
    ("Svensson & Son AB", "Svensson och Son AB", M, Reason.NORMALISED),
    ("Lunds Ek. För.", "Lunds Ekonomisk Förening", M, Reason.NORMALISED),
    ("S:t Görans Förskola AB", "Sankt Görans Förskola AB", M, Reason.NORMALISED),
    ("Ikea", "Volvo AB", N, Reason.NAME_DIFFERS),
    ("AB", "AB Volvo", N, Reason.NAME_DIFFERS),
]


@pytest.mark.parametrize(("requested", "registered", "outcome", "reason"), PERSONS)
def test_person_names(requested: str, registered: str, outcome: Outcome, reason: Reason) -> None:
    found = match_name(requested, registered, organisation=False)
    assert (found.outcome, found.reason) == (outcome, reason)


@pytest.mark.parametrize(("requested", "registered", "outcome", "reason"), ORGANISATIONS)
def test_organisation_names(requested: str, registered: str, outcome: Outcome, reason: Reason) -> None:
    found = match_name(requested, registered, organisation=True)
    assert (found.outcome, found.reason) == (outcome, reason)


def test_thresholds_are_configurable() -> None:
    strict = Thresholds(match=100.0, close_match=99.0)
    lenient = Thresholds(match=90.0, close_match=50.0)
    assert match_name("Mohamed Ali", "Mohammed Ali", organisation=False, thresholds=strict).outcome is N
    assert match_name("Mohamed Ali", "Mohammed Ali", organisation=False, thresholds=lenient).outcome is M


def test_epc_codes() -> None:
    assert [o.epc_code for o in Outcome] == ["MTCH", "CMTC", "NMTC", "NOAP"]


@given(st.text(min_size=1, max_size=60))
def test_any_text_gets_an_answer_with_a_reason(name: str) -> None:
    for organisation in (False, True):
        found = match_name(name, "Anna Andersson", organisation=organisation)
        assert found.outcome in (M, C, N)
        assert 0.0 <= found.score <= 100.0


@given(st.text(alphabet=st.characters(categories=["L"]), min_size=2, max_size=30))
def test_a_name_always_matches_itself_in_upper_case(name: str) -> None:
    assert match_name(name.upper(), name, organisation=False).outcome is M
