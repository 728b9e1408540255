"""Languages of Saldo's pages: gettext catalogues (Babel) for the Nordic and Baltic languages and English, the choice
of language for a request, and dates and money written the way each language writes them.

The catalogues are the ``.po`` files under ``locale/``; they are compiled in memory when first used, so
no compiled ``.mo`` file can fall behind its source. Adding a language is a new ``.po`` file and a
line in ``LANGUAGES`` (docs/languages.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.support import Translations
from starlette.requests import Request

from saldo.kit.clock import PAYMENT_ZONE

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
# The language each page can be read in, by code, with its own name for itself (shown in the switcher).
LANGUAGES: dict[str, str] = {
    "sv": "Svenska",
    "en": "English",
    "fi": "Suomi",
    "nb": "Norsk bokmål",
    "da": "Dansk",
    "is": "Íslenska",
    "et": "Eesti",
    "lv": "Latviešu",
    "lt": "Lietuvių",
}
DEFAULT_LANGUAGE = "sv"
# The locale whose conventions dates and times are written in, where it is not the language's own:
# English here is European English (19 Jan 2027, 19/01/2027, 14:56), not the United States' CLDR default.
DATE_LOCALES: dict[str, str] = {"en": "en_150"}
LANGUAGE_COOKIE = "saldo_lang"
NORWEGIAN = {"no": "nb", "nn": "nb"}


@cache
def translations(language: str) -> Translations:
    """The compiled catalogue of a language (English is the source language: its catalogue may be empty)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def choose_language(request: Request) -> str:
    """``?lang=`` first, then the language cookie, then the browser's Accept-Language, then Swedish."""
    asked = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if asked in LANGUAGES:
        return asked
    header = request.headers.get("accept-language", "")
    preferred = [part.split(";")[0].strip().replace("-", "_") for part in header.split(",") if part.strip()]
    # Norwegian without a written standard ("no"), or nynorsk: bokmål, which both read
    preferred = [NORWEGIAN.get(tag.split("_")[0].lower(), tag) for tag in preferred]
    try:
        found = Locale.negotiate(preferred, list(LANGUAGES), sep="_")
    except (UnknownLocaleError, ValueError):
        found = None
    return found.language if found is not None else DEFAULT_LANGUAGE


@lru_cache(maxsize=65_536)  # pure, and Babel's formatting is most of a page's per-row cost (~16 µs)
def money(amount_minor: int, currency: str, language: str) -> str:
    """An amount in minor units as the language writes it, e.g. ``1 234,50 kr`` or ``SEK 1,234.50``."""
    digits = get_currency_precision(currency)
    # CLDR's English pattern glues the code to the number ("SEK1,250.00"); a space reads better
    pattern = "¤\u00a0#,##0.00" if language == "en" else None
    return format_currency(Decimal(amount_minor).scaleb(-digits), currency, format=pattern, locale=language)


def decimal(value: float, language: str, places: int = 1) -> str:
    """A measured figure with ``places`` decimals as the language writes it: ``3,9``, ``3.9``."""
    return format_decimal(value, format="#,##0." + "0" * places, locale=language)


def number(value: int, language: str) -> str:
    """A count as the language writes it: ``3 100 000``, ``3,100,000``."""
    return format_decimal(value, locale=language)


@lru_cache(maxsize=8_192)  # a page's dates repeat (due dates, period starts and ends)
def date(value: dt.date | None, language: str, form: str = "medium") -> str:
    return format_date(value, format=form, locale=DATE_LOCALES.get(language, language)) if value is not None else ""


def timestamp(value: dt.datetime | None, language: str) -> str:
    if value is None:
        return ""
    return format_datetime(value, format="medium", tzinfo=PAYMENT_ZONE, locale=DATE_LOCALES.get(language, language))
