"""Names and remittance texts from payers are made fit for the bank: any text at all (other
scripts, emoji, control characters, U+FFFF, 500 characters) gives a file that is valid against
the official pain.001 schema, in the EPC character set with å, ä and ö kept, within 70 and 140
characters — so one payment's data can never stop its debtor account's run."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from saldo.iso20022.charset import NAME_MAX, NOT_PROVIDED, REMITTANCE_MAX, fit_for_bank, fit_name
from saldo.iso20022.messages import MessageType
from saldo.iso20022.pain001 import GroupHeader, Party, PaymentInformation, Transaction, escape, write_pain001
from saldo.iso20022.validate import validate_document
from saldo.kit.account_number import AccountScheme

BANK_TEXT = re.compile(r"[a-zA-Z0-9/\-?:().,'+ åäöÅÄÖéÉüÜ]*")
ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=["Cs"]), max_size=500)


@given(ANY_TEXT, st.sampled_from([NAME_MAX, REMITTANCE_MAX]))
@settings(deadline=None)  # the first example loads anyascii's tables for its script
def test_any_text_is_fitted_into_the_banks_character_set_and_length(text: str, limit: int) -> None:
    fitted = fit_for_bank(text, limit)
    assert BANK_TEXT.fullmatch(fitted)
    assert len(fitted) <= limit
    assert fitted == fitted.strip()
    assert "  " not in fitted
    assert fit_for_bank(fitted, limit) == fitted  # idempotent: a file written again has the same bytes


def test_names_keep_swedish_letters_and_take_the_latin_form_of_others() -> None:
    assert fit_name("Åsa Öberg-Ärlig") == "Åsa Öberg-Ärlig"
    assert fit_name("Øystein Ødegård") == "Oystein Odegård"
    assert fit_name("Łukasz Żółć") == "Lukasz Zolc"
    assert fit_name("José 😀 García\x07\uffff") == "José Garcia"
    assert fit_name("😀") == NOT_PROVIDED
    long = " ".join(["Maximiliana"] * 10)
    assert fit_name(long) == " ".join(["Maximiliana"] * 5)  # cut where a word ends, within 70


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(ANY_TEXT, ANY_TEXT), min_size=1, max_size=5), debtor=ANY_TEXT)
def test_a_file_with_any_names_and_texts_is_valid_against_the_official_schema(
    rows: list[tuple[str, str]], debtor: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    transactions = [
        Transaction(str(n), 100 + n, "SEK", name, AccountScheme.IBAN, "SE4550000000058398257466", text or None)
        for n, (name, text) in enumerate(rows, start=1)
    ]
    block = PaymentInformation(
        "B1",
        dt.date(2026, 12, 18),
        Party(debtor),
        AccountScheme.SE_BANKGIRO,
        "50501055",
        None,
        "SSBE",
        True,
        len(transactions),
        "0",
        iter(transactions),
    )
    header = GroupHeader("M1", dt.datetime(2026, 12, 2, tzinfo=dt.UTC), len(transactions), "0", Party(debtor))
    out = io.BytesIO()
    write_pain001(out, header, iter([block]))  # type: ignore[arg-type]
    path = tmp_path_factory.mktemp("pain001") / "file.xml"
    path.write_bytes(out.getvalue())
    assert validate_document(path, MessageType.PAIN_001, count="CdtTrfTxInf") == len(transactions)


XML_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\ufffe\uffff\r"), max_size=80
)


@given(XML_TEXT)
def test_the_writer_s_escaping_reads_back_as_written_by_an_xml_parser(value: str) -> None:
    """The writer escapes by hand for speed (benchmarks/pain001_writers.py: lxml's streaming writer
    is about a quarter as fast); libxml2 reading it back is the check that the escaping is right.
    Control characters XML 1.0 cannot carry become spaces; everything else comes back unchanged."""
    carried = "".join(" " if (ord(c) < 32 and c not in "\t\n") else c for c in value)
    element = etree.fromstring(f'<a b="{escape(value)}">{escape(value)}</a>'.encode())
    assert (element.text or "") == carried
    # attribute values are normalised by the parser: tabs and newlines become spaces there
    assert element.get("b") == carried.replace("\t", " ").replace("\n", " ")
