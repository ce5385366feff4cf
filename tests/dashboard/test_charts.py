"""The dashboard's SVG charts (issue 18): accessible, faithful to the figures, never drawing a
suppressed one, and valid XML whatever the labels and figures.

The output is parsed with the standard library's ElementTree: it is our own markup, so the
XML attacks that ruff's S314 guards against do not apply.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.dashboard import svg
from app.dashboard.charts import Interval, Series, Value, bars, grouped_bars, intervals, lines
from app.dashboard.svg import DASH, PALETTE

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = ["Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026", "May 2026", "Jun 2026"]


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 (our own output, see the module docstring)


def with_class(root: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [e for e in root.iter() if name in e.get("class", "").split()]


def texts(root: ElementTree.Element, name: str = "chart-value") -> list[str]:
    return [e.text or "" for e in with_class(root, name)]


def marks(root: ElementTree.Element) -> list[ElementTree.Element]:
    return with_class(root, "chart-mark")


def sample_bars() -> str:
    values = [
        Value("Loneliness", 120),
        Value("Debt advice", None, suppressed=True),
        Value("Housing", None),
        Value("Physical activity", 45.5),
    ]
    return bars("need", "Referrals by need", values, description="Referrals received by need.")


def sample_grouped() -> str:
    series = [
        Series("Booked", [10, 20, None], [False, False, True]),
        Series("Attended", [5, None, 3], [False, False, False]),
    ]
    categories = ["Arts", "Physical activity", "Money"]
    return grouped_bars("use", "Use by category", categories, series, description="By category.")


def sample_lines() -> str:
    series = [
        Series("Received", [40, 55, None, 70, 82, 90], [False, False, True, False, False, False]),
        Series("Attended", [10, 15, 20, None, 30, 35], [False] * 6),
    ]
    return lines("trend", "Referrals by month", MONTHS, series, description="By month.")


def sample_intervals() -> str:
    points = [
        Interval("Q1 2026", 3.2, 1.1, 5.3),
        Interval("Q2 2026", None, None, None, suppressed=True),
        Interval("Q3 2026", -0.5, -2.5, 1.4),
        Interval("Q4 2026", -2.0, -3.4, -0.6),
    ]
    return intervals("change", "Mean change", points, description="Mean change, 95% CI.")


SAMPLES: dict[str, Callable[[], str]] = {
    "bars": sample_bars,
    "grouped": sample_grouped,
    "lines": sample_lines,
    "intervals": sample_intervals,
}


@pytest.mark.parametrize("make", SAMPLES.values(), ids=SAMPLES.keys())
def test_each_chart_is_an_accessible_responsive_image(make: Callable[[], str]) -> None:
    root = parse(make())

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert re.fullmatch(r"0 0 \d+ [\d.]+", root.get("viewBox", ""))
    title_id, desc_id = root.get("aria-labelledby", "").split()
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert (title.get("id"), desc.get("id")) == (title_id, desc_id)
    assert title.text
    assert desc.text
    assert list(root)[:2] == [title, desc]
    assert "style" not in make(), "inline style would break the dashboard's CSP"


@pytest.mark.parametrize("make", SAMPLES.values(), ids=SAMPLES.keys())
def test_each_chart_reads_without_the_stylesheet(make: Callable[[], str]) -> None:
    root = parse(make())
    drawn = [e for e in root.iter() if e.tag.removeprefix(SVG) in {"rect", "circle", "path"}]

    assert root.get("font-family")
    assert root.get("font-size")
    assert all(t.get("fill") for t in root.iter(f"{SVG}text"))
    assert all(e.get("fill") for e in drawn)
    assert all(e.get("stroke") for e in root.iter() if e.tag in {f"{SVG}line", f"{SVG}polyline"})
    assert all(e.get("class", "").startswith("chart") for e in [root, *marks(root)])


@pytest.mark.parametrize("make", SAMPLES.values(), ids=SAMPLES.keys())
def test_each_chart_is_deterministic(make: Callable[[], str]) -> None:
    assert make() == make()


@pytest.mark.parametrize("make", SAMPLES.values(), ids=SAMPLES.keys())
def test_ids_are_prefixed_and_every_reference_resolves_within_the_chart(
    make: Callable[[], str],
) -> None:
    svg = make()
    ids = [e.get("id", "") for e in parse(svg).iter() if e.get("id")]
    prefix = ids[0].removesuffix("-title")

    assert len(ids) == len(set(ids))
    assert all(i.startswith(f"{prefix}-") for i in ids)
    assert set(re.findall(r"url\(#([^)]+)\)", svg)) <= set(ids)


def test_bars_one_mark_per_published_figure_and_the_word_for_a_suppressed_one() -> None:
    root = parse(sample_bars())

    assert len(marks(root)) == 2
    assert texts(root) == ["120", "suppressed", DASH, "45.5"]
    hatched = with_class(root, "chart-suppressed")
    assert [h.get("fill") for h in hatched] == ["url(#need-hatch)"]


def test_a_suppressed_figure_is_never_drawn_nor_printed_even_if_given() -> None:
    svg = bars("b", "t", [Value("A", 10), Value("B", 987654, suppressed=True)], description="")

    assert len(marks(parse(svg))) == 1
    assert "987" not in svg


def test_desc_says_the_highest_and_lowest_and_what_is_suppressed() -> None:
    desc = parse(sample_bars()).find(f"{SVG}desc")

    assert desc is not None
    assert desc.text == (
        "Referrals received by need. Highest Loneliness (120), lowest Physical activity (45.5); "
        "suppressed: Debt advice; no figure: Housing."
    )


def test_largest_bar_spans_the_plot_and_the_others_are_in_proportion() -> None:
    root = parse(
        bars("b", "t", [Value("A", 10), Value("B", 40), Value("C", 20)], description="", unit="%")
    )
    widths = [float(m.get("width", "")) for m in marks(root)]
    right = max(float(m.get("x", "")) + w for m, w in zip(marks(root), widths, strict=True))
    figure_room = svg.PAD + svg.CHAR * len("40%")

    assert widths[0] / widths[1] == pytest.approx(0.25, abs=0.01)
    assert widths[2] / widths[1] == pytest.approx(0.5, abs=0.01)
    assert right == pytest.approx(svg.WIDTH - svg.PAD - figure_room, abs=0.1)
    assert texts(root) == ["10%", "40%", "20%"]


def test_negative_bars_grow_left_from_zero() -> None:
    root = parse(bars("b", "t", [Value("A", -5), Value("B", 15)], description=""))
    (a, b) = marks(root)

    assert float(a.get("x", "")) + float(a.get("width", "")) == pytest.approx(float(b.get("x", "")))
    assert float(b.get("width", "")) == pytest.approx(3 * float(a.get("width", "")), abs=0.2)


def test_labels_and_titles_are_escaped() -> None:
    label = 'Money <advice> & "debt"'
    svg = bars("b", label, [Value(label, 3)], description=label)
    root = parse(svg)

    assert "&lt;advice&gt; &amp; &quot;debt&quot;" in svg
    assert texts(root, "chart-label") == [label]
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == label


def test_long_labels_wrap_to_lines_of_their_own() -> None:
    label = "A very long label about physical activity, healthy eating and green spaces in town"
    root = parse(bars("b", "t", [Value(label, 3)], description=""))

    wrapped = texts(root, "chart-label")
    assert len(wrapped) > 1
    assert " ".join(wrapped) == label


def test_grouped_bars_tell_series_apart_by_pattern_not_colour_alone() -> None:
    series = [Series(f"S{i}", [i + 1.0], [False]) for i in range(4)]
    root = parse(grouped_bars("g", "t", ["A"], series, description=""))
    fills = [m.get("fill") for m in marks(root)]

    assert len(fills) == 4
    assert fills[0] == PALETTE.series[0]
    assert fills[1:] == ["url(#g-s1)", "url(#g-s2)", "url(#g-s3)"]
    patterns = root.iter(f"{SVG}pattern")
    kinds = [tuple(child.tag for child in p) for p in patterns if p.get("id") != "g-hatch"]
    assert len(set(kinds)) == 3, "each series' pattern is drawn differently"
    swatches = [s.get("fill") for s in with_class(root, "chart-legend-swatch")]
    assert swatches == fills
    assert texts(root, "chart-legend") == ["S0", "S1", "S2", "S3"]


def test_grouped_bars_marks_and_suppression() -> None:
    root = parse(sample_grouped())

    assert len(marks(root)) == 4
    assert texts(root) == ["10", "5", "20", DASH, "suppressed", "3"]
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text == (
        "By category. Booked: highest Physical activity (20), lowest Arts (10); suppressed: "
        "Money. Attended: highest Arts (5), lowest Money (3); no figure: Physical activity."
    )


def test_lines_one_marker_per_figure_with_gaps_where_suppressed_or_absent() -> None:
    root = parse(sample_lines())

    assert len(marks(root)) == 5 + 5
    runs = [len(p.get("points", "").split()) for p in with_class(root, "chart-line")]
    assert runs == [2, 3, 3, 2]
    notes = " ".join(texts(root, "chart-note"))
    assert notes == "Received: suppressed in Mar 2026. Attended: no figure in Apr 2026."
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text == (
        "By month. Received: from 40 in Jan 2026 to 90 in Jun 2026; highest Jun 2026 (90), "
        "lowest Jan 2026 (40); suppressed: Mar 2026. Attended: from 10 in Jan 2026 to 35 in "
        "Jun 2026; highest Jun 2026 (35), lowest Jan 2026 (10); no figure: Apr 2026."
    )


def test_lines_series_differ_in_marker_shape_and_dash() -> None:
    series = [Series(f"S{i}", [1.0, 2.0], [False, False]) for i in range(4)]
    root = parse(lines("l", "t", ["a", "b"], series, description=""))
    shapes = [(m.tag, len(m.get("d", "").split("L"))) for m in marks(root)]
    dashes = [p.get("stroke-dasharray") for p in with_class(root, "chart-line")]

    assert len({shapes[2 * i] for i in range(4)}) == 4
    assert len(set(dashes)) == 4


def test_lines_ticks_are_round_and_cover_the_highest_figure() -> None:
    root = parse(sample_lines())
    shown = [float(t.replace(",", "")) for t in texts(root, "chart-tick") if "2026" not in t]

    assert shown[0] == 0
    assert shown[-1] >= 90 > shown[-2]
    steps = {b - a for a, b in itertools.pairwise(shown)}
    assert steps == {20.0}


def test_lines_with_one_month_put_it_in_the_middle() -> None:
    root = parse(lines("l", "t", ["Jan 2026"], [Series("A", [3], [False])], description=""))
    (point,) = marks(root)

    plot = float(with_class(root, "chart-grid")[0].get("x1", ""))
    assert float(point.get("cx", "")) == pytest.approx((plot + svg.WIDTH - svg.PAD) / 2)


def test_intervals_dot_whisker_zero_line_and_suppressed_row() -> None:
    root = parse(sample_intervals())

    assert len(marks(root)) == 3
    assert len(with_class(root, "chart-whisker")) == 3 * 3
    assert texts(root) == [
        "3.2 (1.1 to 5.3)",
        "suppressed",
        "-0.5 (-2.5 to 1.4)",
        "-2 (-3.4 to -0.6)",
    ]
    zero = {z.get("x1") for z in with_class(root, "chart-zero")}
    assert len(zero) == 1
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text == (
        "Mean change, 95% CI. Highest mean Q1 2026 (3.2), lowest mean Q4 2026 (-2); "
        "suppressed: Q2 2026. Interval above zero: Q1 2026. Interval below zero: Q4 2026. "
        "Interval including zero: Q3 2026."
    )


def test_intervals_dot_sits_on_its_axis_position() -> None:
    root = parse(intervals("i", "t", [Interval("A", 2, 1, 3)], description=""))
    ticks_x = {t.text: float(t.get("x", "")) for t in with_class(root, "chart-tick")}
    (dot,) = marks(root)

    assert float(dot.get("cx", "")) == pytest.approx(ticks_x["2"])
    assert {z.get("x1") for z in with_class(root, "chart-zero")} == {f"{ticks_x['0']:.1f}"}


def test_intervals_without_zero_line() -> None:
    root = parse(intervals("i", "t", [Interval("A", 12, 11, 13)], description="", zero_line=False))

    assert with_class(root, "chart-zero") == []
    assert float(texts(root, "chart-tick")[0]) > 0


EMPTY: dict[str, Callable[[], str]] = {
    "bars": lambda: bars("e", "t", [], description="Nothing."),
    "grouped-no-categories": lambda: grouped_bars(
        "e", "t", [], [Series("A", [], [])], description="Nothing."
    ),
    "grouped-no-series": lambda: grouped_bars("e", "t", ["A"], [], description="Nothing."),
    "lines": lambda: lines("e", "t", [], [], description="Nothing."),
    "intervals": lambda: intervals("e", "t", [], description="Nothing."),
}


@pytest.mark.parametrize("make", EMPTY.values(), ids=EMPTY.keys())
def test_no_input_gives_a_no_figures_chart(make: Callable[[], str]) -> None:
    root = parse(make())
    desc = root.find(f"{SVG}desc")

    assert root.get("role") == "img"
    assert texts(root, "chart-empty") == ["No figures for this selection"]
    assert desc is not None
    assert desc.text == "Nothing. No figures for this selection."
    assert marks(root) == []


def test_bad_input_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="prefix"):
        bars('a" onload="x', "t", [Value("A", 1)], description="")
    with pytest.raises(ValueError, match="differ in length"):
        Series("A", [1.0, 2.0], [False])
    with pytest.raises(ValueError, match="2 figures for 3 labels"):
        lines("l", "t", ["a", "b", "c"], [Series("A", [1.0, 2.0], [False, False])], description="")
    for figure in (math.nan, math.inf, -math.inf, 1e16):
        with pytest.raises(ValueError, match="finite"):
            bars("b", "t", [Value("A", figure)], description="")
        with pytest.raises(ValueError, match="finite"):
            intervals("i", "t", [Interval("A", 1, 0, figure)], description="")


figures = st.none() | st.floats(-1e15, 1e15)
labels = st.text(max_size=80)


def check_output(svg: str) -> ElementTree.Element:
    root = parse(svg)
    numbers = " ".join(v for e in root.iter() for k, v in e.attrib.items() if k != "class")
    assert not re.search(r"nan|inf", numbers, re.IGNORECASE)
    return root


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(labels, figures, st.booleans()), max_size=8), labels)
def test_bars_any_labels_and_figures(
    rows: list[tuple[str, float | None, bool]], title: str
) -> None:
    values = [Value(label, figure, hidden) for label, figure, hidden in rows]
    root = check_output(bars("p", title, values, description=title))

    published = [v for v in values if not v.suppressed and v.value is not None]
    assert len(marks(root)) == len(published)
    assert texts(root).count("suppressed") == sum(v.suppressed for v in values)


cells = st.lists(st.tuples(figures, st.booleans()), min_size=5, max_size=5)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 5), st.lists(st.tuples(labels, cells), max_size=4))
def test_grouped_bars_and_lines_any_figures(
    size: int, rows: list[tuple[str, list[tuple[float | None, bool]]]]
) -> None:
    names = [f"C{i}" for i in range(size)]
    series = [
        Series(name, [f for f, _ in cells[:size]], [h for _, h in cells[:size]])
        for name, cells in rows
    ]
    published = sum(
        1
        for s in series
        for f, h in zip(s.values, s.suppressed, strict=True)
        if f is not None and not h
    )

    for chart in (grouped_bars, lines):
        root = check_output(chart("p", "t", names, series, description="d"))
        assert len(marks(root)) == published


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(labels, figures, figures, figures, st.booleans()), max_size=6), st.booleans()
)
def test_intervals_any_figures(
    rows: list[tuple[str, float | None, float | None, float | None, bool]], zero_line: bool
) -> None:
    points = [Interval(*row) for row in rows]
    root = check_output(intervals("p", "t", points, description="d", zero_line=zero_line))

    assert len(marks(root)) == sum(1 for p in points if not p.suppressed and p.mean is not None)
