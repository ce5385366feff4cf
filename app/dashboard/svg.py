"""Drawing primitives of the dashboard's SVG charts (``charts.py``): the palette, escaping,
text, lines, fill patterns, markers, scales, legends, axes and round ticks.

Pure string building; every text goes through ``esc`` (characters that XML 1.0 forbids are
dropped) and every coordinate through ``num``.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Palette:
    series: tuple[str, ...]  # marks: >= 3:1 against white (WCAG 1.4.11)
    text: str  # >= 4.5:1 (WCAG 1.4.3)
    muted: str  # tick labels, notes: >= 4.5:1
    rule: str  # axes, hatching of suppressed cells: >= 3:1
    grid: str  # gridlines, decorative (the tick labels carry the figures)


# Okabe & Ito's colour-blind-safe set, the four of its colours with 3:1 against white.
PALETTE = Palette(
    series=("#0072B2", "#D55E00", "#009E73", "#CC79A7"),
    text="#1F1F1F",
    muted="#595959",
    rule="#767676",
    grid="#E0E0E0",
)

WIDTH = 400  # viewBox units; the chart scales to its container
PAD = 8
FONT = 13
LINE = 17  # line height of wrapped labels
CHAR = 7.2  # width of an average glyph, to reserve room for printed figures
WRAP = 50  # characters per label line
PLACEHOLDER = 24  # width of the hatched mark of a suppressed figure
MAX_ABS = 1e15
FONT_FAMILY = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
DASH = "\u2013"  # an absent figure
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def fmt(value: float, unit: str = "") -> str:
    """A figure as printed: thousands separated, at most two decimals, no "-0"."""
    value = float(value)
    shown = f"{int(value):,}" if value.is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
    return ("0" if shown == "-0" else shown) + unit


def ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round axis ticks (1, 2 or 5 times a power of ten apart) from <= low to >= high."""
    size = max(1.0, abs(low), abs(high))
    span = max(high - low, 1e-9 * size) if high > low else size  # within float precision
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    digits = max(0, -math.floor(math.log10(step)))
    first, last = math.floor(low / step), math.ceil(max(high, low + span) / step)
    if round(first * step, digits) > low:  # low / step underflowed to zero
        first -= 1
    if round(last * step, digits) < high:
        last += 1
    return [round(i * step, digits) + 0.0 for i in range(first, last + 1)]


def esc(text: str) -> str:
    return html.escape(_NOT_XML.sub("", text))


def num(x: float) -> str:
    return f"{x:.1f}"


def checked(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and abs(value) <= MAX_ABS):
        raise ValueError(f"chart figures must be finite and at most {MAX_ABS:g} in size")
    return value


def text(x: float, y: float, content: str, cls: str, anchor: str = "start", fill: str = "") -> str:
    return (
        f'<text class="{cls}" x="{num(x)}" y="{num(y)}" text-anchor="{anchor}" '
        f'fill="{fill or PALETTE.text}">{esc(content)}</text>'
    )


def line(x1: float, y1: float, x2: float, y2: float, cls: str, stroke: str, extra: str = "") -> str:
    return (
        f'<line class="{cls}" x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" '
        f'stroke="{stroke}"{extra}/>'
    )


def wrapped(x: float, y: float, content: str, cls: str = "chart-label") -> tuple[str, float]:
    """Text wrapped to lines from baseline ``y``, and the height the lines take."""
    rows = textwrap.wrap(_NOT_XML.sub("", content), WRAP) or [""]
    markup = "".join(text(x, y + i * LINE, row, cls) for i, row in enumerate(rows))
    return markup, len(rows) * LINE


def image(prefix: str, kind: str, title: str, desc: str, height: float, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" viewBox="0 0 {WIDTH} {num(height)}" '
        f'width="100%" font-family="{FONT_FAMILY}" font-size="{FONT}" fill="{PALETTE.text}">'
        f'<title id="{prefix}-title">{esc(title)}</title>'
        f'<desc id="{prefix}-desc">{esc(desc)}</desc>{body}</svg>'
    )


def _pattern(pid: str, size: float, marks: str, rotate: bool = True) -> str:
    turn = ' patternTransform="rotate(45)"' if rotate else ""
    return (
        f'<pattern id="{pid}" width="{size}" height="{size}" patternUnits="userSpaceOnUse"{turn}>'
        f'<rect width="{size}" height="{size}" fill="#FFFFFF"/>{marks}</pattern>'
    )


def defs(prefix: str, series: int = 0) -> str:
    """The hatching of suppressed cells and, for grouped bars, one fill pattern per series."""
    hatch = f'<line x1="0" y1="0" x2="0" y2="6" stroke="{PALETTE.rule}" stroke-width="2"/>'
    out = [_pattern(f"{prefix}-hatch", 6, hatch)]
    for i in range(series):
        colour, kind = style(i)
        marks = (
            "",
            f'<rect width="3" height="6" fill="{colour}"/>',
            f'<circle cx="2.5" cy="2.5" r="1.6" fill="{colour}"/>',
            f'<path d="M0,3H6M3,0V6" stroke="{colour}" stroke-width="1.5"/>',
        )[kind]
        if kind:
            out.append(_pattern(f"{prefix}-s{i}", 5 if kind == 2 else 6, marks, kind != 2))
    return "<defs>" + "".join(out) + "</defs>"


def style(i: int) -> tuple[str, int]:
    """Series i's colour and its pattern or marker shape (0-3): no two of the first 16 alike."""
    colours = PALETTE.series
    return colours[i % len(colours)], (i + i // len(colours)) % 4


def fill(prefix: str, i: int) -> str:
    colour, kind = style(i)
    return f"url(#{prefix}-s{i})" if kind else colour


@dataclass(frozen=True)
class Scale:
    """Figures from low to high onto ``width`` units from ``x0`` (a negative width: upwards)."""

    low: float
    high: float
    x0: float
    width: float

    def x(self, value: float) -> float:
        return self.x0 + (value - self.low) / (self.high - self.low) * self.width


def placeholder(prefix: str, x: float, y: float, h: float, word_x: float) -> str:
    """A suppressed figure: a hatched box where its mark would start, and the word."""
    return (
        f'<rect class="chart-suppressed" x="{num(x)}" y="{num(y)}" width="{PLACEHOLDER}" '
        f'height="{num(h)}" fill="url(#{prefix}-hatch)" stroke="{PALETTE.rule}"/>'
        + text(word_x, y + h / 2 + FONT * 0.35, "suppressed", "chart-value", fill=PALETTE.muted)
    )


def legend(names: Sequence[str], swatch: Callable[[int, float, float], str]) -> tuple[str, float]:
    """Each series' swatch and name, in rows across the width; and the bottom of the last row."""
    out, x, y = [], float(PAD), float(PAD)
    for i, name in enumerate(names):
        width = 24 + CHAR * len(name)
        if x > PAD and x + width > WIDTH - PAD:
            x, y = PAD, y + LINE
        out.append(swatch(i, x, y) + text(x + 24, y + 11, name, "chart-legend"))
        x += width + 14
    return "".join(out), y + LINE


def marker(shape: int, x: float, y: float, colour: str, cls: str) -> str:
    """A series' point: circle, square, triangle or diamond."""
    paint = f'class="{cls}" fill="{colour}" stroke="#FFFFFF"'
    if shape == 0:
        return f'<circle {paint} cx="{num(x)}" cy="{num(y)}" r="4.5"/>'
    if shape == 1:
        return f'<rect {paint} x="{num(x - 4)}" y="{num(y - 4)}" width="8" height="8"/>'
    if shape == 2:
        d = f"M{num(x)},{num(y - 5.5)}L{num(x + 5)},{num(y + 4)}L{num(x - 5)},{num(y + 4)}Z"
    else:
        d = f"M{num(x)},{num(y - 6)}L{num(x + 6)},{num(y)}L{num(x)},{num(y + 6)}"
        d += f"L{num(x - 6)},{num(y)}Z"
    return f'<path {paint} d="{d}"/>'


DASHES = ("", ' stroke-dasharray="7 3"', ' stroke-dasharray="2 3"', ' stroke-dasharray="9 3 2 3"')


def y_axis(axis: Sequence[float], ys: Scale, left: float, unit: str) -> str:
    out = []
    for tick in axis:
        y = ys.x(tick)
        out.append(line(left, y, WIDTH - PAD, y, "chart-grid", PALETTE.grid))
        out.append(text(left - 6, y + 4, fmt(tick, unit), "chart-tick", "end", PALETTE.muted))
    bottom = ys.x(axis[0])
    out.append(line(left, bottom, WIDTH - PAD, bottom, "chart-axis", PALETTE.rule))
    return "".join(out)


def x_axis(axis: Sequence[float], xs: Scale, y: float, unit: str) -> str:
    out = [line(xs.x(axis[0]), y, xs.x(axis[-1]), y, "chart-axis", PALETTE.rule)]
    for tick in axis:
        x = xs.x(tick)
        out.append(line(x, y, x, y + 5, "chart-axis", PALETTE.rule))
        out.append(text(x, y + 18, fmt(tick, unit), "chart-tick", "middle", PALETTE.muted))
    return "".join(out)


def trace(i: int, points: Sequence[tuple[float, float] | None]) -> str:
    """Series i's line through its points, broken where a point is missing, and its markers."""
    colour, shape = style(i)
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    out = [
        f'<polyline class="chart-line" fill="none" stroke="{colour}" stroke-width="2"'
        f'{DASHES[shape]} points="{" ".join(f"{num(x)},{num(y)}" for x, y in run)}"/>'
        for run in runs
        if len(run) > 1
    ]
    out += [marker(shape, x, y, colour, "chart-point chart-mark") for x, y in filter(None, points)]
    return "".join(out)


def bar(
    prefix: str, s: Scale, y: float, h: float, figure: float | None, suppressed: bool,
    series: int, unit: str,
) -> str:  # fmt: skip
    """One bar from the zero line, its figure at its end; when suppressed, a hatched placeholder
    and the word; when absent, a dash."""
    base, baseline = s.x(0), y + h / 2 + FONT * 0.35
    axis = line(base, y - 2, base, y + h + 2, "chart-axis", PALETTE.rule)
    if suppressed:
        return axis + placeholder(prefix, base, y, h, base + PLACEHOLDER + 4)
    if figure is None:
        return axis + text(base + 4, baseline, DASH, "chart-value")
    left, right = sorted((base, s.x(figure)))
    return (
        f'<rect class="chart-bar chart-mark" x="{num(left)}" y="{num(y)}" '
        f'width="{num(right - left)}" height="{num(h)}" '
        f'fill="{fill(prefix, series)}" stroke="{style(series)[0]}"/>'
        + axis
        + text(max(right, base) + 4, baseline, fmt(figure, unit), "chart-value")
    )


def bar_scale(figures: Sequence[float], unit: str) -> Scale:
    """Bars from zero; the largest spans the plot, whose right leaves room for the figures (and
    for the word "suppressed" when zero is not at the left)."""
    low, high = min([0.0, *figures]), max([0.0, *figures])
    room = PAD + max((CHAR * len(fmt(f, unit)) for f in figures), default=0)
    if low < 0:
        room = max(room, PAD + PLACEHOLDER + CHAR * len("suppressed"))
    width = max(WIDTH - 2 * PAD - room, WIDTH / 2)
    return Scale(low, high if high > low else low + 1, PAD, width)
