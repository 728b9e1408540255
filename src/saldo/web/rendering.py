"""Rendering Saldo's pages: one Jinja2 environment per language, with that language's catalogue and
its ways of writing money and dates, and the context every page has (language, who is logged in,
the CSRF token of their forms)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request

from saldo import __version__
from saldo.accesslog.purposes import PURPOSES
from saldo.analysis.catalogue import load_catalogue
from saldo.identity.schemas import SessionPrincipal
from saldo.oversight.fairness import DIMENSION_WORDS, GROUP_CODE_WORDS
from saldo.web import i18n, words

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGE_COOKIE_DAYS = 365


@cache
def environment(language: str) -> Environment:
    """The template environment of one language (built once; templates are cached by Jinja2)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = lambda minor, currency: i18n.money(minor, currency, language)
    env.filters["date"] = lambda value, form="medium": i18n.date(value, language, form)
    env.filters["timestamp"] = lambda value: i18n.timestamp(value, language)
    env.filters["number"] = lambda value: i18n.number(value, language)
    env.filters["decimal"] = lambda value, places=1: i18n.decimal(value, language, places)
    translate = i18n.translations(language).gettext
    purposes = {code: p.text for code, p in PURPOSES.items()}
    for name, table in (
        ("status_words", words.STATUS_WORDS),
        ("check_words", words.CHECK_WORDS),
        ("group_words", words.GROUP_WORDS),
        ("action_words", words.ACTION_WORDS),
        ("role_words", words.ROLE_WORDS),
        ("system_actor_words", words.SYSTEM_ACTOR_WORDS),
        ("purpose_words", purposes),
        ("payment_status_words", words.PAYMENT_STATUS_WORDS),
        ("case_status_words", words.CASE_STATUS_WORDS),
        ("case_event_words", words.CASE_EVENT_WORDS),
        ("request_status_words", words.REQUEST_STATUS_WORDS),
        ("outcome_words", words.OUTCOME_WORDS),
        ("waiting_words", words.WAITING_WORDS),
        ("next_step_words", words.NEXT_STEP_WORDS),
        ("dimension_words", DIMENSION_WORDS),
        ("group_code_words", GROUP_CODE_WORDS),
    ):
        env.globals[name] = {key: translate(message) for key, message in table.items()}
    titles = {rule.id: (rule.title_sv, rule.title_en) for rule in load_catalogue()}
    env.filters["rule_title"] = lambda rule_id: _rule_title(titles, rule_id, language)
    env.globals["languages"] = i18n.LANGUAGES
    env.globals["version"] = __version__
    return env


def _rule_title(titles: dict[str, tuple[str, str]], rule_id: str, language: str) -> Markup:
    """A rule's title in the page's language: Swedish or English as the catalogue gives it, and in
    English marked as such on a page in another language (so a screen reader reads it rightly)."""
    title_sv, title_en = titles.get(rule_id, (rule_id, rule_id))
    if language == "sv":
        return escape(title_sv)
    return escape(title_en) if language == "en" else Markup('<span lang="en">%s</span>') % title_en


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    principal: SessionPrincipal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page in the request's language. A ``?lang=`` choice is remembered in a cookie."""
    language = i18n.choose_language(request)
    page = environment(language).get_template(template)
    body = page.render(
        {
            "request": request,
            "lang": language,
            "principal": principal,
            "csrf_token": principal.csrf_token if principal else "",
            "dev_login": request.app.state.settings.dev_login,
            "path": request.url.path,
            **context,
        }
    )
    response = HTMLResponse(body, status_code=status_code)
    if principal is not None:  # a logged-in page shows personal data: no cache may keep it
        response.headers["Cache-Control"] = "no-store"
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(
            i18n.LANGUAGE_COOKIE, language, max_age=LANGUAGE_COOKIE_DAYS * 86400, samesite="lax", httponly=True
        )
    return response
