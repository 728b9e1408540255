"""Every word on Saldo's pages is in each language's catalogue, translated, with the same placeholders."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from starlette.requests import Request

from saldo.analysis.service.catalogue import load_catalogue
from saldo.cases.models import CaseEventKind, CaseStatus
from saldo.http import i18n, rendering
from saldo.http.i18n import LANGUAGES, LOCALE_DIR
from saldo.inforequests.models import RequestStatus
from saldo.notifications.models import OutcomeKind
from saldo.payments.models import PaymentStatus
from saldo.staff.models import Role
from saldo.web import words
from saldo.web.presentation import configure_pages

ROOT = Path(__file__).parents[2]
# Where the pages' words are: the same list pybabel reads (babel.cfg), so the two cannot differ.
with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
    METHODS, OPTIONS = parse_mapping_cfg(config)
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def source_messages() -> set[str]:
    found = extract_from_dir(str(ROOT), method_map=METHODS, options_map=OPTIONS)
    return {message if isinstance(message, str) else message[0] for _, _, message, *_ in found}


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"en"}))
def test_every_message_is_translated_with_the_same_placeholders(language: str) -> None:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=language)
    translated = {m.id: m.string for m in catalog if m.id}
    assert len(source_messages()) > 100  # the extraction really reads the templates
    missing = sorted(source_messages() - translated.keys())
    assert missing == [], f"add to {language}: pybabel update (docs/languages.md)"
    empty = sorted(k for k, v in translated.items() if not v)
    assert empty == []
    mismatched = [k for k, v in translated.items() if set(PLACEHOLDER.findall(k)) != set(PLACEHOLDER.findall(str(v)))]
    assert mismatched == []


def test_english_is_the_source_language() -> None:
    assert (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").exists()


def test_english_writes_dates_and_times_the_european_way() -> None:
    day, moment = dt.date(2027, 1, 19), dt.datetime(2026, 12, 2, 13, 56, 8, tzinfo=dt.UTC)
    assert i18n.date(day, "en") == "19 Jan 2027"
    assert i18n.date(day, "en", "short") == "19/01/2027"
    assert i18n.timestamp(moment, "en") == "2 Dec 2026, 14:56:08"  # 24-hour, in the payment zone
    assert i18n.date(day, "sv", "short") == "2027-01-19"


@pytest.mark.parametrize(
    ("table", "codes"),
    [
        (words.PAYMENT_STATUS_WORDS, PaymentStatus),
        (words.STATUS_WORDS, PaymentStatus),
        (words.CASE_STATUS_WORDS, CaseStatus),
        (words.CASE_EVENT_WORDS, CaseEventKind),
        (words.REQUEST_STATUS_WORDS, RequestStatus),
        (words.OUTCOME_WORDS, OutcomeKind),
        (words.ROLE_WORDS, Role),
    ],
)
def test_every_code_a_page_shows_has_words(table: dict[str, str], codes: type[StrEnum]) -> None:
    """A new status, event, outcome or role cannot reach a page as its code: it needs its words here
    (and then, by the test above, in every language)."""
    assert set(table) == {c.value for c in codes}


def test_a_rule_is_named_by_its_title_and_marked_english_on_a_finnish_page() -> None:
    configure_pages()  # as the application does when it is built (this test may run first)
    rule = load_catalogue()[0]
    title = rendering.environment("fi").filters["rule_title"]
    assert str(title(rule.id)) == f'<span lang="en">{rule.title_en}</span>'
    assert str(rendering.environment("sv").filters["rule_title"](rule.id)) == rule.title_sv


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("nb-NO,nb;q=0.9", "nb"),
        ("no", "nb"),
        ("nn-NO,en;q=0.5", "nb"),
        ("is-IS", "is"),
        ("lt-LT,lt;q=0.9,en;q=0.8", "lt"),
        ("lv", "lv"),
        ("et-EE", "et"),
        ("da-DK", "da"),
        ("de-DE", "sv"),
    ],
)
def test_the_browser_s_language_is_chosen(header: str, chosen: str) -> None:
    request = Request({"type": "http", "query_string": b"", "headers": [(b"accept-language", header.encode())]})
    assert i18n.choose_language(request) == chosen
