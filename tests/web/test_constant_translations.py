"""A plain ``_("…")`` is translated once, when a language's template is compiled, and the page is the
same as when ``_`` is called at render time (saldo.http.rendering.ConstantTranslations)."""

from __future__ import annotations

import pytest
from jinja2 import DictLoader, Environment, UndefinedError

from saldo.http import i18n, rendering

SOURCE = """<p title="{{ _('Year') }}">{{ _("Due") }} · {{ _("Payer")|length }} · {{ _("Payer").upper() }}</p>
{% set words = {"due": _("Due"), "paid": _("Paid in %(year)s", year=year)} %}{{ words.due }} {{ words.paid }}
{{ _("Download the statement for %(year)s (PDF)", year=year) }} {{ _("It's <b>%%</b> & more") }}
{% macro cell(label) %}<td data-label="{{ label }}"></td>{% endmacro %}{{ cell(_("Amount")) }}
{{ "Due" if not _("Due") else _("Status") ~ "!" }} {{ lib._("x") if lib else "" }}"""


def environment(language: str, *, folded: bool) -> Environment:
    """Like rendering.environment: autoescaped HTML, newstyle gettext; folded or not."""
    env = Environment(
        loader=DictLoader({"page.html": SOURCE}),
        autoescape=True,
        extensions=["jinja2.ext.i18n", rendering.ConstantTranslations],
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    if folded:
        env.extend(translate_constant=i18n.translations(language).gettext)
    return env


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_a_folded_template_renders_what_gettext_at_render_time_renders(language: str) -> None:
    context = {"year": 2026, "lib": None}
    folded = environment(language, folded=True).get_template("page.html").render(context)
    called = environment(language, folded=False).get_template("page.html").render(context)
    assert folded == called
    assert "It's <b>%</b> & more" in folded  # safe markup, as _ gives it, with %% read as %


def test_a_plain_call_is_not_made_at_render_time_and_one_with_variables_is() -> None:
    env = environment("sv", folded=True)
    page = env.get_template("page.html")
    seen: list[str] = []

    def gettext(message: str, **variables: object) -> str:
        seen.append(message)
        return message % variables

    env.globals["_"] = env.globals["gettext"] = gettext
    html = page.render(year=2026, lib=None)
    assert "Förfallodag" in html  # translated when compiled, not by the gettext now in place
    assert sorted(set(seen)) == ["Download the statement for %(year)s (PDF)", "Paid in %(year)s"]


def test_an_attribute_named_underscore_is_not_taken_for_gettext() -> None:
    page = environment("sv", folded=True).get_template("page.html")
    with pytest.raises(UndefinedError):
        page.render(year=2026, lib={"y": 1})
