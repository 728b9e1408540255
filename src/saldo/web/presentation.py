"""What the pages look up, gathered from the domains once: the templates, the words for every
code a page shows (statuses, events, roles, purposes, fairness groups) and a rule's title."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from markupsafe import Markup, escape

from saldo.accesslog.service.purposes import PURPOSES
from saldo.analysis.service.catalogue import load_catalogue
from saldo.http import rendering
from saldo.oversight.service.fairness import DIMENSION_WORDS, GROUP_CODE_WORDS
from saldo.web import words

TEMPLATES = Path(__file__).parent / "templates"


def configure_pages() -> None:
    rendering.configure(
        templates=TEMPLATES,
        words={
            "status_words": words.STATUS_WORDS,
            "check_words": words.CHECK_WORDS,
            "group_words": words.GROUP_WORDS,
            "action_words": words.ACTION_WORDS,
            "role_words": {**words.ROLE_WORDS, **words.OTHER_READER_WORDS},
            "system_actor_words": words.SYSTEM_ACTOR_WORDS,
            "purpose_words": {code: p.text for code, p in PURPOSES.items()},
            "payment_status_words": words.PAYMENT_STATUS_WORDS,
            "case_status_words": words.CASE_STATUS_WORDS,
            "case_event_words": words.CASE_EVENT_WORDS,
            "benefit_type_words": words.BENEFIT_TYPE_WORDS,
            "request_status_words": words.REQUEST_STATUS_WORDS,
            "outcome_words": words.OUTCOME_WORDS,
            "waiting_words": words.WAITING_WORDS,
            "next_step_words": words.NEXT_STEP_WORDS,
            "dimension_words": DIMENSION_WORDS,
            "group_code_words": GROUP_CODE_WORDS,
        },
        filters={"rule_title": _rule_title_in},
    )


def _rule_title_in(language: str) -> Callable[[str], Markup]:
    titles = {rule.id: (rule.title_sv, rule.title_en) for rule in load_catalogue()}
    return lambda rule_id: rule_title(titles, rule_id, language)


def rule_title(titles: dict[str, tuple[str, str]], rule_id: str, language: str) -> Markup:
    """A rule's title in the page's language: Swedish or English as the catalogue gives it, and in
    English marked as such on a page in another language (so a screen reader reads it rightly)."""
    title_sv, title_en = titles.get(rule_id, (rule_id, rule_id))
    if language == "sv":
        return escape(title_sv)
    return escape(title_en) if language == "en" else Markup('<span lang="en">%s</span>') % title_en
