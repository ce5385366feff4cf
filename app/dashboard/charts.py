"""SVG charts of the commissioner's dashboard (issue 18), drawn on the server.

Pure: plain values in, an SVG string out. Each chart is an accessible image (``role="img"``,
``<title>``, and a ``<desc>`` that says in words what it shows: the highest and lowest figures,
what is suppressed), scales to its container (viewBox, width 100%) and reads without the
stylesheet (presentation attributes; ``chart-*`` classes for the page's CSS, no inline style,
so a strict CSP holds). A suppressed figure is never drawn: its place shows a hatched
placeholder and the word "suppressed"; an absent figure shows a dash. Series differ by
colour and by pattern or marker shape (WCAG 1.4.1). The page puts a data table beside each
chart. Why our own SVG: docs/dashboard.md.
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


@dataclass(frozen=True)
class Value:
    label: str
    value: float | None
    suppressed: bool = False


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    suppressed: Sequence[bool]

    def __post_init__(self) -> None:
        if len(self.values) != len(self.suppressed):
            raise ValueError(f"series {self.name!r}: values and suppressed differ in length")


@dataclass(frozen=True)
class Interval:
    label: str
    mean: float | None
    lower: float | None
    upper: float | None
    suppressed: bool = False


WIDTH = 400  # viewBox units; the chart scales to its container
PAD = 8
FONT = 13
LINE = 17  # line height of wrapped labels
CHAR = 7.2  # width of an average glyph, to reserve room for printed figures
WRAP = 50  # characters per label line
PLACEHOLDER = 24  # width of the hatched mark of a suppressed figure
MAX_ABS = 1e15
FONT_FAMILY = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
NO_FIGURES = "No figures for this selection"
DASH = "\u2013"  # an absent figure
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def fmt(value: float, unit: str = "") -> str:
    """A figure as printed: thousands separated, at most two decimals, no "-0"."""
    value = float(value)
    text = f"{int(value):,}" if value.is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
    return ("0" if text == "-0" else text) + unit


def ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round axis ticks (1, 2 or 5 times a power of ten apart) from <= low to >= high."""
    span = max(high - low, 1e-9) if high > low else max(abs(high), 1.0)
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    digits = max(0, -math.floor(math.log10(step)))
    first, last = math.floor(low / step), math.ceil((low + span) / step)
    return [round(i * step, digits) + 0.0 for i in range(first, last + 1)]


def _esc(text: str) -> str:
    return html.escape(_NOT_XML.sub("", text))


def _n(x: float) -> str:
    return f"{x:.1f}"


def _checked(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and abs(value) <= MAX_ABS):
        raise ValueError(f"chart figures must be finite and at most {MAX_ABS:g} in size")
    return value


def _text(x: float, y: float, content: str, cls: str, anchor: str = "start", fill: str = "") -> str:
    return (
        f'<text class="{cls}" x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" '
        f'fill="{fill or PALETTE.text}">{_esc(content)}</text>'
    )


def _line(
    x1: float, y1: float, x2: float, y2: float, cls: str, stroke: str, extra: str = ""
) -> str:
    return (
        f'<line class="{cls}" x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
        f'stroke="{stroke}"{extra}/>'
    )


def _wrapped(x: float, y: float, text: str, cls: str = "chart-label") -> tuple[str, float]:
    """Text wrapped to lines from baseline ``y``, and the height the lines take."""
    lines = textwrap.wrap(_NOT_XML.sub("", text), WRAP) or [""]
    markup = "".join(_text(x, y + i * LINE, line, cls) for i, line in enumerate(lines))
    return markup, len(lines) * LINE


def _svg(prefix: str, kind: str, title: str, desc: str, height: float, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" viewBox="0 0 {WIDTH} {_n(height)}" '
        f'width="100%" font-family="{FONT_FAMILY}" font-size="{FONT}" fill="{PALETTE.text}">'
        f'<title id="{prefix}-title">{_esc(title)}</title>'
        f'<desc id="{prefix}-desc">{_esc(desc)}</desc>{body}</svg>'
    )


def _start(prefix: str, kind: str, title: str, description: str, empty: bool) -> str | None:
    """Check the id prefix; the "No figures" chart when there is nothing to draw."""
    if not _ID.match(prefix):
        raise ValueError(
            f"chart id prefix must be a letter then letters, digits, - or _: {prefix!r}"
        )
    if not empty:
        return None
    body = _text(WIDTH / 2, 34, NO_FIGURES, "chart-empty", "middle", PALETTE.muted)
    return _svg(prefix, kind, title, f"{description} {NO_FIGURES}.".strip(), 56, body)


def _pattern(pid: str, size: float, marks: str, rotate: bool = True) -> str:
    turn = ' patternTransform="rotate(45)"' if rotate else ""
    return (
        f'<pattern id="{pid}" width="{size}" height="{size}" patternUnits="userSpaceOnUse"{turn}>'
        f'<rect width="{size}" height="{size}" fill="#FFFFFF"/>{marks}</pattern>'
    )


def _defs(prefix: str, series: int = 0) -> str:
    """The hatching of suppressed cells and, for grouped bars, one fill pattern per series."""
    hatch = f'<line x1="0" y1="0" x2="0" y2="6" stroke="{PALETTE.rule}" stroke-width="2"/>'
    out = [_pattern(f"{prefix}-hatch", 6, hatch)]
    for i in range(series):
        colour, kind = _style(i)
        marks = (
            "",
            f'<rect width="3" height="6" fill="{colour}"/>',
            f'<circle cx="2.5" cy="2.5" r="1.6" fill="{colour}"/>',
            f'<path d="M0,3H6M3,0V6" stroke="{colour}" stroke-width="1.5"/>',
        )[kind]
        if kind:
            out.append(_pattern(f"{prefix}-s{i}", 5 if kind == 2 else 6, marks, kind != 2))
    return "<defs>" + "".join(out) + "</defs>"


def _style(i: int) -> tuple[str, int]:
    """Series i's colour and its pattern or marker shape (0-3): no two of the first 16 alike."""
    colours = PALETTE.series
    return colours[i % len(colours)], (i + i // len(colours)) % 4


def _fill(prefix: str, i: int) -> str:
    colour, kind = _style(i)
    return f"url(#{prefix}-s{i})" if kind else colour


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float
    x0: float
    width: float

    def x(self, value: float) -> float:
        return self.x0 + (value - self.low) / (self.high - self.low) * self.width


def _bar_scale(figures: Sequence[float], texts: Sequence[str]) -> _Scale:
    """Bars from zero; the largest spans the plot, whose right leaves room for the figures."""
    low, high = min(0.0, *figures), max(0.0, *figures)
    room = PAD + max((CHAR * len(t) for t in texts), default=0)
    room = max(room, PAD + PLACEHOLDER + CHAR * len("suppressed"))
    width = max(WIDTH - 2 * PAD - room, WIDTH / 2)
    return _Scale(low, high if high > low else low + 1, PAD, width)


def _bar(
    prefix: str, s: _Scale, y: float, h: float, figure: float | None, suppressed: bool, series: int,
    unit: str,
) -> str:  # fmt: skip
    """One bar from the zero line, its figure at its end; when suppressed, a hatched placeholder
    and the word; when absent, a dash."""
    base, baseline = s.x(0), y + h / 2 + FONT * 0.35
    axis = _line(base, y - 2, base, y + h + 2, "chart-axis", PALETTE.rule)
    if suppressed:
        return (
            axis
            + f'<rect class="chart-suppressed" x="{_n(base)}" y="{_n(y)}" width="{PLACEHOLDER}" '
            f'height="{_n(h)}" fill="url(#{prefix}-hatch)" stroke="{PALETTE.rule}"/>'
            + _text(
                base + PLACEHOLDER + 4, baseline, "suppressed", "chart-value", fill=PALETTE.muted
            )
        )
    if figure is None:
        return axis + _text(base + 4, baseline, DASH, "chart-value")
    left, right = sorted((base, s.x(figure)))
    return (
        f'<rect class="chart-bar chart-mark" x="{_n(left)}" y="{_n(y)}" '
        f'width="{_n(right - left)}" height="{_n(h)}" fill="{_fill(prefix, series)}" '
        f'stroke="{_style(series)[0]}"/>'
        + axis
        + _text(max(right, base) + 4, baseline, fmt(figure, unit), "chart-value")
    )


Published = list[tuple[str, float]]


def _split(
    labels: Sequence[str], figures: Sequence[float | None], suppressed: Sequence[bool]
) -> tuple[Published, list[str], list[str]]:
    """(label, figure) of the published figures; the labels of the suppressed; of the absent."""
    shown: Published = []
    hidden, absent = [], []
    for label, figure, secret in zip(labels, figures, suppressed, strict=True):
        if secret:
            hidden.append(label)
        elif (checked := _checked(figure)) is None:
            absent.append(label)
        else:
            shown.append((label, float(checked)))
    return shown, hidden, absent


def _said(shown: Published, hidden: Sequence[str], absent: Sequence[str], unit: str) -> str:
    """In words: the highest and lowest figures, then what is suppressed or absent."""
    if not shown:
        said = "no figure is published"
    elif len(shown) == 1:
        said = f"{shown[0][0]} {fmt(shown[0][1], unit)}"
    else:
        (top, high), (bottom, low) = max(shown, key=_figure), min(shown, key=_figure)
        said = f"highest {top} ({fmt(high, unit)}), lowest {bottom} ({fmt(low, unit)})"
    said += f"; suppressed: {', '.join(hidden)}" if hidden else ""
    said += f"; no figure: {', '.join(absent)}" if absent else ""
    return said + "."


def _figure(pair: tuple[str, float]) -> float:
    return pair[1]


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p.strip())


def bars(
    prefix: str, title: str, values: Sequence[Value], *, description: str, unit: str = ""
) -> str:
    """Horizontal bars, one per value: its label on a line of its own (long labels fit a phone),
    the bar below it with the figure printed at its end. ``prefix`` makes the chart's ids unique
    in the page; ``description`` opens the ``<desc>``, which goes on to name the highest and
    lowest bars; ``unit`` follows each printed figure (e.g. "%")."""
    if empty := _start(prefix, "bars", title, description, not values):
        return empty
    split = _split(
        [v.label for v in values], [v.value for v in values], [v.suppressed for v in values]
    )
    scale = _bar_scale([f for _, f in split[0]], [fmt(f, unit) for _, f in split[0]])
    body, y = [_defs(prefix)], float(PAD + FONT)
    for v in values:
        label, height = _wrapped(PAD, y, v.label)
        figure = None if v.suppressed else v.value
        bar = _bar(prefix, scale, y + height - FONT + 4, 18, figure, v.suppressed, 0, unit)
        body += [label, bar]
        y += height + 30
    said = _said(*split, unit)
    return _svg(
        prefix,
        "bars",
        title,
        _join(description, said[0].upper() + said[1:]),
        y - FONT,
        "".join(body),
    )


def _legend(names: Sequence[str], swatch: Callable[[int, float, float], str]) -> tuple[str, float]:
    """Each series' swatch and name, in rows across the width; and the bottom of the last row."""
    out, x, y = [], float(PAD), float(PAD)
    for i, name in enumerate(names):
        width = 24 + CHAR * len(name)
        if x > PAD and x + width > WIDTH - PAD:
            x, y = PAD, y + LINE
        out.append(swatch(i, x, y) + _text(x + 24, y + 11, name, "chart-legend"))
        x += width + 14
    return "".join(out), y + LINE


def _same_length(labels: Sequence[str], series: Sequence[Series]) -> None:
    for s in series:
        if len(s.values) != len(labels):
            raise ValueError(
                f"series {s.name!r} has {len(s.values)} figures for {len(labels)} labels"
            )


def grouped_bars(
    prefix: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    description: str,
    unit: str = "",
) -> str:
    """Horizontal bars in groups, one group per category (its label on a line of its own) and one
    bar per series in it, the figure at its end. Series differ by colour and fill pattern, shown
    in the legend above. The ``<desc>`` names each series' highest and lowest category."""
    if empty := _start(prefix, "grouped-bars", title, description, not categories or not series):
        return empty
    _same_length(categories, series)
    splits = [_split(categories, s.values, s.suppressed) for s in series]
    figures = [f for shown, _, _ in splits for _, f in shown]
    scale = _bar_scale(figures, [fmt(f, unit) for f in figures])

    def swatch(i: int, x: float, y: float) -> str:
        return (
            f'<rect class="chart-legend-swatch" x="{_n(x)}" y="{_n(y)}" width="18" height="13" '
            f'fill="{_fill(prefix, i)}" stroke="{_style(i)[0]}"/>'
        )

    legend, y = _legend([s.name for s in series], swatch)
    body, y = [_defs(prefix, len(series)), legend], y + 6 + FONT
    for c, category in enumerate(categories):
        label, height = _wrapped(PAD, y, category)
        body.append(label)
        top = y + height - FONT + 4
        for i, s in enumerate(series):
            secret = s.suppressed[c]
            body.append(
                _bar(prefix, scale, top, 13, None if secret else s.values[c], secret, i, unit)
            )
            top += 16
        y = top + 14 + FONT
    said = " ".join(
        f"{s.name}: {_said(*split, unit)}" for s, split in zip(series, splits, strict=True)
    )
    return _svg(prefix, "grouped-bars", title, _join(description, said), y - FONT, "".join(body))
