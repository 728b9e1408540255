"""Saldo's PDFs: a document in DejaVu Sans, which has the letters of every Nordic and Baltic
language (š, ž, ā, ė, ų, õ, þ…), and text made ready for it."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONTS = Path(__file__).parent / "fonts"
FAMILY = "dejavu"  # set_font(FAMILY, "" or "B", size)


def new_pdf(*, title: str, author: str, language: str) -> FPDF:
    """An A4 page document with its metadata, the font registered in regular and bold."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_lang(language)
    pdf.set_creator("Saldo")
    return pdf


def pdf_text(text: str) -> str:
    """The narrow and non-breaking spaces Babel writes in numbers and dates become plain spaces (a
    reader copying the text gets what it expects), minus signs and en dashes hyphens."""
    return text.replace("\u202f", " ").replace("\u00a0", " ").replace("\u2212", "-").replace("\u2013", "-")
