"""SVG charts of the commissioner's dashboard (issue 18), drawn on the server.

Pure: plain values in, an SVG string out. Each chart is an accessible image (``role="img"``,
``<title>``, and a ``<desc>`` that says in words what it shows: the highest and lowest figures,
what is suppressed), scales to its container (viewBox, width 100%) and reads without the
stylesheet (presentation attributes; ``chart-*`` classes for the page's CSS, no inline style,
so a strict CSP holds). A suppressed figure is never drawn: its place shows a hatched
placeholder and the word "suppressed"; an absent figure shows a dash. Series differ by
colour and by pattern or marker shape (WCAG 1.4.1). The page puts a data table beside each
chart. Why our own SVG: docs/dashboard.md. The drawing primitives and the palette: ``svg.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.dashboard import svg as draw
from app.dashboard.svg import (
    CHAR,
    DASH,
    DASHES,
    FONT,
    LINE,
    PAD,
    PALETTE,
    WIDTH,
    fmt,
    ticks,
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


NO_FIGURES = "No figures for this selection"
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")


def _start(prefix: str, kind: str, title: str, description: str, empty: bool) -> str | None:
    """Check the id prefix; the "No figures" chart when there is nothing to draw."""
    if not _ID.match(prefix):
        raise ValueError(
            f"chart id prefix must be a letter then letters, digits, - or _: {prefix!r}"
        )
    if not empty:
        return None
    body = draw.text(WIDTH / 2, 34, NO_FIGURES, "chart-empty", "middle", PALETTE.muted)
    return draw.image(prefix, kind, title, f"{description} {NO_FIGURES}.".strip(), 56, body)


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
        elif (checked := draw.checked(figure)) is None:
            absent.append(label)
        else:
            shown.append((label, float(checked)))
    return shown, hidden, absent


def _same_length(labels: Sequence[str], series: Sequence[Series]) -> None:
    for s in series:
        if len(s.values) != len(labels):
            raise ValueError(
                f"series {s.name!r} has {len(s.values)} figures for {len(labels)} labels"
            )


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


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def bars(
    prefix: str, title: str, values: Sequence[Value], *, description: str, unit: str = ""
) -> str:
    """Horizontal bars, one per value: its label on a line of its own (long labels fit a phone),
    the bar below it with the figure printed at its end. ``prefix`` makes the chart's ids unique
    in the page; ``description`` opens the ``<desc>``, which goes on to name the highest and
    lowest bars; ``unit`` follows each printed figure (e.g. "%")."""
    series = Series("", [v.value for v in values], [v.suppressed for v in values])
    return _bar_groups(prefix, title, [v.label for v in values], [series], description, unit)


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
    if not series:
        categories = []
    return _bar_groups(prefix, title, categories, series, description, unit, legend=True)


def _bar_groups(
    prefix: str, title: str, categories: Sequence[str], series: Sequence[Series],
    description: str, unit: str, legend: bool = False,
) -> str:  # fmt: skip
    """Both kinds of bar chart: one group per category, one bar per series in it; the legend
    only for grouped bars."""
    kind = "grouped-bars" if legend else "bars"
    if empty := _start(prefix, kind, title, description, not categories):
        return empty
    _same_length(categories, series)
    splits = [_split(categories, s.values, s.suppressed) for s in series]
    scale = draw.bar_scale([f for shown, _, _ in splits for _, f in shown], unit)

    def swatch(i: int, x: float, y: float) -> str:
        return (
            f'<rect class="chart-legend-swatch" x="{draw.num(x)}" y="{draw.num(y)}" '
            f'width="18" height="13" fill="{draw.fill(prefix, i)}" stroke="{draw.style(i)[0]}"/>'
        )

    key, y = draw.legend([s.name for s in series], swatch) if legend else ("", PAD)
    body, y, h = [draw.defs(prefix, len(series)), key], y + 6 + FONT, 13 if legend else 18
    for c, category in enumerate(categories):
        label, height = draw.wrapped(PAD, y, category)
        body.append(label)
        top = y + height - FONT + 4
        for i, s in enumerate(series):
            secret = s.suppressed[c]
            body.append(
                draw.bar(prefix, scale, top, h, None if secret else s.values[c], secret, i, unit)
            )
            top += h + 3
        y = top + 11 + FONT
    if legend:
        said = [f"{s.name}: {_said(*split, unit)}" for s, split in zip(series, splits, strict=True)]
    else:
        said = [_sentence(_said(*splits[0], unit))]
    desc = _join(description, *said)
    return draw.image(prefix, kind, title, desc, y - FONT, "".join(body))


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
        colour, shape = draw.style(i)
        return draw.line(x, y + 7, x + 18, y + 7, "chart-legend-swatch", colour, DASHES[shape]) + (
            draw.marker(shape, x + 9, y + 7, colour, "chart-legend-swatch")
        )

    legend, top = draw.legend([s.name for s in series], swatch)
    left = PAD + 6 + CHAR * max(len(fmt(t, unit)) for t in axis)
    inset = min(CHAR * max(len(x) for x in x_labels) / 2, (WIDTH - PAD - left) / 4) + 4
    ys = draw.Scale(axis[0], axis[-1], top + 160, -150)
    last = len(x_labels) - 1
    xs = draw.Scale(0 if last else -1, last or 1, left + inset, WIDTH - PAD - left - 2 * inset)
    body = [legend, draw.y_axis(axis, ys, left, unit)]
    room = max(1, int((WIDTH - PAD - left) // (CHAR * max(len(x) for x in x_labels) + 10)))
    step = -(-len(x_labels) // room)
    bottom = ys.x(axis[0])
    for k in range(0, len(x_labels), step):
        body.append(
            draw.text(xs.x(k), bottom + 18, x_labels[k], "chart-tick", "middle", PALETTE.muted)
        )
    for i, s in enumerate(series):
        points = [
            None if secret or figure is None else (xs.x(k), ys.x(figure))
            for k, (figure, secret) in enumerate(zip(s.values, s.suppressed, strict=True))
        ]
        body.append(draw.trace(i, points))
    y = bottom + 18 + LINE
    for s, (_, hidden, absent) in zip(series, splits, strict=True):
        said = "; ".join(
            f"{what} in {', '.join(labels)}"
            for what, labels in (("suppressed", hidden), ("no figure", absent))
            if labels
        )
        if said:
            note, height = draw.wrapped(PAD, y, f"{s.name}: {said}.", "chart-note")
            body.append(note)
            y += height
    said = " ".join(
        f"{s.name}: {_trend(split[0], unit)}{_said(*split, unit)}"
        for s, split in zip(series, splits, strict=True)
    )
    return draw.image(
        prefix, "lines", title, _join(description, said), y - FONT + PAD, "".join(body)
    )


def _estimate(p: Interval, unit: str) -> str:
    """The figures as printed: "mean (lower to upper)"."""
    mean = DASH if p.mean is None else fmt(p.mean, unit)
    if p.lower is None or p.upper is None:
        return mean
    return f"{mean} ({fmt(p.lower, unit)} to {fmt(p.upper, unit)})"


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
        c
        for p in published
        for f in (p.mean, p.lower, p.upper)
        if (c := draw.checked(f)) is not None
    ]
    span += [0.0] if zero_line else []
    axis = ticks(min(span, default=0.0), max(span, default=0.0))
    texts = [_estimate(p, unit) for p in published]
    room = PAD + max((CHAR * len(t) for t in texts), default=0)
    xs = draw.Scale(axis[0], axis[-1], PAD + 4, max(WIDTH - 2 * PAD - 8 - room, WIDTH / 2))
    body, y = [draw.defs(prefix)], float(PAD + FONT)
    for p in points:
        label, height = draw.wrapped(PAD, y, p.label)
        middle = y + height - FONT + 13
        body.append(label + _interval(prefix, p, xs, middle, unit, zero_line))
        y += height + 30
    body.append(draw.x_axis(axis, xs, y - FONT - 4, unit))
    split = _split(
        [p.label for p in points], [p.mean for p in points], [p.suppressed for p in points]
    )
    desc = _join(
        description, _sentence(_said(*split, unit, " mean")), _sides(published) if zero_line else ""
    )
    return draw.image(prefix, "intervals", title, desc, y + 20, "".join(body))


def _interval(
    prefix: str, p: Interval, xs: draw.Scale, y: float, unit: str, zero_line: bool
) -> str:
    """One row: whisker and dot, and the figures; or a hatched placeholder and the word."""
    right, zero = xs.x0 + xs.width + PAD, xs.x(0)
    dashed = ' stroke-dasharray="4 3"'
    out = (
        [draw.line(zero, y - 11, zero, y + 11, "chart-zero", PALETTE.text, dashed)]
        if zero_line
        else []
    )
    if p.suppressed:
        return "".join(out) + draw.placeholder(prefix, xs.x0, y - 7, 14, right)
    if p.lower is not None and p.upper is not None:
        a, b = xs.x(p.lower), xs.x(p.upper)
        out.append(draw.line(a, y, b, y, "chart-whisker", PALETTE.text, ' stroke-width="2"'))
        out += [
            draw.line(x, y - 6, x, y + 6, "chart-whisker", PALETTE.text, ' stroke-width="2"')
            for x in (a, b)
        ]
    if p.mean is not None:
        out.append(draw.marker(0, xs.x(p.mean), y, PALETTE.series[0], "chart-point chart-mark"))
    return "".join(out) + draw.text(right, y + 4.5, _estimate(p, unit), "chart-value")
