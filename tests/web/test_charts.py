"""The server-drawn charts keep every word and figure inside the picture: labels on a line of their
own above each bar (a long rule title was cut off at the left), figures after the bar with room kept
for the longest (a large amount was cut off at the right)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from saldo.http.charts import CHAR_WIDTH, Bar, bar_chart, interval_chart

SVG = "{http://www.w3.org/2000/svg}"


def texts_inside(svg: str) -> None:
    root = ET.fromstring(svg)
    width = float(root.attrib["viewBox"].split()[2])
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}desc") is not None
    for text in root.iter(f"{SVG}text"):
        x, words = float(text.attrib["x"]), text.text or ""
        if text.attrib.get("text-anchor") == "middle":
            left, right = x - len(words) * CHAR_WIDTH / 2, x + len(words) * CHAR_WIDTH / 2
        else:
            assert text.attrib.get("text-anchor", "start") == "start"
            left, right = x, x + len(words) * CHAR_WIDTH
        assert left >= 0, words
        assert right <= width + 0.5, words


labels = st.text(alphabet=st.characters(categories=["L", "Zs"]), min_size=1, max_size=80)


@given(st.lists(st.tuples(labels, st.integers(0, 10**12), st.integers(0, 10**6)), min_size=1, max_size=12))
def test_every_label_and_figure_is_inside_the_bar_chart(rows: list[tuple[str, int, int]]) -> None:
    bars = [Bar(label, (a, b), f"{a + b:,} · SEK {a * 100:,}.00") for label, a, b in rows]
    texts_inside(str(bar_chart(bars, title="t", description="d", series=("selected", "not selected"))))


@given(st.lists(st.tuples(labels, st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=12))
def test_every_label_is_inside_the_interval_chart(rows: list[tuple[str, float, float]]) -> None:
    chart = interval_chart([(label, low, low, max(low, high)) for label, low, high in rows], title="t", description="d")
    texts_inside(str(chart))


def test_a_long_rule_title_is_shown_whole() -> None:
    title = "Payments from the same organisation to many unrelated persons in one account"
    chart = str(bar_chart([Bar(title, (3,), "3 · SEK 1,107,482.90")], title="t", description="d"))
    assert re.search(rf">{title}</text>", chart)
    assert ">3 · SEK 1,107,482.90</text>" in chart
