"""The decision letter: one page in the language the person applied in, saying what was applied
for, what was decided and why, what was issued, and how to appeal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from fpdf.enums import XPos, YPos

from saldo.kit.pdf_text import FAMILY, new_pdf, pdf_text
from saldo.procedures.models import Application, ApplicationState

Translate = Callable[[str], str]
DateText = Callable[[dt.date], str]


def decision_letter(
    application: Application,
    *,
    authority: str,
    title: str,
    lines: Mapping[str, str],
    decision: str,
    explanation: str | None,
    gettext: Translate,
    date: DateText,
    language: str,
) -> bytes:
    """``lines`` are the labelled facts (what was applied for, and what was issued); ``decision``
    the decision in a sentence."""
    _ = gettext
    pdf = new_pdf(title=f"{title} {application.reference}", author=authority, language=language)
    pdf.add_page()
    pdf.set_font(FAMILY, "", 10)
    decided = application.decided_at.date() if application.decided_at else None
    pdf.cell(0, 6, pdf_text(authority), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 6, pdf_text(f"{_('Date')}: {date(decided) if decided else ''}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font(FAMILY, "B", 15)
    pdf.multi_cell(0, 8, pdf_text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "B", 11)
    pdf.multi_cell(0, 6, pdf_text(decision), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FAMILY, "", 10)
    with pdf.table(col_widths=(60, 110), borders_layout="HORIZONTAL_LINES", line_height=5.5) as table:
        for label, value in lines.items():
            row = table.row()
            row.cell(pdf_text(label))
            row.cell(pdf_text(value))
    if explanation:
        pdf.ln(3)
        pdf.set_font(FAMILY, "B", 10)
        pdf.cell(0, 6, pdf_text(_("Why")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FAMILY, "", 10)
        pdf.multi_cell(0, 5, pdf_text(explanation), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font(FAMILY, "", 9)
    if application.state is ApplicationState.REFUSED:
        appeal = _(
            "You may appeal the decision. Write to the payment authority within three weeks of receiving it, "
            "say which decision you appeal (the reference above) and how you want it changed."
        )
    else:
        appeal = _(
            "The document is in your pages, where you can add it to your EU wallet or take it on paper. If you "
            "think the decision is wrong, write to the payment authority within three weeks of receiving it."
        )
    pdf.multi_cell(0, 5, pdf_text(appeal), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
