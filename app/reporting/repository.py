"""The SQL of the commissioner reports: every figure is aggregated by the database.

Each query reads the referrals authored in ``[start, end)`` with the grouping dimensions as
SQL expressions (``DIMENSIONS``, written for PostgreSQL and SQLite) and returns one row per
group: counts, the median days to first contact, and per instrument measure the paired
baseline/follow-up sums. Nothing but group labels and aggregates leaves the database.

Margins (the "all" rows of a grouping) are computed by the database as well: PostgreSQL in the
same statement with ``GROUPING SETS``; SQLite, which has none, with one statement per level.
Medians: PostgreSQL ``percentile_cont(0.5)``; SQLite has no ordered-set aggregate, so its median
is the mean of the middle one or two values found with ``ROW_NUMBER()``/``COUNT()`` windows,
still in SQL.

Only whitelisted SQL fragments are put together here; every value (dates, codes) is a bound
parameter.
"""

# ruff: noqa: S608 (statements are put together from the constant fragments above; values are bound)
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.reporting.measures import COUNTS, FLAGS, WITH_FIRST_CONTACT

ALL = "all"  # the label of a rolled-up dimension (the margins of a table)
UNKNOWN = "unknown"
NONE = "none"

ACCEPTED_STATUSES = ("accepted", "in-progress", "on-hold", "completed", "failed")
LATER_TIMEPOINTS = ("follow-up", "exit")

AGE_BANDS = (
    (None, 17, "0-17"),
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, 74, "65-74"),
    (75, None, "75+"),
)


@dataclass(frozen=True)
class Dialect:
    name: str

    @property
    def postgres(self) -> bool:
        return self.name == "postgresql"

    def utc(self, column: str) -> str:
        # timestamptz in UTC whatever the session's TimeZone; SQLite stores naive UTC
        return f"timezone('UTC', {column})" if self.postgres else column

    def month(self, column: str) -> str:
        if self.postgres:
            return f"to_char({self.utc(column)}, 'YYYY-MM')"
        return f"strftime('%Y-%m', {column})"

    def quarter(self, column: str) -> str:
        if self.postgres:
            return f"to_char({self.utc(column)}, 'YYYY-\"Q\"Q')"
        return (
            f"(strftime('%Y', {column}) || '-Q' || "
            f"((CAST(strftime('%m', {column}) AS INTEGER) + 2) / 3))"
        )

    def age(self, at: str, birth_date: str) -> str:
        if self.postgres:
            day = f"CAST({self.utc(at)} AS DATE)"
            return f"CAST(date_part('year', age({day}, {birth_date})) AS INTEGER)"
        return (
            f"(CAST(strftime('%Y', {at}) AS INTEGER)"
            f" - CAST(strftime('%Y', {birth_date}) AS INTEGER)"
            f" - (strftime('%m-%d', {at}) < strftime('%m-%d', {birth_date})))"
        )

    def days_between(self, start: str, end: str) -> str:
        if self.postgres:
            return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"
        return f"(julianday({end}) - julianday({start}))"

    def text_of(self, column: str) -> str:
        return f"CAST({column} AS TEXT)"


@dataclass(frozen=True)
class Dimension:
    """A grouping dimension over a summary row ``f`` (``report_referral`` or ``report_change``,
    which carry the same dimension columns): ``key``, the cheap per-row expression the rows are
    first grouped by, and ``label(k)``, the published label of a key ``k``."""

    name: str
    key: str
    label_sql: str = "{k}"
    joins: tuple[str, ...] = ()  # keys of JOINS

    def label(self, k: str) -> str:
        return self.label_sql.format(k=k)


# the multi-valued dimensions' rows carry the referral's authored_on, so that only the
# window's rows are read and hashed for the join (``{within}``: a condition on that alias)
JOINS = {
    "need": (
        "LEFT JOIN report_need rn ON rn.referral_id = f.referral_id AND {within}",
        "rn",
    ),
    "activity_category": (
        "LEFT JOIN report_category ac ON ac.referral_id = f.referral_id AND {within}",
        "ac",
    ),
}

NUMBER_LABEL = f"COALESCE(CAST({{k}} AS TEXT), '{UNKNOWN}')"
DIMENSIONS: dict[str, Dimension] = {
    "month": Dimension("month", "f.month"),
    "quarter": Dimension("quarter", "f.quarter"),
    "practice": Dimension("practice", "f.practice"),
    "performer": Dimension("performer", "f.performer"),
    "need": Dimension("need", "rn.need", f"COALESCE({{k}}, '{NONE}')", ("need",)),
    "activity_category": Dimension(
        "activity_category", "ac.category", f"COALESCE({{k}}, '{NONE}')", ("activity_category",)
    ),
    "imd_quintile": Dimension("imd_quintile", "(f.imd_decile + 1) / 2", NUMBER_LABEL),
    "imd_decile": Dimension("imd_decile", "f.imd_decile", NUMBER_LABEL),
    "age_band": Dimension("age_band", "f.age_band"),
    "sex": Dimension("sex", "f.sex"),
}
# a referral falls in several groups of these (each of its needs; each category booked)
MULTI_VALUED = frozenset({"need", "activity_category"})


@dataclass(frozen=True)
class Window:
    start: dt.datetime  # inclusive
    end: dt.datetime  # exclusive


def _in_window(alias: str) -> str:
    return f"{alias}.authored_on >= :start AND {alias}.authored_on < :end"


def _joins(dimensions: Sequence[str], within: Callable[[str], str] = _in_window) -> str:
    wanted: list[str] = []
    for name in dimensions:
        for join in DIMENSIONS[name].joins:
            if join not in wanted:
                wanted.append(join)
    order = list(JOINS)
    return " ".join(
        JOINS[j][0].format(within=within(JOINS[j][1])) for j in sorted(wanted, key=order.index)
    )


def _keyed(name: str, keys: Mapping[str, str] | None) -> Dimension:
    dim = DIMENSIONS[name]
    if keys and name in keys:
        return Dimension(dim.name, keys[name], dim.label_sql)
    return dim


def _levels(count: int) -> list[tuple[int, ...]]:
    """The grouping sets: every subset of the dimensions (their positions), finest first."""
    if count == 0:
        return [()]
    if count == 1:
        return [(0,), ()]
    return [(0, 1), (0,), (1,), ()]


REFRESH_LOCK = 7_010_001  # pg_advisory_xact_lock key of the refresh ("7.10": issue 7, section 10)


async def _dialect(session: AsyncSession) -> Dialect:
    d = Dialect(session.get_bind().dialect.name)
    if d.postgres:
        # the summary rows and partials do not change until the report's transaction ends (a
        # refresh takes this lock exclusively): its statements, each with its own snapshot,
        # see the same rows, as the medians need (counts from one, ranks read by the next).
        # SQLite: one read transaction is one snapshot.
        await session.execute(
            text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": REFRESH_LOCK}
        )
        # a report sorts a few hundred thousand rows for its medians: in memory, not on disk;
        # JIT compilation costs more than it saves on these one-pass aggregates
        await session.execute(text("SET LOCAL work_mem = '64MB'"))
        await session.execute(text("SET LOCAL jit = off"))
    return d


@dataclass(frozen=True)
class Aggregate:
    """A figure computed in two passes: ``first`` over the source rows, per finest group (with
    every dimension key and ``extra`` column), then ``second`` over those groups (``base``, its
    columns named as the aggregates) for every grouping set. Only sums and counts are used,
    so the margins are exactly those of one pass over the source rows."""

    name: str
    first: str
    second: str


def _sum(name: str, expression: str) -> Aggregate:
    return Aggregate(name, f"SUM({expression})", f"SUM({name})")


def _count(name: str, expression: str = "*") -> Aggregate:
    return Aggregate(name, f"COUNT({expression})", f"SUM({name})")


def _mean(name: str, total: str, count: str) -> Aggregate:
    return Aggregate(name, f"SUM({total})", f"SUM({name}) / CAST(SUM({count}) AS DOUBLE PRECISION)")


def _grouped(d: Dialect, level: Sequence[int], labels: Sequence[str], extra: Sequence[str]) -> str:
    columns = [*(labels[i] for i in level), *extra]
    return ("GROUP BY " + ", ".join(columns)) if columns else ""


async def _aggregate(
    session: AsyncSession,
    d: Dialect,
    dimensions: Sequence[str],
    source: str,
    aggregates: Sequence[Aggregate],
    params: dict[str, Any],
    extra: Sequence[tuple[str, str]] = (),
    keys: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Rows ``g0``, ``g1`` (labels; ALL where rolled up), the ``extra`` columns (expression,
    name) and the aggregates, for every grouping level of ``dimensions`` over ``source``.

    The first pass groups the source rows by the raw dimension keys (one plain GROUP BY, which
    PostgreSQL runs in parallel); the margins are then summed from its groups: PostgreSQL with
    ``GROUPING SETS`` in the same statement, SQLite with one statement per level.
    """
    dims = [_keyed(name, keys) for name in dimensions]
    first_keys = [dim.key for dim in dims] + [e for e, _ in extra]
    first = ", ".join(
        [*(f"{dim.key} AS k{i}" for i, dim in enumerate(dims))]
        + [f"{e} AS {name}" for e, name in extra]
        + [f"{a.first} AS {a.name}" for a in aggregates]
    )
    group = f" GROUP BY {', '.join(first_keys)}" if first_keys else ""
    base = f"WITH base AS (SELECT {first} {source}{group}) "
    labels = [dim.label(f"k{i}") for i, dim in enumerate(dims)]
    names = [name for _, name in extra]
    second = ", ".join([*names, *(f"{a.second} AS {a.name}" for a in aggregates)])
    rows: list[dict[str, Any]] = []
    if d.postgres and dims:
        sets = ", ".join(
            "(" + ", ".join([*(labels[i] for i in level), *names]) + ")"
            for level in _levels(len(dims))
        )
        select = ", ".join(f"{label} AS g{i}" for i, label in enumerate(labels))
        statement = f"{base}SELECT {select}, {second} FROM base GROUP BY GROUPING SETS ({sets})"
        for row in (await session.execute(text(statement), params)).mappings():
            found = dict(row)
            for i in range(len(dims)):
                if found[f"g{i}"] is None:  # labels are never NULL: a NULL is a rolled-up dim
                    found[f"g{i}"] = ALL
            rows.append(found)
        return rows
    for level in _levels(len(dims)):
        select = "".join(
            (f"{label} AS g{i}, " if i in level else f"'{ALL}' AS g{i}, ")
            for i, label in enumerate(labels)
        )
        statement = f"{base}SELECT {select}{second} FROM base {_grouped(d, level, labels, names)}"
        rows.extend(
            dict(row) for row in (await session.execute(text(statement), params)).mappings()
        )
    return rows


def _window_params(window: Window) -> dict[str, Any]:
    return {"start": window.start, "end": window.end}


# Monthly partials -----------------------------------------------------------------------------
#
# ``report_month`` and ``report_month_change`` (app/reporting/models.py) hold, per calendar month
# and per set of at most two base dimensions, the counts and sums of the summary rows. A report
# reads the whole months of its window from them and the days at its edges from the summary
# rows, in one UNION ALL that has the columns of both, then aggregates as before: every figure
# but the median is a count or a sum, so the result is that of one pass over the summary rows.

# the median days to first contact: each partial counts its first contacts per bucket of these
# bounds (days; bucket i is [bound i-1, bound i), the first open below, the last above); a report
# finds each group's median bucket from those counts, then reads only the rows of the window in
# the median buckets (docs/reports.md "Medians")
DAY_BOUNDS: tuple[float, ...] = (
    *(k / 4 for k in range(1, 4)),  # quarter days up to a day
    *(k / 2 for k in range(2, 43)),  # half days up to 21 days
    *range(22, 36),  # days up to 35
    42,
    56,
    91,
    182,
    365,
)  # 63 bounds: 64 buckets
DAY_BUCKETS = tuple(f"days_{i:02d}" for i in range(len(DAY_BOUNDS) + 1))


def day_bucket_test(i: int, days: str) -> str:
    """SQL: ``days`` (not NULL) is in bucket ``i``."""
    low = f"{days} >= {DAY_BOUNDS[i - 1]}" if i > 0 else ""
    high = f"{days} < {DAY_BOUNDS[i]}" if i < len(DAY_BOUNDS) else ""
    return " AND ".join(t for t in (low, high) if t) or f"{days} IS NOT NULL"


def day_bucket_counts(days: str) -> list[str]:
    """SQL: per bucket, 1 when ``days`` is in it, else 0 (0 in each when ``days`` is NULL)."""
    return [
        f"CASE WHEN {day_bucket_test(i, days)} THEN 1 ELSE 0 END" for i in range(len(DAY_BUCKETS))
    ]


# the dimension columns of a summary row (report_referral, report_need, report_change)
DIMENSION_COLUMNS = (
    "authored_on",
    "month",
    "quarter",
    "practice",
    "performer",
    "imd_decile",
    "age_band",
    "sex",
)
# the key columns of a partial (beside dims and month) and its sums
PARTIAL_KEY = ("practice", "performer", "imd_decile", "age_band", "sex", "need", "category")
MONTH_SUMS = (*COUNTS, WITH_FIRST_CONTACT)
CHANGE_SUMS = ("n", "sum_baseline", "sum_follow_up", "sum_change", "sum_squares", "improved")

# the dimensions a partial is keyed by; month and quarter are the partial's own month, the IMD
# quintile comes from the decile
BASE_DIMENSIONS = ("practice", "performer", "imd_decile", "age_band", "sex", "need", "category")
BASE_OF = {
    "month": None,
    "quarter": None,
    "practice": "practice",
    "performer": "performer",
    "need": "need",
    "activity_category": "category",
    "imd_quintile": "imd_decile",
    "imd_decile": "imd_decile",
    "age_band": "age_band",
    "sex": "sex",
}
# the request dimensions over the UNION ALL of partial and summary rows (alias ``f``)
PARTIAL_KEYS = {"need": "f.need", "activity_category": "f.category"}
# a partial's key column -> its value as the summary rows have it (NULL: unknown / none)
PARTIAL_READ = {"imd_decile": "NULLIF(p.imd_decile, 0)", "category": "NULLIF(p.category, '')"}


def partial_dims(dimensions: Sequence[str]) -> tuple[str, ...]:
    """The base dimensions of the partial a grouping reads (in ``BASE_DIMENSIONS`` order)."""
    wanted = {BASE_OF[name] for name in dimensions}
    return tuple(b for b in BASE_DIMENSIONS if b in wanted)


def partial_kinds() -> list[tuple[str, ...]]:
    """Every set of at most two base dimensions: a request has at most two ``group_by``."""
    pairs = [(a, b) for i, a in enumerate(BASE_DIMENSIONS) for b in BASE_DIMENSIONS[i + 1 :]]
    return [(), *((b,) for b in BASE_DIMENSIONS), *pairs]


@dataclass(frozen=True)
class Split:
    """A window as whole calendar months (``months``: first, and the one after the last, as
    ``YYYY-MM``; None if the window holds no whole month) and the ranges at its edges."""

    months: tuple[str, str] | None
    edges: tuple[tuple[dt.datetime, dt.datetime], ...]


def _first_of_month(at: dt.datetime) -> dt.datetime:
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def split(window: Window) -> Split:
    first = _first_of_month(window.start)
    if first < window.start:
        first = _first_of_month(first + dt.timedelta(days=32))
    last = _first_of_month(window.end)  # the month after the last whole one
    if first >= last:
        return Split(None, ((window.start, window.end),))
    edges = tuple((a, b) for a, b in ((window.start, first), (last, window.end)) if a < b)
    return Split((first.strftime("%Y-%m"), last.strftime("%Y-%m")), edges)


def _split_params(parts: Split) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if parts.months:
        params |= {"month_from": parts.months[0], "month_to": parts.months[1]}
    for i, (a, b) in enumerate(parts.edges):
        params |= {f"edge{i}_start": a, f"edge{i}_end": b}
    return params


def _in_edges(parts: Split) -> Callable[[str], str]:
    def within(alias: str) -> str:
        ranges = [
            f"({alias}.authored_on >= :edge{i}_start AND {alias}.authored_on < :edge{i}_end)"
            for i in range(len(parts.edges))
        ]
        return "(" + " OR ".join(ranges) + ")"

    return within


def _partial_columns(kind: Sequence[str], detail: Mapping[str, str]) -> tuple[str, str]:
    """The key columns of a partial kind, as read from the partial (``p``) and from the
    summary rows (``detail``: base dimension -> expression; default ``f.<name>``)."""
    partial = ", ".join(f"{PARTIAL_READ.get(b, f'p.{b}')} AS {b}" for b in kind)
    rows = ", ".join(f"{detail.get(b, f'f.{b}')} AS {b}" for b in kind)
    return partial, rows


def _union(parts: Split, partial: str, detail: str) -> str:
    selects = []
    if parts.months:
        selects.append(f"{partial} AND p.month >= :month_from AND p.month < :month_to")
    if parts.edges:
        selects.append(detail)
    return "FROM (" + " UNION ALL ".join(selects) + ") f"


# Referrals ------------------------------------------------------------------------------------


REFERRAL_SUMS = MONTH_SUMS


async def referral_counts(
    session: AsyncSession, dimensions: Sequence[str], window: Window, *, medians: bool = True
) -> list[dict[str, Any]]:
    """Per group: received, accepted, rejected, declined, booked, attended, completed, engaged
    (first contact or booked), with_first_contact and the median days to first contact (None
    without ``medians``, which the equity view does not need).

    The counts: the whole months of the window from ``report_month``, its edges from the
    summary rows (``report_need`` by need, joined to ``report_category`` by category), with the
    first contacts per bucket of days when ``medians``; then the medians (``_medians``)."""
    d = await _dialect(session)
    days = "f.first_contact_days"
    kind = partial_dims(dimensions)
    parts = split(window)
    table = "report_need" if "need" in kind else "report_referral"  # once per need: no join
    partial_keys, detail_keys = _partial_columns(kind, {"category": "ac.category"})
    sums = [*REFERRAL_SUMS, *(DAY_BUCKETS if medians else ())]
    comma = ", " if kind else ""
    partial = (
        f"SELECT p.month, p.quarter, {partial_keys}{comma}"
        f"{', '.join(f'p.{name}' for name in sums)} FROM report_month p "
        "WHERE p.dims = :dims AND p.received > 0"
    )
    flags = ", ".join(f"f.{name} AS {name}" for name in FLAGS)
    buckets = "".join(
        f", {test} AS {name}"
        for test, name in zip(day_bucket_counts(days), DAY_BUCKETS, strict=True)
        if medians
    )
    joins = _joins(["activity_category"] if "category" in kind else [], _in_edges(parts))
    summary_rows = (
        f"SELECT f.month, f.quarter, {detail_keys}{comma}1 AS received, {flags}, "
        f"CASE WHEN {days} IS NOT NULL THEN 1 ELSE 0 END AS {WITH_FIRST_CONTACT}{buckets} "
        f"FROM {table} f {joins} WHERE {_in_edges(parts)('f')}"
    )
    source = _union(parts, partial, summary_rows)
    params = {"dims": "+".join(kind)} | _split_params(parts)
    aggregates = [_sum(name, f"f.{name}") for name in sums]
    rows = await _aggregate(session, d, dimensions, source, aggregates, params, keys=PARTIAL_KEYS)
    for row in rows:
        row["median_days"] = None
    if medians:
        await _medians(session, d, dimensions, window, rows)
    return rows


def _locate(counts: Sequence[int], rank: int) -> tuple[int, int]:
    """(bucket, rank within it) of the ``rank``-th smallest value (1-based), given the number
    of values per bucket."""
    below = 0
    for bucket, count in enumerate(counts):
        if rank <= below + count:
            return bucket, rank - below
        below += count
    raise ValueError(f"rank {rank} beyond {below} values")


def _bucket_range(first: int, last: int, days: str) -> str:
    """SQL: ``days`` is in one of the buckets ``first`` to ``last``."""
    low = f"{days} >= {DAY_BOUNDS[first - 1]}" if first > 0 else f"{days} IS NOT NULL"
    high = f" AND {days} < {DAY_BOUNDS[last]}" if last < len(DAY_BOUNDS) else ""
    return low + high


def _bucket_of(days: str) -> str:
    cases = " ".join(f"WHEN {days} < {bound} THEN {i}" for i, bound in enumerate(DAY_BOUNDS))
    return f"CASE {cases} ELSE {len(DAY_BOUNDS)} END"


async def _medians(
    session: AsyncSession,
    d: Dialect,
    dimensions: Sequence[str],
    window: Window,
    rows: list[dict[str, Any]],
) -> None:
    """The exact median days to first contact of every group and margin of ``rows`` (which
    carry the number of first contacts per bucket of days), as ``percentile_cont(0.5)``: the
    middle value, or the two middle ones interpolated. Each group's middle ranks are located
    in a bucket by the counts; one statement then reads the window's summary rows of the
    needed buckets only and numbers each group's rows in its bucket by days."""
    n = len(dimensions)
    wanted: list[dict[str, Any]] = []  # per group and bucket: the ranks wanted in it (k1, k2)
    middles: list[tuple[dict[str, Any], list[tuple[int, int]]]] = []
    for row in rows:
        count = int(row[WITH_FIRST_CONTACT] or 0)
        if not count:
            continue
        counts = [int(row[name] or 0) for name in DAY_BUCKETS]
        level = sum(1 << i for i in range(n) if row[f"g{i}"] != ALL)
        labels = {f"g{i}": str(row[f"g{i}"]) for i in range(n)}
        picks: list[tuple[int, int]] = []  # (wanted id, rank within its bucket)
        for rank in sorted({(count + 1) // 2, count // 2 + 1}):
            bucket, within = _locate(counts, rank)
            if picks and wanted[picks[-1][0]]["b"] == bucket:
                wanted[picks[-1][0]]["k2"] = within
                picks.append((picks[-1][0], within))
                continue
            entry = {"id": len(wanted), "lvl": level, "b": bucket, "k1": within, "k2": within}
            wanted.append(entry | labels)
            picks.append((entry["id"], within))
        middles.append((row, picks))
    if not wanted:
        return
    days = "f.first_contact_days"
    joins = _joins(dimensions)
    table, keys = "report_referral", None
    if "need" in dimensions:  # report_referral once per need: no join
        table, keys = "report_need", {"need": "f.need"}
        joins = _joins([name for name in dimensions if name != "need"])
    dims = [_keyed(name, keys) for name in dimensions]
    runs: list[list[int]] = []  # the needed buckets as runs of neighbours
    for b in sorted({w["b"] for w in wanted}):
        if runs and runs[-1][-1] == b - 1:
            runs[-1].append(b)
        else:
            runs.append([b])
    in_buckets = " OR ".join(f"({_bucket_range(run[0], run[-1], days)})" for run in runs)
    grouped = "".join(f"{dim.label(dim.key)} AS g{i}, " for i, dim in enumerate(dims))
    rows_sql = (
        f"SELECT {grouped}{_bucket_of(days)} AS b, {days} AS days FROM {table} f {joins} "
        f"WHERE f.authored_on >= :start AND f.authored_on < :end AND ({in_buckets})"
    )
    names = "".join(f", g{i} text" for i in range(n))
    if d.postgres:
        listed = (
            "SELECT * FROM json_to_recordset(CAST(:wanted AS json)) "
            f"AS w(id integer, lvl integer, b integer, k1 integer, k2 integer{names})"
        )
    else:
        fields = ["id", "lvl", "b", "k1", "k2", *(f"g{i}" for i in range(n))]
        listed = (
            "SELECT "
            + ", ".join(f"json_extract(value, '$.{name}') AS {name}" for name in fields)
            + " FROM json_each(:wanted)"
        )
    numbered = []
    for level in sorted({w["lvl"] for w in wanted}):
        same = "".join(f" AND r.g{i} = w.g{i}" for i in range(n) if level & (1 << i))
        numbered.append(
            "SELECT w.id, w.k1, w.k2, r.days, "
            "ROW_NUMBER() OVER (PARTITION BY w.id ORDER BY r.days) "
            f"AS rn FROM r JOIN w ON w.lvl = {level} AND w.b = r.b{same}"
        )
    statement = (
        f"WITH r AS ({rows_sql}), w AS ({listed}) SELECT id, rn, days FROM "
        f"({' UNION ALL '.join(numbered)}) x WHERE rn = k1 OR rn = k2"
    )
    params = _window_params(window) | {"wanted": json.dumps(wanted)}
    found = {
        (int(row.id), int(row.rn)): float(row.days)
        for row in await session.execute(text(statement), params)
    }
    for row, picks in middles:
        low, high = found[picks[0]], found[picks[-1]]
        # percentile_cont(0.5)'s arithmetic: the lower middle plus half the step to the upper
        row["median_days"] = low if len(picks) == 1 else low + (high - low) * 0.5


# Outcomes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreMeasure:
    """One instrument score the reports follow; ``threshold`` is its reliable-change size in
    the direction of improvement (``direction`` +1: higher is better, -1: lower)."""

    instrument: str
    measure: str
    direction: int
    threshold: float | None


async def paired_scores(
    session: AsyncSession,
    dimensions: Sequence[str],
    window: Window,
    measures: Sequence[ScoreMeasure],
) -> list[dict[str, Any]]:
    """Per group and measure: the number of referrals with a baseline and a follow-up, the sums
    the means and the variance of the change come from, and the number reliably improved.

    Per referral and measure: the earliest baseline, against the latest follow-up or exit
    collected at or after it (as ``app.outcomes.service.changes``).
    """
    d = await _dialect(session)
    kind = partial_dims(dimensions)
    parts = split(window)
    params: dict[str, Any] = {"dims": "+".join(kind)} | _split_params(parts)
    for k, m in enumerate(measures):
        params |= {f"i{k}": m.instrument, f"m{k}": m.measure}

    def wanted(alias: str) -> str:
        return " OR ".join(
            f"({alias}.instrument = :i{k} AND {alias}.measure = :m{k})"
            for k in range(len(measures))
        )

    partial_keys, detail_keys = _partial_columns(
        kind, {"need": "rn.need", "category": "ac.category"}
    )
    comma = ", " if kind else ""
    partial = (
        f"SELECT p.month, p.quarter, {partial_keys}{comma}p.instrument, p.measure, p.n, "
        "p.sum_baseline, p.sum_follow_up, p.sum_change, p.sum_squares, p.improved "
        f"FROM report_month_change p WHERE p.dims = :dims AND p.n > 0 AND ({wanted('p')})"
    )
    multi = [name for name in ("need", "activity_category") if BASE_OF[name] in kind]
    joins = _joins(multi, _in_edges(parts))
    change = "(f.follow_up - f.baseline)"
    summary_rows = (
        f"SELECT f.month, f.quarter, {detail_keys}{comma}f.instrument, f.measure, 1 AS n, "
        f"f.baseline AS sum_baseline, f.follow_up AS sum_follow_up, {change} AS sum_change, "
        f"{change} * {change} AS sum_squares, {improved_sql(measures, params)} AS improved "
        f"FROM report_change f {joins} "
        f"WHERE ({wanted('f')}) AND {_in_edges(parts)('f')}"
    )
    aggregates = [
        _sum("n", "f.n"),
        _mean("mean_baseline", "f.sum_baseline", "n"),
        _mean("mean_follow_up", "f.sum_follow_up", "n"),
        _mean("mean_change", "f.sum_change", "n"),
        _sum("sum_squares", "f.sum_squares"),
        _sum("improved", "f.improved"),
    ]
    source = _union(parts, partial, summary_rows)
    extra = (("f.instrument", "instrument"), ("f.measure", "measure"))
    return await _aggregate(
        session, d, dimensions, source, aggregates, params, extra, keys=PARTIAL_KEYS
    )


def improved_sql(measures: Sequence[ScoreMeasure], params: dict[str, Any]) -> str:
    """1 when the change of a row of ``report_change`` (``f``) is a reliable improvement of its
    measure, else 0 (0 too for a measure without a threshold); adds its values to ``params``."""
    improved = []
    for k, m in enumerate(measures):
        if m.threshold is not None:
            params |= {f"ri{k}": m.instrument, f"rm{k}": m.measure, f"rt{k}": m.threshold}
            improved.append(
                f"WHEN f.instrument = :ri{k} AND f.measure = :rm{k} THEN CASE WHEN "
                f"{m.direction} * (f.follow_up - f.baseline) >= :rt{k} THEN 1 ELSE 0 END"
            )
    return f"CASE {' '.join(improved)} ELSE 0 END" if improved else "0"
