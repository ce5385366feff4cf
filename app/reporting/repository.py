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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

ALL = "all"  # the label of a rolled-up dimension (the margins of a table)
UNKNOWN = "unknown"
NONE = "none"

FLAGS = ("accepted", "rejected", "declined", "booked", "attended", "completed", "engaged")
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
# window's rows are read and hashed for the join
JOINS = {
    "need": (
        "LEFT JOIN report_need rn ON rn.referral_id = f.referral_id "
        "AND rn.authored_on >= :start AND rn.authored_on < :end"
    ),
    "activity_category": (
        "LEFT JOIN report_category ac ON ac.referral_id = f.referral_id "
        "AND ac.authored_on >= :start AND ac.authored_on < :end"
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


def _joins(dimensions: Sequence[str]) -> str:
    wanted: list[str] = []
    for name in dimensions:
        for join in DIMENSIONS[name].joins:
            if join not in wanted:
                wanted.append(join)
    order = list(JOINS)
    return " ".join(JOINS[j] for j in sorted(wanted, key=order.index))


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


async def _dialect(session: AsyncSession) -> Dialect:
    d = Dialect(session.get_bind().dialect.name)
    if d.postgres:
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


# Referrals ------------------------------------------------------------------------------------


async def referral_counts(
    session: AsyncSession, dimensions: Sequence[str], window: Window, *, medians: bool = True
) -> list[dict[str, Any]]:
    """Per group: received, accepted, rejected, declined, booked, attended, completed, engaged
    (first contact or booked), with_first_contact and the median days to first contact (None
    without ``medians``: the median is a statement of its own, with a sort of the window's
    rows, which the equity view does not need)."""
    d = await _dialect(session)
    days = "f.first_contact_days"
    joins = _joins(dimensions)
    table, keys = "report_referral", None
    if "need" in dimensions:  # report_referral once per need: no join
        table, keys = "report_need", {"need": "f.need"}
        joins = _joins([name for name in dimensions if name != "need"])
    source = f"FROM {table} f {joins} WHERE f.authored_on >= :start AND f.authored_on < :end"
    params = _window_params(window)
    aggregates = [
        _count("received"),
        *(_sum(name, f"f.{name}") for name in FLAGS),
        _count("with_first_contact", days),
    ]
    rows = await _aggregate(session, d, dimensions, source, aggregates, params, keys=keys)
    n = len(dimensions)
    found: dict[tuple[Any, ...], float] = {}
    if medians:
        for row in await _medians(session, d, dimensions, source, days, params, keys):
            found[tuple(row[f"g{i}"] for i in range(n))] = row["median_days"]
    for row in rows:
        row["median_days"] = found.get(tuple(row[f"g{i}"] for i in range(n)))
    return rows


async def _medians(
    session: AsyncSession,
    d: Dialect,
    dimensions: Sequence[str],
    source: str,
    days: str,
    params: dict[str, Any],
    keys: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The median of ``days`` per group and margin (not additive: from the source rows)."""
    dims = [_keyed(name, keys) for name in dimensions]
    labels = [dim.label(dim.key) for dim in dims]
    rows: list[dict[str, Any]] = []
    if d.postgres:
        # the labels in the "C" collation: the sort percentile_cont needs compares bytes
        labels = [f'({label}) COLLATE "C"' for label in labels]
        select = "".join(f"{label} AS g{i}, " for i, label in enumerate(labels))
        group = ""
        if dims:
            sets = ", ".join(
                "(" + ", ".join(labels[i] for i in level) + ")" for level in _levels(len(dims))
            )
            group = f" GROUP BY GROUPING SETS ({sets})"
        statement = (
            f"SELECT {select}percentile_cont(0.5) WITHIN GROUP (ORDER BY {days}) AS median_days "
            f"{source} AND {days} IS NOT NULL{group}"
        )
        for row in (await session.execute(text(statement), params)).mappings():
            found = dict(row)
            for i in range(len(dims)):
                if found[f"g{i}"] is None:
                    found[f"g{i}"] = ALL
            rows.append(found)
        return rows
    # SQLite has no ordered-set aggregate: the mean of the middle one or two ordered values
    names = ", ".join(f"g{i}" for i in range(len(dims))) or "g_"
    for level in _levels(len(dims)):
        select = (
            ", ".join(
                (f"{label} AS g{i}" if i in level else f"'{ALL}' AS g{i}")
                for i, label in enumerate(labels)
            )
            or "1 AS g_"
        )
        part = ("PARTITION BY " + ", ".join(labels[i] for i in level)) if level else ""
        statement = (
            f"SELECT {names}, AVG(days) AS median_days FROM ("
            f"SELECT {select}, {days} AS days, "
            f"ROW_NUMBER() OVER ({part} ORDER BY {days}) AS k, "
            f"COUNT(*) OVER ({part}) AS c {source} AND {days} IS NOT NULL"
            f") ordered WHERE k IN ((c + 1) / 2, (c + 2) / 2) GROUP BY {names}"
        )
        rows.extend(
            dict(row) for row in (await session.execute(text(statement), params)).mappings()
        )
    return rows


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
    joins = _joins(dimensions)
    params = _window_params(window)
    wanted = []
    improved = []
    for k, m in enumerate(measures):
        params |= {f"i{k}": m.instrument, f"m{k}": m.measure}
        wanted.append(f"(f.instrument = :i{k} AND f.measure = :m{k})")
        if m.threshold is not None:
            params[f"t{k}"] = m.threshold
            improved.append(
                f"WHEN f.instrument = :i{k} AND f.measure = :m{k} THEN CASE WHEN "
                f"{m.direction} * (f.follow_up - f.baseline) >= :t{k} THEN 1 ELSE 0 END"
            )
    improved_sql = f"CASE {' '.join(improved)} ELSE NULL END" if improved else "NULL"

    change = "(f.follow_up - f.baseline)"
    aggregates = [
        _count("n"),
        _mean("mean_baseline", "f.baseline", "n"),
        _mean("mean_follow_up", "f.follow_up", "n"),
        _mean("mean_change", change, "n"),
        _sum("sum_squares", f"{change} * {change}"),
        _sum("improved", improved_sql),
    ]
    source = (
        f"FROM report_change f {joins} WHERE ({' OR '.join(wanted)}) "
        "AND f.authored_on >= :start AND f.authored_on < :end"
    )
    extra = (("f.instrument", "instrument"), ("f.measure", "measure"))
    return await _aggregate(session, d, dimensions, source, aggregates, params, extra)
