"""Disclosure control of the commissioner reports (DESIGN.md section 10, issue 7 "Must show").

The recoverability checker below is independent of the module's graph argument: it solves the
line equations of the table by exact rational linear algebra.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.reporting.disclosure import (
    DisclosureRules,
    OneWayTable,
    PublishedCount,
    PublishedStatistic,
    TwoWayTable,
    protect_one_way,
    protect_two_way,
    publish_change,
    publish_change_summary,
    publish_count,
    publish_share,
    publish_statistic,
    round_count,
)

# An independent checker ----------------------------------------------------------------------
#
# A table is a set of entries (inner cells and totals) and a set of line equations: the cells
# of each row sum to the row total, the cells of each column to the column total, the row
# totals to the grand total and the column totals to the grand total (one-way: the cells sum
# to the total). The suppressed entries are the unknowns x; every published value is taken as
# exactly known (stricter than reality, where it is rounded). The equations restricted to the
# unknowns read A x = b. The unknown x_k is pinned down by them exactly when every solution of
# A x = 0 has x_k = 0, i.e. when column k of A is not a combination of the other columns:
# rank(A without column k) < rank(A).


def rank(matrix: list[list[Fraction]]) -> int:
    rows = [row[:] for row in matrix if any(row)]
    if not rows:
        return 0
    width = len(rows[0])
    found = 0
    for column in range(width):
        pivot = next((r for r in range(found, len(rows)) if rows[r][column] != 0), None)
        if pivot is None:
            continue
        rows[found], rows[pivot] = rows[pivot], rows[found]
        for r in range(len(rows)):
            if r != found and rows[r][column] != 0:
                factor = rows[r][column] / rows[found][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[found], strict=True)]
        found += 1
    return found


def recoverable(equations: list[dict[Hashable, int]], unknowns: list[Hashable]) -> set[Hashable]:
    """The unknowns that the equations (entry -> coefficient, summing to 0) determine."""
    matrix = [[Fraction(eq.get(u, 0)) for u in unknowns] for eq in equations]
    full = rank(matrix)
    return {
        u for k, u in enumerate(unknowns) if rank([row[:k] + row[k + 1 :] for row in matrix]) < full
    }


def two_way_entries(table: TwoWayTable[int, int]) -> dict[Hashable, PublishedCount]:
    entries: dict[Hashable, PublishedCount] = {
        ("cell", r, c): v for (r, c), v in table.cells.items()
    }
    entries |= {("row-total", r): v for r, v in table.row_totals.items()}
    entries |= {("column-total", c): v for c, v in table.column_totals.items()}
    entries[("total",)] = table.total
    return entries


def two_way_lines(rows: int, columns: int) -> list[dict[Hashable, int]]:
    lines: list[dict[Hashable, int]] = []
    for r in range(rows):
        lines.append({("cell", r, c): 1 for c in range(columns)} | {("row-total", r): -1})
    for c in range(columns):
        lines.append({("cell", r, c): 1 for r in range(rows)} | {("column-total", c): -1})
    lines.append({("row-total", r): 1 for r in range(rows)} | {("total",): -1})
    lines.append({("column-total", c): 1 for c in range(columns)} | {("total",): -1})
    return lines


def recoverable_two_way(table: TwoWayTable[int, int], rows: int, columns: int) -> set[Hashable]:
    entries = two_way_entries(table)
    unknowns = [key for key, value in entries.items() if value.suppressed]
    return recoverable(two_way_lines(rows, columns), unknowns)


def recoverable_one_way(table: OneWayTable[int]) -> set[Hashable]:
    line: dict[Hashable, int] = dict.fromkeys(table.cells, 1) | {"total": -1}
    unknowns: list[Hashable] = [key for key, value in table.cells.items() if value.suppressed]
    if table.total.suppressed:
        unknowns.append("total")
    return recoverable([line], unknowns)


def suppressed_per_line(table: TwoWayTable[int, int], rows: int, columns: int) -> list[int]:
    entries = two_way_entries(table)
    return [
        sum(1 for key in line if entries[key].suppressed) for line in two_way_lines(rows, columns)
    ]


def assert_published_rules(true: int, shown: PublishedCount, rules: DisclosureRules) -> None:
    """What every published count must satisfy, whatever the table around it."""
    if shown.suppressed:
        assert shown.value is None
        return
    assert shown.value is not None
    assert not 0 < shown.value < rules.suppress_below, "a small count was published"
    assert shown.value % rules.round_to == 0
    assert not 0 < true < rules.suppress_below, "a small true count escaped suppression"
    assert (shown.value == 0) == (true == 0), "zero stays zero, and only zero"
    # the nearest multiple, except that a non-zero count is lifted to the smallest publishable
    # multiple (the first at or above suppress_below, and above 0)
    lowest = -(-max(rules.suppress_below, 1) // rules.round_to) * rules.round_to
    assert abs(shown.value - true) <= max(rules.round_to // 2, lowest - true)
    if rules == DisclosureRules():
        # every published count, cells and totals alike, is its own true count rounded: totals
        # come from the unrounded counts, not from the rounded cells
        assert shown.value == 5 * ((true + 2) // 5)


# Strategies ----------------------------------------------------------------------------------

counts = st.one_of(st.integers(0, 12), st.integers(0, 60), st.integers(0, 2000))


@st.composite
def two_way_counts(draw: st.DrawFn) -> tuple[int, int, dict[tuple[int, int], int]]:
    rows = draw(st.integers(1, 6))
    columns = draw(st.integers(1, 6))
    cells = {(r, c): draw(counts) for r in range(rows) for c in range(columns)}
    return rows, columns, cells


rule_sets = st.builds(
    DisclosureRules,
    suppress_below=st.integers(1, 15),
    round_to=st.integers(1, 10),
    min_n_for_statistics=st.integers(1, 15),
)

# Properties of the "Must show" -------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(two_way_counts())
def test_two_way_no_small_count_every_count_a_multiple_of_5_nothing_recoverable(
    drawn: tuple[int, int, dict[tuple[int, int], int]],
) -> None:
    rows, columns, cells = drawn
    rules = DisclosureRules()
    table = protect_two_way(cells, rows=range(rows), columns=range(columns))

    true = {("cell", r, c): v for (r, c), v in cells.items()}
    true |= {("row-total", r): sum(cells[r, c] for c in range(columns)) for r in range(rows)}
    true |= {("column-total", c): sum(cells[r, c] for r in range(rows)) for c in range(columns)}
    true[("total",)] = sum(cells.values())
    for key, shown in two_way_entries(table).items():
        assert_published_rules(true[key], shown, rules)
    # each line of the table (row, column, margins) hides 0 or at least 2 entries...
    assert all(n != 1 for n in suppressed_per_line(table, rows, columns))
    # ...and no suppressed entry follows from the published values by any combination of lines
    assert recoverable_two_way(table, rows, columns) == set()


@settings(max_examples=300, deadline=None)
@given(st.lists(counts, max_size=12))
def test_one_way_no_small_count_every_count_a_multiple_of_5_nothing_recoverable(
    values: list[int],
) -> None:
    rules = DisclosureRules()
    table = protect_one_way(dict(enumerate(values)))
    for key, shown in table.cells.items():
        assert_published_rules(values[key], shown, rules)
    assert_published_rules(sum(values), table.total, rules)
    hidden = sum(v.suppressed for v in table.cells.values()) + table.total.suppressed
    assert hidden != 1
    assert recoverable_one_way(table) == set()


@settings(max_examples=200, deadline=None)
@given(two_way_counts(), rule_sets)
def test_any_thresholds_hold_in_two_way_tables(
    drawn: tuple[int, int, dict[tuple[int, int], int]], rules: DisclosureRules
) -> None:
    rows, columns, cells = drawn
    table = protect_two_way(cells, rules, rows=range(rows), columns=range(columns))
    for (r, c), shown in table.cells.items():
        assert_published_rules(cells[r, c], shown, rules)
    assert recoverable_two_way(table, rows, columns) == set()


@given(st.integers(0, 100_000))
def test_round_count_is_the_nearest_multiple_of_5(count: int) -> None:
    rounded = round_count(count)
    assert rounded % 5 == 0
    # 1-7 are suppressed, never rounded for publication; were they, they would give 10
    assert abs(rounded - count) <= (2 if count == 0 or count >= 8 else 9)
    assert (rounded == 0) == (count == 0)


@given(st.integers(0, 10_000))
def test_publish_count_alone(count: int) -> None:
    shown = publish_count(count)
    assert shown.suppressed == (1 <= count <= 7)
    assert_published_rules(count, shown, DisclosureRules())


@given(st.floats(-100, 100, allow_nan=False), st.integers(0, 100))
def test_statistics_are_suppressed_below_8_people(value: float, n: int) -> None:
    shown = publish_statistic(value, n)
    if 1 <= n <= 7:
        assert (shown.value, shown.suppressed) == (None, True)
    elif n == 0:
        assert (shown.value, shown.suppressed) == (None, False)
    else:
        assert shown.value == round(value, 2)
        assert not shown.suppressed


@given(
    st.lists(st.tuples(st.floats(7, 35), st.floats(7, 35), st.booleans()), min_size=0, max_size=30)
)
def test_change_figures_are_suppressed_below_8_people(
    people: list[tuple[float, float, bool]],
) -> None:
    shown = publish_change([p[0] for p in people], [p[1] for p in people], [p[2] for p in people])
    figures = [
        shown.mean_baseline,
        shown.mean_follow_up,
        shown.mean_change,
        shown.ci_lower,
        shown.ci_upper,
    ]
    if len(people) < 8:
        assert all(f.value is None for f in [*figures, shown.share_reliable_improvement])
        assert all(f.suppressed == bool(people) for f in figures)
    else:
        assert all(f.value is not None and not f.suppressed for f in figures)
        assert shown.ci_lower.value is not None
        assert shown.ci_upper.value is not None
        assert shown.ci_lower.value <= shown.ci_upper.value


# Examples ------------------------------------------------------------------------------------


def shown(table: OneWayTable[str]) -> dict[str, int | None]:
    return {key: cell.value for key, cell in table.cells.items()} | {"total": table.total.value}


def test_one_way_single_small_cell_takes_the_next_smallest_with_it() -> None:
    table = protect_one_way({"Jan": 3, "Feb": 20, "Mar": 9, "Apr": 0, "May": 102})
    # with only Jan hidden, Jan = total - the rest; so Mar (the next smallest non-zero) goes too
    assert shown(table) == {"Jan": None, "Feb": 20, "Mar": None, "Apr": 0, "May": 100, "total": 135}
    assert table.cells["Jan"].suppressed
    assert table.cells["Mar"].suppressed


def test_one_way_two_small_cells_need_no_complement() -> None:
    table = protect_one_way({"a": 3, "b": 5, "c": 40})
    assert shown(table) == {"a": None, "b": None, "c": 40, "total": 50}


def test_one_way_zero_stays_zero_and_rounding_halves_go_up() -> None:
    table = protect_one_way({"a": 0, "b": 8, "c": 12, "d": 13, "e": 2_502})
    assert shown(table) == {"a": 0, "b": 10, "c": 10, "d": 15, "e": 2_500, "total": 2_535}


def test_one_way_total_is_rounded_from_the_true_counts_not_summed_from_rounded_cells() -> None:
    # 12 + 12 + 12 = 36 -> 35, while the rounded cells would add up to 30
    assert shown(protect_one_way({"a": 12, "b": 12, "c": 12})) == {
        "a": 10,
        "b": 10,
        "c": 10,
        "total": 35,
    }


def test_one_way_small_total_hides_its_only_cell() -> None:
    assert shown(protect_one_way({"a": 5, "b": 0})) == {"a": None, "b": 0, "total": None}


def test_two_way_single_suppressed_cell_gets_a_rectangle() -> None:
    cells = {
        ("GP1", "F"): 3,
        ("GP1", "M"): 20,
        ("GP2", "F"): 40,
        ("GP2", "M"): 50,
    }
    table = protect_two_way(cells)
    assert {k for k, v in table.cells.items() if v.suppressed} == set(cells)
    assert table.row_totals == {"GP1": PublishedCount(25, False), "GP2": PublishedCount(90, False)}
    assert table.column_totals == {"F": PublishedCount(45, False), "M": PublishedCount(70, False)}
    assert table.total == PublishedCount(115, False)


def test_two_way_hides_the_next_smallest_in_row_and_column() -> None:
    cells = {
        ("a", "x"): 3,
        ("a", "y"): 20,
        ("a", "z"): 30,
        ("b", "x"): 40,
        ("b", "y"): 50,
        ("b", "z"): 60,
        ("c", "x"): 45,
        ("c", "y"): 12,
        ("c", "z"): 70,
    }
    table = protect_two_way(cells)
    hidden = {k for k, v in table.cells.items() if v.suppressed}
    assert ("a", "x") in hidden
    assert ("a", "y") in hidden  # next smallest of row a
    numbered = {("abc".index(r), "xyz".index(c)): v for (r, c), v in cells.items()}
    assert recoverable_two_way(protect_two_way(numbered), 3, 3) == set()
    # margins are all large and published
    assert all(not v.suppressed for v in table.row_totals.values())
    assert all(not v.suppressed for v in table.column_totals.values())


def test_two_way_small_row_total_is_protected_in_the_margin_line() -> None:
    # GP1 has 5 people in all: its row total is 1-7; the row-total column then needs a second
    # hidden total, or GP1's total = grand total - GP2's total - GP3's total
    cells = {("GP1", "F"): 5, ("GP1", "M"): 0, ("GP2", "F"): 30, ("GP2", "M"): 40}
    cells |= {("GP3", "F"): 25, ("GP3", "M"): 35}
    table = protect_two_way(cells)
    assert table.row_totals["GP1"].suppressed
    assert sum(v.suppressed for v in table.row_totals.values()) + table.total.suppressed >= 2
    assert table.cells["GP1", "M"] == PublishedCount(0, False) or table.cells["GP1", "M"].suppressed


def test_two_way_absent_combinations_are_zero_and_given_groups_are_kept() -> None:
    table = protect_two_way({("a", "x"): 30}, rows=["a", "b"], columns=["x", "y"])
    assert table.cells["a", "y"] == PublishedCount(0, False)
    assert table.cells["b", "x"] == PublishedCount(0, False)
    assert table.row_totals["b"] == PublishedCount(0, False)
    assert table.total == PublishedCount(30, False)


def test_two_way_bridge_between_two_hidden_cycles_is_closed() -> None:
    # Two rectangles of small cells ((0,0),(0,1),(1,0),(1,1)) and ((2,2),(2,3),(3,2),(3,3)) and a
    # small cell (1,2) joining them: (1,2) is a bridge, every line has 0 or >= 2 hidden cells, and
    # yet (1,2) = row 1 - column 2 arithmetic; the module must hide more.
    big = 500
    cells = {(r, c): big for r in range(4) for c in range(4)}
    for r, c in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        cells[r, c] = 2
    table = protect_two_way(cells)
    assert recoverable_two_way(table, 4, 4) == set()
    assert all(n != 1 for n in suppressed_per_line(table, 4, 4))


def test_invalid_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        protect_one_way({"a": -1})
    with pytest.raises(ValueError, match="outside"):
        protect_two_way({("a", "x"): 1}, rows=["b"], columns=["x"])
    with pytest.raises(ValueError, match="positive"):
        DisclosureRules(suppress_below=0)


def test_checker_finds_what_a_naive_single_suppression_would_leak() -> None:
    # the checker itself must be able to fail: a table with one hidden cell and a total
    leaky = OneWayTable(
        {0: PublishedCount(None, True), 1: PublishedCount(20, False)}, PublishedCount(25, False)
    )
    assert recoverable_one_way(leaky) == {0}
    bridge = {(r, c): PublishedCount(500, False) for r in range(4) for c in range(4)}
    for r, c in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        bridge[r, c] = PublishedCount(None, True)
    margins = {i: PublishedCount(2000, False) for i in range(4)}
    leaky_two_way = TwoWayTable(bridge, margins, margins, PublishedCount(8000, False))
    assert all(n != 1 for n in suppressed_per_line(leaky_two_way, 4, 4))
    assert recoverable_two_way(leaky_two_way, 4, 4) == {("cell", 1, 2)}


# Shares --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (0, 0, (None, False)),
        (4, 7, (None, True)),  # fewer than 8 people
        (3, 40, (None, True)),  # 3 people improved: a small count
        (37, 40, (None, True)),  # all but 3 improved
        (8, 40, (20.0, False)),
        (10, 30, (33.0, False)),
        (20, 30, (67.0, False)),  # 66.67 -> whole percent below 4,000 people
        (0, 40, (0.0, False)),
        (40, 40, (100.0, False)),
        (1_001, 4_000, (25.0, False)),  # 25.025 -> 25.0 at one decimal from 4,000
        (1_003, 4_000, (25.1, False)),
    ],
)
def test_publish_share(
    numerator: int, denominator: int, expected: tuple[float | None, bool]
) -> None:
    result = publish_share(numerator, denominator)
    assert (result.value, result.suppressed) == expected


def test_publish_change_from_people() -> None:
    baseline = [14.08, 15.32, 16.36, 17.43, 18.59, 19.98, 20.73, 21.54]
    follow_up = [17.43, 15.32, 19.25, 17.43, 22.35, 19.98, 24.11, 21.54]
    improved = [True, False, True, False, True, False, True, False]
    result = publish_change(baseline, follow_up, improved)
    changes = [a - b for a, b in zip(follow_up, baseline, strict=True)]
    mean_change = sum(changes) / 8
    assert result.mean_change.value == round(mean_change, 2)
    assert result.mean_baseline.value == round(sum(baseline) / 8, 2)
    # 4 people improved, 4 did not: counts of 1-7, so the share is hidden though n = 8
    assert result.share_reliable_improvement.suppressed
    assert result.ci_lower.value is not None
    assert result.ci_upper.value is not None
    assert result.ci_lower.value < result.mean_change.value < result.ci_upper.value


def test_publish_change_share_of_reliable_improvement() -> None:
    baseline = [14.08] * 20
    follow_up = [17.43] * 10 + [14.08] * 10
    result = publish_change(baseline, follow_up, [True] * 10 + [False] * 10)
    assert result.share_reliable_improvement.value == 50.0
    # two decimals: 3.35 / 2 = 1.675 and (17.43 + 14.08) / 2 = 15.755 lie on a float half
    assert result.mean_change.value == pytest.approx(1.675, abs=0.0051)
    assert result.mean_follow_up.value == pytest.approx(15.755, abs=0.0051)
    assert result.mean_baseline.value == 14.08


def test_publish_change_needs_paired_values() -> None:
    with pytest.raises(ValueError, match="paired"):
        publish_change([1.0], [1.0, 2.0], [True])


def test_rules_are_parameters() -> None:
    lenient = DisclosureRules(suppress_below=3, round_to=10, min_n_for_statistics=2)
    assert shown_values(protect_one_way({"a": 3, "b": 14, "c": 2}, lenient)) == [None, 10, None]
    assert publish_statistic(1.234, 2, lenient).value == 1.23
    assert publish_count(5, lenient) == PublishedCount(10, False)


def shown_values(table: OneWayTable[str]) -> Sequence[int | None]:
    return [cell.value for cell in table.cells.values()]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(7, 35), st.integers(7, 35)), min_size=0, max_size=40),
    st.booleans(),
)
def test_change_from_aggregates_is_the_change_from_values(
    pairs: list[tuple[int, int]], with_threshold: bool
) -> None:
    """What the reports publish from the database's sums equals ``publish_change`` on the
    values themselves."""
    before = [float(b) for b, _ in pairs]
    after = [float(a) for _, a in pairs]
    improved = [a - b >= 3 for b, a in pairs]
    n = len(pairs)
    changes = [a - b for b, a in zip(before, after, strict=True)]
    mean_change = sum(changes) / n if n else None
    variance = (
        sum((c - mean_change) ** 2 for c in changes) / (n - 1)
        if n > 1 and mean_change is not None
        else None
    )
    summary = publish_change_summary(
        n,
        sum(before) / n if n else None,
        sum(after) / n if n else None,
        mean_change,
        variance,
        sum(improved) if with_threshold else None,
    )
    direct = publish_change(before, after, improved)
    for name in ("mean_baseline", "mean_follow_up", "mean_change", "ci_lower", "ci_upper"):
        a, b = getattr(summary, name), getattr(direct, name)
        assert a.suppressed == b.suppressed
        assert (a.value is None) == (b.value is None)
        if a.value is not None and b.value is not None:
            assert a.value == pytest.approx(b.value, abs=0.011)
    if with_threshold:
        assert summary.share_reliable_improvement == direct.share_reliable_improvement
    else:
        assert summary.share_reliable_improvement == PublishedStatistic(None, False)
