"""The yearly statement of a citizen's public payments, as a PDF (fpdf2): every payment due in the
year with payer, benefit, period, amount and status, and the sums paid per currency. The words come
from the page's language catalogue, so the statement reads in the language the citizen chose."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fpdf.enums import XPos, YPos

from saldo.citizens.schemas import CitizenOverview, PaymentGroup
from saldo.kit.clock import today
from saldo.kit.pdf_text import FAMILY, new_pdf, pdf_text

Translate = Callable[[str], str]
Money = Callable[[int, str], str]
DateText = Callable[[dt.date], str]


def statement_pdf(
    overview: CitizenOverview,
    *,
    authority: str,
    gettext: Translate,
    money: Money,
    date: DateText,
    language: str,
    benefit_name: Callable[[str, str], str],
) -> bytes:
    """The statement for ``overview.year``; upcoming payments of later years are left out."""
    _ = gettext
    heading = _("Statement of public payments")
    title = f"{heading} {overview.year}"
    pdf = new_pdf(title=title, author=authority, language=language)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 16)
    pdf.cell(0, 10, pdf_text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10)
    person, printed = _("Person"), _("Printed")
    for text in (authority, f"{person}: {overview.person_id}", f"{printed}: {date(today())}"):
        pdf.cell(0, 6, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    in_year = [p for p in overview.payments if p.due_date.year == overview.year]
    status_words = _status_words(_)
    headings = (_("Due"), _("Payer"), _("Benefit"), _("Period"), _("Amount"), _("Status"))
    pdf.set_font(FAMILY, "", 8)
    # Every value in its own column, wrapped onto more lines where it is long, never cut; the
    # headings repeat on every page the table runs onto.
    if in_year:
        with pdf.table(
            col_widths=(19, 40, 42, 30, 28, 31),
            text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "LEFT"),
            borders_layout="HORIZONTAL_LINES",
            line_height=4.5,
            padding=1,
            v_align="TOP",
            repeat_headings=1,
        ) as table:
            table.row([pdf_text(h) for h in headings])
            for line in in_year:
                table.row(
                    [
                        pdf_text(text)
                        for text in (
                            date(line.due_date),
                            line.payer,
                            benefit_name(line.benefit_sv, line.benefit_en),
                            f"{date(line.period_start)} - {date(line.period_end)}",
                            money(line.amount_minor, line.currency),
                            status_words[line.group],
                        )
                    ]
                )
    else:
        pdf.cell(
            0,
            7,
            pdf_text(_("No public payments were due to you this year.")),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    pdf.ln(4)
    pdf.set_font(FAMILY, "B", 10)
    paid: dict[str, int] = {}
    for line in in_year:
        if line.group is PaymentGroup.PAID:
            paid[line.currency] = paid.get(line.currency, 0) + line.amount_minor
    paid_words = _("Paid in the year")
    for currency, amount in sorted(paid.items()):
        pdf.cell(0, 7, pdf_text(f"{paid_words}: {money(amount, currency)}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FAMILY, "", 8)
    pdf.multi_cell(
        0,
        4,
        pdf_text(
            _(
                "This statement lists the public payments registered with the payment authority. "
                "Questions about a payment go to the payer that decided it."
            )
        ),
    )
    return bytes(pdf.output())


def _status_words(_: Translate) -> dict[PaymentGroup, str]:
    return {
        PaymentGroup.UPCOMING: _("Upcoming"),
        PaymentGroup.HELD: _("Held"),
        PaymentGroup.PAID: _("Paid"),
        PaymentGroup.NOT_PAID: _("Not paid: returned or rejected by the bank"),
        PaymentGroup.CANCELLED: _("Cancelled by the payer"),
    }
