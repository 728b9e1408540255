"""Charts drawn on the server as SVG: no script, no library, readable by a screen reader (each chart
has a title and a description, and the page shows the same figures in a table next to it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_HEIGHT = 18
LABEL_HEIGHT = 18  # each bar's label sits on its own line above it, so a long one is never clipped
GAP = 10
WIDTH = 720
CHAR_WIDTH = 7.6  # a generous average at 13 px, to keep room for the figure written after a bar
COLOURS = ("#0b4f8a", "#8a4b0b")  # accent, and a contrasting second series (both ≥ 3:1 on white)
ROW = LABEL_HEIGHT + BAR_HEIGHT + GAP


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    values: tuple[float, ...]  # one per series, stacked
    text: str  # the figure as written next to the bar


def bar_chart(bars: Sequence[Bar], *, title: str, description: str, series: Sequence[str] = ()) -> Markup:
    """Horizontal bars (stacked when a bar has several values), scaled to the largest total, each with
    its label above it and its figure after it; the plot leaves room for the longest figure."""
    top = max((sum(b.values) for b in bars), default=0) or 1
    figure_room = max((len(b.text) for b in bars), default=0) * CHAR_WIDTH + 12
    plot = WIDTH - figure_room
    height = len(bars) * ROW + (24 if len(series) > 1 else 0)
    parts = [_open(WIDTH, height, title, description)]
    for index, bar in enumerate(bars):
        y = index * ROW
        parts.append(f'<text x="0" y="{y + 13}" font-size="13" fill="#1b1f24">{escape(_shorten(bar.label))}</text>')
        x, top_y = 0.0, y + LABEL_HEIGHT
        for serial, value in enumerate(bar.values):
            length = plot * value / top
            parts.append(
                f'<rect x="{x:.1f}" y="{top_y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
                f'fill="{COLOURS[serial % len(COLOURS)]}"/>'
            )
            x += length
        parts.append(f'<text x="{x + 6:.1f}" y="{top_y + 13}" font-size="13" fill="#1b1f24">{escape(bar.text)}</text>')
    if len(series) > 1:
        y = len(bars) * ROW + 4
        x = 0.0
        for serial, name in enumerate(series):
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="14" height="14" fill="{COLOURS[serial % len(COLOURS)]}"/>')
            parts.append(f'<text x="{x + 20:.1f}" y="{y + 12}" font-size="13" fill="#1b1f24">{escape(name)}</text>')
            x += 36 + CHAR_WIDTH * len(name)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every text in it is escaped above


def interval_chart(rows: Sequence[tuple[str, float | None, float, float]], *, title: str, description: str) -> Markup:
    """Each row's estimate as a dot on its interval (0 to 1), e.g. a rule's precision and its 95 % interval,
    each with its label above it."""
    margin = 20  # room for the tick labels at 0 % and 100 %
    plot = WIDTH - 2 * margin
    height = len(rows) * ROW + 20
    parts = [_open(WIDTH, height, title, description)]
    for tick in (0, 0.5, 1):
        x = margin + plot * tick
        parts.append(f'<line x1="{x}" x2="{x}" y1="0" y2="{height - 18}" stroke="#d8dde3"/>')
        parts.append(
            f'<text x="{x}" y="{height - 4}" font-size="12" text-anchor="middle" fill="#5a6470">{tick:.0%}</text>'
        )
    for index, (label, estimate, low, high) in enumerate(rows):
        y = index * ROW
        parts.append(f'<text x="{margin}" y="{y + 13}" font-size="13" fill="#1b1f24">{escape(_shorten(label))}</text>')
        middle = y + LABEL_HEIGHT + BAR_HEIGHT / 2
        parts.append(
            f'<line x1="{margin + plot * low:.1f}" x2="{margin + plot * high:.1f}" '
            f'y1="{middle:.1f}" y2="{middle:.1f}" stroke="#0b4f8a" stroke-width="3"/>'
        )
        if estimate is not None:
            parts.append(f'<circle cx="{margin + plot * estimate:.1f}" cy="{middle:.1f}" r="6" fill="#8a4b0b"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every text in it is escaped above


def _open(width: int, height: int, title: str, description: str) -> str:
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
    )


def _shorten(label: str, most: int = 90) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"
