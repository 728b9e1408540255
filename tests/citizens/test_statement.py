"""The yearly statement, read back by an independent PDF reader (pypdf): every value is there in full,
in its own column, whatever its length and however many pages the table runs to."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from pypdf import PdfReader

from saldo.citizens.schemas import ChecksRan, CitizenOverview, PaymentGroup, PaymentLine
from saldo.citizens.service.statement import statement_pdf
from saldo.http import i18n

LONG_PAYERS = ("Pensionsmyndigheten", "Arbetslöshetskassan för tjänstemän inom handel och industri")
LONG_BENEFITS = (
    (
        "Bostadstillägg för pensionärer och personer med sjuk- eller aktivitetsersättning",
        "Housing supplement for pensioners and persons with sickness compensation",
    ),
    ("Inkomstrelaterad ersättning", "Income-related unemployment benefit"),
)


def overview(year: int, lines: int) -> CitizenOverview:
    payments = []
    for i in range(lines):
        benefit_sv, benefit_en = LONG_BENEFITS[i % 2]
        start = dt.date(year, 1 + i % 12, 1)
        end = dt.date(year, 1 + i % 12, 28)
        payments.append(
            PaymentLine(
                id=i,
                payer=LONG_PAYERS[i % 2],
                benefit_code=f"B{i % 2}",
                benefit_sv=benefit_sv,
                benefit_en=benefit_en,
                period_start=start,
                period_end=end,
                due_date=end,
                amount_minor=1_234_567_89 + i,
                currency="SEK",
                status="settled",
                group=list(PaymentGroup)[i % len(PaymentGroup)],
                account_scheme="se_bankgiro",
                account="5050-1055",
                account_check="match",
                decision_reference=f"D-{i}",
            )
        )
    return CitizenOverview(
        person_scheme="se_personnummer",
        person_id="198112289874",
        year=year,
        years=[year],
        payments=payments,
        totals=[],
        designation=None,
        held_accounts=[],
        checks=ChecksRan(analysis_finished_at=None, snapshot_at=None, rules=[]),
        access=[],
    )


def render(language: str, lines: int) -> tuple[str, int]:
    pdf = statement_pdf(
        overview(2026, lines),
        authority="Utbetalningsmyndigheten",
        gettext=i18n.translations(language).gettext,
        money=lambda minor, currency: i18n.money(minor, currency, language),
        date=lambda value: i18n.date(value, language, "short"),
        language=language,
        benefit_name=lambda sv, en: sv if language == "sv" else en,
    )
    reader = PdfReader(BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(text.split()), len(reader.pages)


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_every_value_is_in_the_statement_in_full(language: str) -> None:
    text, pages = render(language, 40)
    assert pages > 1  # the table runs onto more pages, and its headings with it
    assert "..." not in text  # nothing cut short
    for i in range(40):
        end = dt.date(2026, 1 + i % 12, 28)
        assert i18n.date(end, language, "short") in text
    for benefit_sv, benefit_en in LONG_BENEFITS:
        assert (benefit_sv if language == "sv" else benefit_en) in text
    for payer in LONG_PAYERS:
        assert payer in text


def test_the_status_has_a_column_of_its_own() -> None:
    text, pages = render("en", 3)
    assert pages == 1
    assert "Due Payer Benefit Period Amount Status" in text
    assert "Paid in the year" in text


def test_a_year_without_payments_says_so() -> None:
    text, _ = render("en", 0)
    assert "No public payments were due to you this year." in text
    assert "Status" not in text
