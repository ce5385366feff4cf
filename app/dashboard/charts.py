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


def _bar_scale(figures: Sequence[float], unit: str) -> _Scale:
    """Bars from zero; the largest spans the plot, whose right leaves room for the figures (and
    for the word "suppressed" when zero is not at the left)."""
    low, high = min([0.0, *figures]), max([0.0, *figures])
    room = PAD + max((CHAR * len(fmt(f, unit)) for f in figures), default=0)
    if low < 0:
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


def _said(
    shown: Published, hidden: Sequence[str], absent: Sequence[str], unit: str, of: str = ""
) -> str:
    """In words: the highest and lowest figures (``of`` says of what), then what is suppressed
    or absent."""
    if not shown:
        said = "no figure is published"
    elif len(shown) == 1:
        said = f"{shown[0][0]} {fmt(shown[0][1], unit)}"
    else:
        high, low = max(f for _, f in shown), min(f for _, f in shown)
        said = (
            f"all {fmt(high, unit)}"
            if high == low
            else f"highest{of} {_at(shown, high)} ({fmt(high, unit)}), "
            f"lowest{of} {_at(shown, low)} ({fmt(low, unit)})"
        )
    said += f"; suppressed: {', '.join(hidden)}" if hidden else ""
    said += f"; no figure: {', '.join(absent)}" if absent else ""
    return said + "."


def _at(shown: Published, figure: float) -> str:
    return ", ".join(label for label, f in shown if f == figure)


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
    scale = _bar_scale([f for _, f in split[0]], unit)
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
    scale = _bar_scale(figures, unit)

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


def _marker(shape: int, x: float, y: float, colour: str, cls: str) -> str:
    """A series' point: circle, square, triangle or diamond."""
    paint = f'class="{cls}" fill="{colour}" stroke="#FFFFFF"'
    if shape == 0:
        return f'<circle {paint} cx="{_n(x)}" cy="{_n(y)}" r="4.5"/>'
    if shape == 1:
        return f'<rect {paint} x="{_n(x - 4)}" y="{_n(y - 4)}" width="8" height="8"/>'
    if shape == 2:
        d = f"M{_n(x)},{_n(y - 5.5)}L{_n(x + 5)},{_n(y + 4)}L{_n(x - 5)},{_n(y + 4)}Z"
    else:
        d = f"M{_n(x)},{_n(y - 6)}L{_n(x + 6)},{_n(y)}L{_n(x)},{_n(y + 6)}L{_n(x - 6)},{_n(y)}Z"
    return f'<path {paint} d="{d}"/>'


DASHES = ("", ' stroke-dasharray="7 3"', ' stroke-dasharray="2 3"', ' stroke-dasharray="9 3 2 3"')


def _trace(i: int, points: Sequence[tuple[float, float] | None]) -> str:
    """Series i's line through its points, broken where a point is missing, and its markers."""
    colour, shape = _style(i)
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    out = [
        f'<polyline class="chart-line" fill="none" stroke="{colour}" '
        f'stroke-width="2"{DASHES[shape]} points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in run)}"/>'
        for run in runs
        if len(run) > 1
    ]
    out += [_marker(shape, x, y, colour, "chart-point chart-mark") for x, y in filter(None, points)]
    return "".join(out)


def _y_axis(axis: Sequence[float], ys: _Scale, left: float, unit: str) -> str:
    out = []
    for tick in axis:
        y = ys.x(tick)
        out.append(_line(left, y, WIDTH - PAD, y, "chart-grid", PALETTE.grid))
        out.append(_text(left - 6, y + 4, fmt(tick, unit), "chart-tick", "end", PALETTE.muted))
    bottom = ys.x(axis[0])
    out.append(_line(left, bottom, WIDTH - PAD, bottom, "chart-axis", PALETTE.rule))
    return "".join(out)


def _trend(shown: Published, unit: str) -> str:
    if len(shown) < 2:
        return ""
    (first, start), (last, end) = shown[0], shown[-1]
    return f"from {fmt(start, unit)} in {first} to {fmt(end, unit)} in {last}; "


def lines(
    prefix: str,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    description: str,
    unit: str = "",
) -> str:
    """A trend (by month): one line per series over ``x_labels``, with a marker of the series'
    own shape at each published figure and a gap where a figure is suppressed or absent (named
    in a note under the plot). The y axis has round ticks from zero (or below, for negative
    figures) to at least the highest figure. The ``<desc>`` names each series' first and last,
    highest and lowest figures."""
    if empty := _start(prefix, "lines", title, description, not x_labels or not series):
        return empty
    _same_length(x_labels, series)
    splits = [_split(x_labels, s.values, s.suppressed) for s in series]
    figures = [f for shown, _, _ in splits for _, f in shown]
    axis = ticks(min([0.0, *figures]), max([0.0, *figures]))

    def swatch(i: int, x: float, y: float) -> str:
        colour, shape = _style(i)
        return _line(x, y + 7, x + 18, y + 7, "chart-legend-swatch", colour, DASHES[shape]) + (
            _marker(shape, x + 9, y + 7, colour, "chart-legend-swatch")
        )

    legend, top = _legend([s.name for s in series], swatch)
    left = PAD + 6 + CHAR * max(len(fmt(t, unit)) for t in axis)
    inset = min(CHAR * max(len(x) for x in x_labels) / 2, (WIDTH - PAD - left) / 4) + 4
    ys = _Scale(axis[0], axis[-1], top + 160, -150)
    last = len(x_labels) - 1
    xs = _Scale(0 if last else -1, last or 1, left + inset, WIDTH - PAD - left - 2 * inset)
    body = [legend, _y_axis(axis, ys, left, unit)]
    room = max(1, int((WIDTH - PAD - left) // (CHAR * max(len(x) for x in x_labels) + 10)))
    step = -(-len(x_labels) // room)
    bottom = ys.x(axis[0])
    for k in range(0, len(x_labels), step):
        body.append(_text(xs.x(k), bottom + 18, x_labels[k], "chart-tick", "middle", PALETTE.muted))
    for i, s in enumerate(series):
        points = [
            None if secret or figure is None else (xs.x(k), ys.x(figure))
            for k, (figure, secret) in enumerate(zip(s.values, s.suppressed, strict=True))
        ]
        body.append(_trace(i, points))
    y = bottom + 18 + LINE
    for s, (_, hidden, absent) in zip(series, splits, strict=True):
        said = "; ".join(
            f"{what} in {', '.join(labels)}"
            for what, labels in (("suppressed", hidden), ("no figure", absent))
            if labels
        )
        if said:
            note, height = _wrapped(PAD, y, f"{s.name}: {said}.", "chart-note")
            body.append(note)
            y += height
    said = " ".join(
        f"{s.name}: {_trend(split[0], unit)}{_said(*split, unit)}"
        for s, split in zip(series, splits, strict=True)
    )
    return _svg(prefix, "lines", title, _join(description, said), y - FONT + PAD, "".join(body))


def _estimate(p: Interval, unit: str) -> str:
    """The figures as printed: "mean (lower to upper)"."""
    mean = DASH if p.mean is None else fmt(p.mean, unit)
    if p.lower is None or p.upper is None:
        return mean
    return f"{mean} ({fmt(p.lower, unit)} to {fmt(p.upper, unit)})"


def _x_axis(axis: Sequence[float], xs: _Scale, y: float, unit: str) -> str:
    out = [_line(xs.x(axis[0]), y, xs.x(axis[-1]), y, "chart-axis", PALETTE.rule)]
    for tick in axis:
        x = xs.x(tick)
        out.append(_line(x, y, x, y + 5, "chart-axis", PALETTE.rule))
        out.append(_text(x, y + 18, fmt(tick, unit), "chart-tick", "middle", PALETTE.muted))
    return "".join(out)


def _sides(points: Sequence[Interval]) -> str:
    """Which intervals lie wholly above zero, wholly below it, or include it."""
    sides: dict[str, list[str]] = {"above zero": [], "below zero": [], "including zero": []}
    for p in points:
        if p.lower is not None and p.upper is not None:
            low, high = sorted((p.lower, p.upper))
            side = "above zero" if low > 0 else "below zero" if high < 0 else "including zero"
            sides[side].append(p.label)
    return " ".join(f"Interval {k}: {', '.join(v)}." for k, v in sides.items() if v)


def intervals(
    prefix: str,
    title: str,
    points: Sequence[Interval],
    *,
    description: str,
    zero_line: bool = True,
    unit: str = "",
) -> str:
    """Estimates with their 95% confidence intervals, one row per label (its own line): a dot at
    the mean, a whisker from the lower to the upper bound, and the figures printed at the right.
    A vertical line marks zero (``zero_line``); the axis below has round ticks. The ``<desc>``
    names the highest and lowest means and which intervals lie above zero, below it or across."""
    if empty := _start(prefix, "intervals", title, description, not points):
        return empty
    published = [p for p in points if not p.suppressed]
    span = [
        c for p in published for f in (p.mean, p.lower, p.upper) if (c := _checked(f)) is not None
    ]
    span += [0.0] if zero_line else []
    axis = ticks(min(span, default=0.0), max(span, default=0.0))
    texts = [_estimate(p, unit) for p in published]
    room = PAD + max((CHAR * len(t) for t in texts), default=0)
    xs = _Scale(axis[0], axis[-1], PAD + 4, max(WIDTH - 2 * PAD - 8 - room, WIDTH / 2))
    body, y = [_defs(prefix)], float(PAD + FONT)
    for p in points:
        label, height = _wrapped(PAD, y, p.label)
        middle = y + height - FONT + 13
        body.append(label + _interval(prefix, p, xs, middle, unit, zero_line))
        y += height + 30
    body.append(_x_axis(axis, xs, y - FONT - 4, unit))
    split = _split(
        [p.label for p in points], [p.mean for p in points], [p.suppressed for p in points]
    )
    said = _said(*split, unit, " mean")
    desc = _join(description, said[0].upper() + said[1:], _sides(published) if zero_line else "")
    return _svg(prefix, "intervals", title, desc, y + 20, "".join(body))


def _interval(prefix: str, p: Interval, xs: _Scale, y: float, unit: str, zero_line: bool) -> str:
    """One row: whisker and dot, and the figures; or a hatched placeholder and the word."""
    right, zero = xs.x0 + xs.width + PAD, xs.x(0)
    dashed = ' stroke-dasharray="4 3"'
    out = (
        [_line(zero, y - 11, zero, y + 11, "chart-zero", PALETTE.text, dashed)] if zero_line else []
    )
    if p.suppressed:
        return "".join(out) + (
            f'<rect class="chart-suppressed" x="{_n(xs.x0)}" y="{_n(y - 7)}" width="{PLACEHOLDER}" '
            f'height="14" fill="url(#{prefix}-hatch)" stroke="{PALETTE.rule}"/>'
            + _text(right, y + 4.5, "suppressed", "chart-value", fill=PALETTE.muted)
        )
    if p.lower is not None and p.upper is not None:
        a, b = xs.x(p.lower), xs.x(p.upper)
        out.append(_line(a, y, b, y, "chart-whisker", PALETTE.text, ' stroke-width="2"'))
        out += [
            _line(x, y - 6, x, y + 6, "chart-whisker", PALETTE.text, ' stroke-width="2"')
            for x in (a, b)
        ]
    if p.mean is not None:
        out.append(_marker(0, xs.x(p.mean), y, PALETTE.series[0], "chart-point chart-mark"))
    return "".join(out) + _text(right, y + 4.5, _estimate(p, unit), "chart-value")
