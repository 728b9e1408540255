"""Charts drawn on the server as SVG: no script, no library, readable by a screen reader (each chart
has a title and a description, and the page shows the same figures in a table next to it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 300
PLOT_WIDTH = 360
COLOURS = ("#0b4f8a", "#8a4b0b")  # accent, and a contrasting second series (both ≥ 3:1 on white)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    values: tuple[float, ...]  # one per series, stacked
    text: str  # the figure as written next to the bar


def bar_chart(bars: Sequence[Bar], *, title: str, description: str, series: Sequence[str] = ()) -> Markup:
    """Horizontal bars (stacked when a bar has several values), scaled to the largest total."""
    top = max((sum(b.values) for b in bars), default=0) or 1
    height = len(bars) * (BAR_HEIGHT + GAP) + (24 if len(series) > 1 else 0)
    width = LABEL_WIDTH + PLOT_WIDTH + 140
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>",
    ]
    for index, bar in enumerate(bars):
        y = index * (BAR_HEIGHT + GAP)
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT * 0.7:.1f}" text-anchor="end" '
            f'font-size="13" fill="#1b1f24">{escape(_shorten(bar.label))}</text>'
        )
        x = float(LABEL_WIDTH)
        for serial, value in enumerate(bar.values):
            length = PLOT_WIDTH * value / top
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
                f'fill="{COLOURS[serial % len(COLOURS)]}"/>'
            )
            x += length
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + BAR_HEIGHT * 0.7:.1f}" font-size="13" fill="#1b1f24">'
            f"{escape(bar.text)}</text>"
        )
    if len(series) > 1:
        y = len(bars) * (BAR_HEIGHT + GAP) + 4
        x = float(LABEL_WIDTH)
        for serial, name in enumerate(series):
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="14" height="14" fill="{COLOURS[serial % len(COLOURS)]}"/>')
            parts.append(f'<text x="{x + 20:.1f}" y="{y + 12}" font-size="13" fill="#1b1f24">{escape(name)}</text>')
            x += 30 + 8 * len(name)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every text in it is escaped above


def interval_chart(rows: Sequence[tuple[str, float | None, float, float]], *, title: str, description: str) -> Markup:
    """Each row's estimate as a dot on its interval (0 to 1), e.g. a rule's precision and its 95 % interval."""
    height = len(rows) * (BAR_HEIGHT + GAP) + 20
    width = LABEL_WIDTH + PLOT_WIDTH + 40
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>",
    ]
    for tick in (0, 0.5, 1):
        x = LABEL_WIDTH + PLOT_WIDTH * tick
        parts.append(f'<line x1="{x}" x2="{x}" y1="0" y2="{height - 18}" stroke="#d8dde3"/>')
        parts.append(
            f'<text x="{x}" y="{height - 4}" font-size="12" text-anchor="middle" fill="#5a6470">{tick:.0%}</text>'
        )
    for index, (label, estimate, low, high) in enumerate(rows):
        y = index * (BAR_HEIGHT + GAP) + BAR_HEIGHT / 2
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="13" '
            f'fill="#1b1f24">{escape(_shorten(label))}</text>'
        )
        parts.append(
            f'<line x1="{LABEL_WIDTH + PLOT_WIDTH * low:.1f}" x2="{LABEL_WIDTH + PLOT_WIDTH * high:.1f}" '
            f'y1="{y:.1f}" y2="{y:.1f}" stroke="#0b4f8a" stroke-width="3"/>'
        )
        if estimate is not None:
            parts.append(f'<circle cx="{LABEL_WIDTH + PLOT_WIDTH * estimate:.1f}" cy="{y:.1f}" r="6" fill="#8a4b0b"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every text in it is escaped above


def _shorten(label: str, most: int = 44) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"
