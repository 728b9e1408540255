"""Every word on Saldo's pages is in each language's catalogue, translated, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from saldo.web.i18n import LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).parents[2]
METHODS = [
    ("src/saldo/citizens/statement.py", "python"),
    ("src/saldo/oversight/pages.py", "python"),
    ("src/saldo/web/words.py", "python"),
    ("src/saldo/accesslog/purposes.py", "python"),
    ("src/saldo/web/templates/**.html", "jinja2"),
]
OPTIONS = {"src/saldo/web/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true"}}
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
