"""Rendering Saldo's pages: one Jinja2 environment per language, with that language's catalogue and
its ways of writing money and dates, and the context every page has (language, who is logged in,
the CSRF token of their forms). What the pages look up beyond that — the templates, the words for
each domain's codes, a rule's title — the application gives once (``configure``), so this module
knows no domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from starlette.requests import Request

from saldo import __version__
from saldo.http import i18n

LANGUAGE_COOKIE_DAYS = 365


class HasCsrfToken(Protocol):
    @property
    def csrf_token(self) -> str: ...


@dataclass
class PageSetup:
    """What the application gives the pages: where the templates are, tables of words (code →
    English message, translated once per language) and filters that take the page's language."""

    templates: Path | None = None
    words: dict[str, Mapping[str, str]] = field(default_factory=dict)
    filters: dict[str, Callable[[str], Callable[..., Any]]] = field(default_factory=dict)


_setup = PageSetup()


def configure(
    *,
    templates: Path,
    words: Mapping[str, Mapping[str, str]],
    filters: Mapping[str, Callable[[str], Callable[..., Any]]],
) -> None:
    """Set what every page can look up (once, when the application is built)."""
    global _setup  # noqa: PLW0603 — one setup per process, read by the cached environments
    _setup = PageSetup(templates=templates, words=dict(words), filters=dict(filters))
    environment.cache_clear()


class ConstantTranslations(Extension):
    """Translate ``_("…")`` of a plain string once, when a language's template is compiled.

    A page calls ``_`` a hundred times or more (a table repeats its column names in every row for
    narrow screens), and each call at render time goes through Jinja2's context call and Markup.
    A call with no variables always gives the same text in a language's environment, so this
    rewrites it to ``("translation"|safe)``, which Jinja2 folds into the template's constant text.
    It gives what ``_`` gives: the translation as safe markup, ``%%`` read as ``%``. A call with
    variables, or one whose translation is not a plain string, is left to ``_`` at render time."""

    def filter_stream(self, stream: TokenStream) -> list[Token]:
        translate: Callable[[str], str] | None = getattr(self.environment, "translate_constant", None)
        tokens = list(stream)
        if translate is None:
            return tokens
        out: list[Token] = []
        index = 0
        while index < len(tokens):
            call = tokens[index : index + 4]
            if (
                [t.type for t in call] == ["name", "lparen", "string", "rparen"]
                and call[0].value == "_"
                and not (out and out[-1].type == "dot")
            ):
                text = _formatted(translate(call[2].value))
                if text is not None:
                    line = call[0].lineno
                    out += [
                        Token(line, "lparen", "("),
                        Token(line, "string", text),
                        Token(line, "pipe", "|"),
                        Token(line, "name", "safe"),
                        Token(line, "rparen", ")"),
                    ]
                    index += 4
                    continue
            out.append(tokens[index])
            index += 1
        return out


def _formatted(translation: str) -> str | None:
    """The translation as ``_`` gives it without variables (``%%`` → ``%``), or None if that fails."""
    try:
        return translation % {}
    except (KeyError, TypeError, ValueError):
        return None


@cache
def environment(language: str) -> Environment:
    """The template environment of one language (built once; templates are cached by Jinja2)."""
    if _setup.templates is None:
        raise RuntimeError("the pages are not configured: build the application first (saldo.app.create_app)")
    env = Environment(
        loader=FileSystemLoader(_setup.templates),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n", ConstantTranslations],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.extend(translate_constant=i18n.translations(language).gettext)
    env.filters["money"] = lambda minor, currency: i18n.money(minor, currency, language)
    env.filters["date"] = lambda value, form="medium": i18n.date(value, language, form)
    env.filters["timestamp"] = lambda value: i18n.timestamp(value, language)
    env.filters["isodate"] = lambda value: dt.date.fromisoformat(value) if isinstance(value, str) else value
    env.filters["number"] = lambda value: i18n.number(value, language)
    env.filters["decimal"] = lambda value, places=1: i18n.decimal(value, language, places)
    translate = i18n.translations(language).gettext
    for name, table in _setup.words.items():
        env.globals[name] = {key: translate(message) for key, message in table.items()}
    for name, make in _setup.filters.items():
        env.filters[name] = make(language)
    env.globals["languages"] = i18n.LANGUAGES
    env.globals["version"] = __version__
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    principal: HasCsrfToken | None = None,
    status_code: int = 200,
    language: str | None = None,
) -> HTMLResponse:
    """A page in the request's language (or in ``language``, one the person chose earlier that this
    request cannot carry). A ``?lang=`` choice is remembered in a cookie."""
    language = language if language in i18n.LANGUAGES else i18n.choose_language(request)
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
