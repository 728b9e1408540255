"""Saldo's PDFs carry the letters of every Nordic and Baltic language, as an independent reader
(pypdf) extracts them."""

from io import BytesIO

from fpdf.enums import XPos, YPos
from pypdf import PdfReader

from saldo.kit.pdf_text import FAMILY, new_pdf, pdf_text

WORDS = "Försäkringskassan · Æ Ø Å · Þjóðskrá · Šiauliai ąčęėįšųūž · Rīga āēīūčģķļņšž · Tõnu õäöüšž"


def test_spaces_and_dashes_babel_writes_become_plain_ones() -> None:
    assert pdf_text("1\u202f234,50\u00a0kr \u2212 5 \u2013 6") == "1 234,50 kr - 5 - 6"
    assert pdf_text(WORDS) == WORDS


def test_every_nordic_and_baltic_letter_reaches_the_page() -> None:
    pdf = new_pdf(title="Prova", author="Saldo", language="lt")
    pdf.add_page()
    pdf.set_font(FAMILY, "", 10)
    pdf.multi_cell(0, 6, pdf_text(WORDS), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "B", 10)
    pdf.cell(0, 6, "Lietuvių", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    reader = PdfReader(BytesIO(bytes(pdf.output())))
    text = reader.pages[0].extract_text()
    assert " ".join(text.split()) == f"{WORDS} Lietuvių"
    assert reader.metadata is not None
    assert reader.metadata.title == "Prova"
