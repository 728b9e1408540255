from __future__ import annotations

from saldo.kit.pdf_text import core_font_text


def test_nordic_letters_stay_and_what_latin1_lacks_is_marked() -> None:
    assert core_font_text("Försäkringskassan · Æ Ø Å") == "Försäkringskassan · Æ Ø Å"
    assert core_font_text("1\u202f234,50\u00a0kr \u2212 5 \u2013 6") == "1 234,50 kr - 5 - 6"
    assert core_font_text("Šiauliai Łódź") == "?iauliai ?ód?"
