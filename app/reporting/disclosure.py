"""Statistical disclosure control for the commissioner reports (DESIGN.md section 10).

Pure: plain counts and values in, frozen dataclasses out. The thresholds are parameters
(``DisclosureRules``, defaults after NHS practice) that the caller passes from settings. The
rules, their sources and why totals and complementary suppression work as they do:
docs/reports.md "Disclosure control".
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.reporting import stats

K = TypeVar("K", bound=Hashable)
R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)


@dataclass(frozen=True)
class DisclosureRules:
    """Thresholds; the defaults follow NHS Digital practice (module docstring)."""

    suppress_below: int = 8
    round_to: int = 5
    min_n_for_statistics: int = 8
    percent_one_decimal_from: int = 4000
    statistic_digits: int = 2

    def __post_init__(self) -> None:
        if self.suppress_below < 1 or self.round_to < 1 or self.min_n_for_statistics < 1:
            raise ValueError("disclosure thresholds must be positive")


DEFAULT_RULES = DisclosureRules()


@dataclass(frozen=True)
class PublishedCount:
    value: int | None
    suppressed: bool


@dataclass(frozen=True)
class PublishedStatistic:
    """A mean, median, change, interval bound or share; ``None`` when suppressed or absent."""

    value: float | None
    suppressed: bool


@dataclass(frozen=True)
class OneWayTable(Generic[K]):
    cells: dict[K, PublishedCount]
    total: PublishedCount


@dataclass(frozen=True)
class TwoWayTable(Generic[R, C]):
    cells: dict[tuple[R, C], PublishedCount]
    row_totals: dict[R, PublishedCount]
    column_totals: dict[C, PublishedCount]
    total: PublishedCount


@dataclass(frozen=True)
class PublishedChange:
    """What a report shows of one instrument's change in one group."""

    mean_baseline: PublishedStatistic
    mean_follow_up: PublishedStatistic
    mean_change: PublishedStatistic
    ci_lower: PublishedStatistic
    ci_upper: PublishedStatistic
    share_reliable_improvement: PublishedStatistic


# Counts ---------------------------------------------------------------------------------------


def is_small(count: int, rules: DisclosureRules = DEFAULT_RULES) -> bool:
    return 0 < count < rules.suppress_below


def round_count(count: int, rules: DisclosureRules = DEFAULT_RULES) -> int:
    """Round to the nearest ``round_to``, halves upwards.

    A non-zero count is never published as 0 nor as a value below ``suppress_below`` (with
    unusual thresholds, e.g. 10 rounded to the nearest 3 would give 9): it is raised to the
    smallest multiple of ``round_to`` at or above ``suppress_below``.
    """
    if count < 0:
        raise ValueError("counts cannot be negative")
    if count == 0:
        return 0
    step = rules.round_to
    rounded = (count + step // 2) // step * step
    return max(rounded, -(-rules.suppress_below // step) * step)


def publish_count(count: int, rules: DisclosureRules = DEFAULT_RULES) -> PublishedCount:
    """One count on its own (primary suppression and rounding only)."""
    if is_small(count, rules):
        return PublishedCount(None, True)
    return PublishedCount(round_count(count, rules), False)


def _published(count: int, suppressed: bool, rules: DisclosureRules) -> PublishedCount:
    return (
        PublishedCount(None, True)
        if suppressed
        else PublishedCount(round_count(count, rules), False)
    )


def protect_one_way(
    counts: Mapping[K, int], rules: DisclosureRules = DEFAULT_RULES
) -> OneWayTable[K]:
    """Suppress, complement and round a table grouped by one dimension, with its overall total."""
    keys = list(counts)
    values = [_count(counts[key]) for key in keys]
    total = sum(values)
    # entries: the cells, then the total (index len(keys))
    entries = [*values, total]
    suppressed = [is_small(v, rules) for v in entries]
    candidates = [i for i in range(len(entries)) if not suppressed[i]]
    if sum(suppressed) == 1 and candidates:
        suppressed[min(candidates, key=lambda i: _rank(i == len(keys), entries[i], i))] = True
    return OneWayTable(
        {key: _published(values[i], suppressed[i], rules) for i, key in enumerate(keys)},
        _published(total, suppressed[-1], rules),
    )


def protect_two_way(
    counts: Mapping[tuple[R, C], int],
    rules: DisclosureRules = DEFAULT_RULES,
    *,
    rows: Sequence[R] | None = None,
    columns: Sequence[C] | None = None,
) -> TwoWayTable[R, C]:
    """Suppress, complement and round a table grouped by two dimensions, with its margins.

    ``counts`` maps (row, column) to a count; absent combinations count 0 (GROUP BY omits them).
    ``rows`` and ``columns`` fix the order and may add empty groups; by default they are the
    values met in ``counts``, in order.
    """
    row_keys = list(rows) if rows is not None else list(dict.fromkeys(r for r, _ in counts))
    column_keys = (
        list(columns) if columns is not None else list(dict.fromkeys(c for _, c in counts))
    )
    row_index = {key: i for i, key in enumerate(row_keys)}
    column_index = {key: j for j, key in enumerate(column_keys)}
    n_rows, n_columns = len(row_keys), len(column_keys)
    # grid[i][j]: inner cells, row totals in column n_columns, column totals in row n_rows
    grid = [[0] * (n_columns + 1) for _ in range(n_rows + 1)]
    for (row, column), value in counts.items():
        if row not in row_index or column not in column_index:
            raise ValueError(f"({row!r}, {column!r}) is outside the given rows and columns")
        grid[row_index[row]][column_index[column]] += _count(value)
    for i in range(n_rows):
        grid[i][n_columns] = sum(grid[i][:n_columns])
    for j in range(n_columns + 1):
        grid[n_rows][j] = sum(grid[i][j] for i in range(n_rows))

    suppressed = _complementary_suppression(grid, rules)

    def cell(i: int, j: int) -> PublishedCount:
        return _published(grid[i][j], (i, j) in suppressed, rules)

    return TwoWayTable(
        {
            (row, column): cell(i, j)
            for i, row in enumerate(row_keys)
            for j, column in enumerate(column_keys)
        },
        {row: cell(i, n_columns) for i, row in enumerate(row_keys)},
        {column: cell(n_rows, j) for j, column in enumerate(column_keys)},
        cell(n_rows, n_columns),
    )


def _count(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"a count must be a non-negative integer, got {value!r}")
    return value


def _rank(is_total: bool, value: int, order: int) -> tuple[int, int, int, int]:
    """Which entry to suppress next: non-zero inner cells, then zeros, totals last; smallest."""
    return (int(is_total), int(value == 0), value, order)


Node = tuple[str, int]  # ("row", i) or ("column", j): a line of the table


def _complementary_suppression(
    grid: list[list[int]], rules: DisclosureRules
) -> set[tuple[int, int]]:
    n_rows, n_columns = len(grid) - 1, len(grid[0]) - 1
    entries = [(i, j) for i in range(n_rows + 1) for j in range(n_columns + 1)]
    suppressed = {(i, j) for i, j in entries if is_small(grid[i][j], rules)}
    if n_rows == 0 or n_columns == 0:
        # no inner cells: only the grand total, already published or suppressed on its own
        return suppressed
    order = {entry: k for k, entry in enumerate(entries)}

    def rank(entry: tuple[int, int]) -> tuple[int, int, int, int]:
        i, j = entry
        return _rank(i == n_rows or j == n_columns, grid[i][j], order[entry])

    def line(node: Node) -> list[tuple[int, int]]:
        kind, index = node
        if kind == "row":
            return [(index, j) for j in range(n_columns + 1)]
        return [(i, index) for i in range(n_rows + 1)]

    def degree(node: Node) -> int:
        return sum(1 for entry in line(node) if entry in suppressed)

    nodes: list[Node] = [("row", i) for i in range(n_rows + 1)]
    nodes += [("column", j) for j in range(n_columns + 1)]
    while True:
        # 1. lines with exactly one suppressed entry: suppress their next smallest entry
        pending = [node for node in nodes if degree(node) == 1]
        while pending:
            node = pending.pop()
            if degree(node) != 1:
                continue
            entry = min((e for e in line(node) if e not in suppressed), key=rank)
            suppressed.add(entry)
            for other in (("row", entry[0]), ("column", entry[1])):
                if degree(other) == 1:
                    pending.append(other)
        # 2. a bridge joining two suppressed cycles: close a cycle through it
        bridge = _first_bridge(nodes, suppressed)
        if bridge is None:
            return suppressed
        # the bridge's component falls in two sides without it; join them with another entry
        component = _reachable(("row", bridge[0]), suppressed)
        side = _reachable(("row", bridge[0]), suppressed - {bridge})
        crossing = [
            (i, j)
            for i, j in entries
            if (i, j) not in suppressed
            and ("row", i) in component
            and ("column", j) in component
            and (("row", i) in side) != (("column", j) in side)
        ]
        suppressed.add(min(crossing, key=rank))


def _adjacency(suppressed: set[tuple[int, int]]) -> dict[Node, list[Node]]:
    adjacency: dict[Node, list[Node]] = {}
    for i, j in suppressed:
        adjacency.setdefault(("row", i), []).append(("column", j))
        adjacency.setdefault(("column", j), []).append(("row", i))
    return adjacency


def _reachable(start: Node, suppressed: set[tuple[int, int]]) -> set[Node]:
    adjacency = _adjacency(suppressed)
    seen = {start}
    stack = [start]
    while stack:
        for neighbour in adjacency.get(stack.pop(), []):
            if neighbour not in seen:
                seen.add(neighbour)
                stack.append(neighbour)
    return seen


def _first_bridge(nodes: list[Node], suppressed: set[tuple[int, int]]) -> tuple[int, int] | None:
    """A suppressed entry whose edge is a bridge of the line graph (iterative Tarjan)."""
    adjacency = _adjacency(suppressed)
    discovered: dict[Node, int] = {}
    low: dict[Node, int] = {}
    counter = 0
    for root in nodes:
        if root not in adjacency or root in discovered:
            continue
        discovered[root] = low[root] = counter
        counter += 1
        # frames: (node, parent, iterator over neighbours)
        stack: list[tuple[Node, Node | None, Iterator[Node]]] = [
            (root, None, iter(adjacency[root]))
        ]
        while stack:
            node, parent, neighbours = stack[-1]
            advanced = False
            for neighbour in neighbours:
                if neighbour == parent:
                    continue  # the graph is simple: one edge per (row, column)
                if neighbour in discovered:
                    low[node] = min(low[node], discovered[neighbour])
                    continue
                discovered[neighbour] = low[neighbour] = counter
                counter += 1
                stack.append((neighbour, node, iter(adjacency[neighbour])))
                advanced = True
                break
            if advanced:
                continue
            stack.pop()
            if parent is not None:
                low[parent] = min(low[parent], low[node])
                if low[node] > discovered[parent]:
                    row, column = (parent, node) if parent[0] == "row" else (node, parent)
                    return (row[1], column[1])
    return None


# Statistics -----------------------------------------------------------------------------------


def publish_statistic(
    value: float | None, n: int, rules: DisclosureRules = DEFAULT_RULES
) -> PublishedStatistic:
    """A mean, median, change or interval bound computed from ``n`` people."""
    if n < rules.min_n_for_statistics:
        return PublishedStatistic(None, n > 0)
    if value is None:
        return PublishedStatistic(None, False)
    return PublishedStatistic(round(value, rules.statistic_digits), False)


def publish_share(
    numerator: int, denominator: int, rules: DisclosureRules = DEFAULT_RULES
) -> PublishedStatistic:
    """``numerator / denominator`` as a percentage (0-100), or suppressed (module docstring)."""
    if numerator < 0 or numerator > denominator:
        raise ValueError("a share needs 0 <= numerator <= denominator")
    if denominator == 0:
        return PublishedStatistic(None, False)
    if (
        denominator < rules.min_n_for_statistics
        or is_small(numerator, rules)
        or is_small(denominator - numerator, rules)
    ):
        return PublishedStatistic(None, True)
    digits = 1 if round_count(denominator, rules) >= rules.percent_one_decimal_from else 0
    return PublishedStatistic(_round_half_up(100 * numerator / denominator, digits), False)


def _round_half_up(value: float, digits: int) -> float:
    scale = 10**digits
    return float(math.floor(value * scale + 0.5) / scale)


def publish_change(
    baseline: Sequence[float],
    follow_up: Sequence[float],
    reliable_improvement: Sequence[bool],
    rules: DisclosureRules = DEFAULT_RULES,
    *,
    confidence: float = 0.95,
) -> PublishedChange:
    """Per-person paired scores of one instrument in one group, reduced to what may be shown.

    ``baseline[k]``, ``follow_up[k]`` and ``reliable_improvement[k]`` belong to person k; the
    change is ``follow_up - baseline`` on the instrument's own scale (the SWEMWBS metric, the
    WEMWBS or UCLA3 total, an ONS4 item), with its own sign: for UCLA3 and ONS4 ``anxious`` a
    negative mean change is an improvement. ``reliable_improvement[k]`` comes from
    ``app.outcomes.instruments.change``, which knows the direction.
    """
    n = len(baseline)
    if len(follow_up) != n or len(reliable_improvement) != n:
        raise ValueError("baseline, follow-up and reliable improvement must be paired")
    changes = [after - before for before, after in zip(baseline, follow_up, strict=True)]
    interval = stats.mean_with_interval(changes, confidence)
    return PublishedChange(
        mean_baseline=publish_statistic(stats.mean(baseline), n, rules),
        mean_follow_up=publish_statistic(stats.mean(follow_up), n, rules),
        mean_change=publish_statistic(interval.mean, n, rules),
        ci_lower=publish_statistic(interval.lower, n, rules),
        ci_upper=publish_statistic(interval.upper, n, rules),
        share_reliable_improvement=publish_share(sum(reliable_improvement), n, rules),
    )


def publish_change_summary(
    n: int,
    mean_baseline: float | None,
    mean_follow_up: float | None,
    mean_change: float | None,
    variance_change: float | None,
    reliably_improved: int | None,
    rules: DisclosureRules = DEFAULT_RULES,
    *,
    confidence: float = 0.95,
) -> PublishedChange:
    """``publish_change`` from per-group aggregates (n, means, the sample variance of the
    change, the number reliably improved) computed by the database; ``reliably_improved`` is
    ``None`` for an instrument without a reliable-change threshold (its share is absent, not
    suppressed)."""
    interval = stats.interval_from_moments(n, mean_change, variance_change, confidence)
    share = (
        PublishedStatistic(None, False)
        if reliably_improved is None
        else publish_share(reliably_improved, n, rules)
    )
    return PublishedChange(
        mean_baseline=publish_statistic(mean_baseline, n, rules),
        mean_follow_up=publish_statistic(mean_follow_up, n, rules),
        mean_change=publish_statistic(interval.mean, n, rules),
        ci_lower=publish_statistic(interval.lower, n, rules),
        ci_upper=publish_statistic(interval.upper, n, rules),
        share_reliable_improvement=share,
    )
