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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.referrals.lifecycle import DECLINED

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
    """A grouping dimension: its SQL (over the aliases below) and the joins it needs."""

    name: str
    joins: tuple[str, ...]  # keys of JOINS, in order

    def sql(self, d: Dialect) -> str:
        a = "r.authored_on"
        if self.name == "month":
            return d.month(a)
        if self.name == "quarter":
            return d.quarter(a)
        if self.name == "practice":
            return "r.requester_ods"
        if self.name == "performer":
            return "r.performer_ods"
        if self.name == "need":
            return f"COALESCE(rn.need, '{NONE}')"
        if self.name == "activity_category":
            return f"COALESCE(ac.category, '{NONE}')"
        if self.name == "imd_decile":
            return f"COALESCE(CAST(ld.imd_decile AS TEXT), '{UNKNOWN}')"
        if self.name == "imd_quintile":
            return f"COALESCE(CAST((ld.imd_decile + 1) / 2 AS TEXT), '{UNKNOWN}')"
        if self.name == "age_band":
            age = d.age(a, "p.birth_date")
            cases = " ".join(
                f"WHEN {age} <= {high} THEN '{label}'"
                for _, high, label in AGE_BANDS
                if high is not None
            )
            return f"(CASE {cases} ELSE '{AGE_BANDS[-1][2]}' END)"
        if self.name == "sex":
            return f"COALESCE(p.gender, '{UNKNOWN}')"
        raise ValueError(self.name)


JOINS = {
    "patient": "JOIN patient p ON p.id = r.patient_id",
    "area": (
        "LEFT JOIN postcode pc ON pc.postcode = p.postcode "
        "LEFT JOIN lsoa_deprivation ld ON ld.lsoa_code = pc.lsoa_code"
    ),
    "need": "LEFT JOIN referral_need rn ON rn.referral_id = r.id",
    "activity_category": (
        "LEFT JOIN (SELECT DISTINCT b.referral_id, l.code AS category "
        "FROM booking b JOIN activity_category l ON l.activity_id = b.activity_id "
        "WHERE b.status <> 'cancelled' AND l.code IS NOT NULL) ac ON ac.referral_id = r.id"
    ),
}

DIMENSIONS: dict[str, Dimension] = {
    "month": Dimension("month", ()),
    "quarter": Dimension("quarter", ()),
    "practice": Dimension("practice", ()),
    "performer": Dimension("performer", ()),
    "need": Dimension("need", ("need",)),
    "activity_category": Dimension("activity_category", ("activity_category",)),
    "imd_quintile": Dimension("imd_quintile", ("patient", "area")),
    "imd_decile": Dimension("imd_decile", ("patient", "area")),
    "age_band": Dimension("age_band", ("patient",)),
    "sex": Dimension("sex", ("patient",)),
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


async def _run(
    session: AsyncSession,
    d: Dialect,
    dimensions: Sequence[str],
    build: Callable[[str, str], str],
    params: dict[str, Any],
    extra: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Run ``build(group_by, select)`` for every grouping level; rolled-up dims read ALL.

    ``build`` gets the GROUP BY clause (the ``extra`` columns are in every grouping set) and
    the select list of the dimension columns (``g0``, ``g1``) and returns a statement whose
    rows have ``g0``, ``g1`` and the aggregates.
    """
    exprs = [DIMENSIONS[name].sql(d) for name in dimensions]
    rows: list[dict[str, Any]] = []
    if d.postgres and exprs:
        sets = ", ".join(
            "(" + ", ".join([*(exprs[i] for i in level), *extra]) + ")"
            for level in _levels(len(exprs))
        )
        select = ", ".join(f"{e} AS g{i}" for i, e in enumerate(exprs))
        statement = build(f"GROUP BY GROUPING SETS ({sets})", select)
        for row in (await session.execute(text(statement), params)).mappings():
            found = dict(row)
            for i in range(len(exprs)):
                if found[f"g{i}"] is None:  # labels are never NULL: a NULL is a rolled-up dim
                    found[f"g{i}"] = ALL
            rows.append(found)
        return rows
    for level in _levels(len(exprs)):
        select = ", ".join(
            (f"{e} AS g{i}" if i in level else f"'{ALL}' AS g{i}") for i, e in enumerate(exprs)
        )
        columns = [*(exprs[i] for i in level), *extra]
        group = ("GROUP BY " + ", ".join(columns)) if columns else ""
        statement = build(group, select or "1 AS g_")
        rows.extend(
            dict(row) for row in (await session.execute(text(statement), params)).mappings()
        )
    return rows


def _window_params(window: Window) -> dict[str, Any]:
    return {"start": window.start, "end": window.end}


# Referrals ------------------------------------------------------------------------------------


async def referral_counts(
    session: AsyncSession, dimensions: Sequence[str], window: Window
) -> list[dict[str, Any]]:
    """Per group: received, accepted, rejected, declined, booked, attended, completed, engaged
    (first contact or booked), with_first_contact and the median days to first contact."""
    d = await _dialect(session)
    days = d.days_between("r.authored_on", "t.first_contact_at")
    joins = _joins(dimensions)
    declined = f"t.status = 'cancelled' AND {d.text_of('t.status_reason')} LIKE :declined"
    accepted = ", ".join(f"'{s}'" for s in ACCEPTED_STATUSES)
    source = (
        "FROM referral r LEFT JOIN task t ON t.referral_id = r.id "
        "LEFT JOIN (SELECT referral_id, "
        "MAX(CASE WHEN status <> 'cancelled' THEN 1 ELSE 0 END) AS booked, "
        "MAX(CASE WHEN status = 'attended' THEN 1 ELSE 0 END) AS attended "
        "FROM booking GROUP BY referral_id) bk ON bk.referral_id = r.id "
        f"{joins} WHERE r.authored_on >= :start AND r.authored_on < :end"
    )
    params = _window_params(window) | {"declined": f"%{DECLINED[1]}%"}

    def counts(group: str, select: str) -> str:
        median = (
            f", percentile_cont(0.5) WITHIN GROUP (ORDER BY {days}) AS median_days"
            if d.postgres
            else ""
        )
        return (
            f"SELECT {select}, COUNT(*) AS received, "
            f"SUM(CASE WHEN t.status IN ({accepted}) THEN 1 ELSE 0 END) AS accepted, "
            "SUM(CASE WHEN t.status = 'rejected' THEN 1 ELSE 0 END) AS rejected, "
            f"SUM(CASE WHEN {declined} THEN 1 ELSE 0 END) AS declined, "
            "SUM(COALESCE(bk.booked, 0)) AS booked, "
            "SUM(COALESCE(bk.attended, 0)) AS attended, "
            "SUM(CASE WHEN t.status = 'completed' THEN 1 ELSE 0 END) AS completed, "
            "SUM(CASE WHEN t.first_contact_at IS NOT NULL OR bk.booked = 1 THEN 1 ELSE 0 END)"
            " AS engaged, "
            "SUM(CASE WHEN t.first_contact_at IS NOT NULL THEN 1 ELSE 0 END) AS with_first_contact"
            f"{median} {source} {group}"
        )

    rows = await _run(session, d, dimensions, counts, params)
    if d.postgres:
        return rows
    # SQLite: the median of each group, in SQL, from the middle one or two ordered values
    n = len(dimensions)
    medians: dict[tuple[Any, ...], float] = {}

    def median(group: str, select: str) -> str:
        part = group.replace("GROUP BY ", "PARTITION BY ") if group else ""
        keys = ", ".join(f"g{i}" for i in range(n)) or "g_"
        return (
            f"SELECT {keys}, AVG(days) AS median_days FROM ("
            f"SELECT {select}, {days} AS days, "
            f"ROW_NUMBER() OVER ({part} ORDER BY {days}) AS k, "
            f"COUNT(*) OVER ({part}) AS c {source} AND t.first_contact_at IS NOT NULL"
            f") ordered WHERE k IN ((c + 1) / 2, (c + 2) / 2) GROUP BY {keys}"
        )

    for row in await _run(session, d, dimensions, median, params):
        medians[tuple(row[f"g{i}"] for i in range(n))] = row["median_days"]
    for row in rows:
        row["median_days"] = medians.get(tuple(row[f"g{i}"] for i in range(n)))
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
        wanted.append(f"(s.instrument = :i{k} AND s.measure = :m{k})")
        if m.threshold is not None:
            params[f"t{k}"] = m.threshold
            improved.append(
                f"WHEN pr.instrument = :i{k} AND pr.measure = :m{k} THEN "
                f"CASE WHEN {m.direction} * (pr.after - pr.before) >= :t{k} THEN 1 ELSE 0 END"
            )
    improved_sql = f"CASE {' '.join(improved)} ELSE NULL END" if improved else "NULL"
    later = ", ".join(f"'{t}'" for t in LATER_TIMEPOINTS)
    scope = (
        "FROM outcome_score s JOIN referral r ON r.id = s.referral_id "
        f"WHERE ({' OR '.join(wanted)}) AND r.authored_on >= :start AND r.authored_on < :end"
    )
    if d.postgres:
        # one pass: per referral and measure, the earliest baseline and the latest follow-up
        # (ordered aggregates); the latest follow-up is at or after the earliest baseline
        # exactly when some follow-up is
        pairs = (
            "WITH pr AS (SELECT s.referral_id, s.instrument, s.measure, "
            "(array_agg(s.value ORDER BY s.collected_at, s.id) "
            "FILTER (WHERE s.timepoint = 'baseline'))[1] AS before, "
            "(array_agg(s.value ORDER BY s.collected_at DESC, s.id DESC) "
            f"FILTER (WHERE s.timepoint IN ({later})))[1] AS after {scope} "
            "AND s.value IS NOT NULL GROUP BY s.referral_id, s.instrument, s.measure "
            "HAVING MAX(s.collected_at) FILTER (WHERE s.timepoint IN "
            f"({later})) >= MIN(s.collected_at) FILTER (WHERE s.timepoint = 'baseline')) "
        )
    else:
        # SQLite (no FILTER on ordered aggregates): number the rows of each referral and
        # measure, baselines oldest first and follow-ups newest first
        pairs = (
            "WITH o AS (SELECT s.referral_id, s.instrument, s.measure, s.value, s.timepoint, "
            "s.collected_at, ROW_NUMBER() OVER (PARTITION BY s.referral_id, s.instrument, "
            "s.measure, s.timepoint = 'baseline' ORDER BY CASE WHEN s.timepoint = 'baseline' "
            "THEN julianday(s.collected_at) ELSE -julianday(s.collected_at) END, "
            "CASE WHEN s.timepoint = 'baseline' THEN s.id END, s.id DESC) AS k "
            f"{scope} AND s.value IS NOT NULL AND s.timepoint IN ('baseline', {later})), "
            "pr AS (SELECT b.referral_id, b.instrument, b.measure, b.value AS before, "
            "f.value AS after FROM o b JOIN o f ON f.referral_id = b.referral_id "
            "AND f.instrument = b.instrument AND f.measure = b.measure "
            "AND f.timepoint <> 'baseline' AND f.k = 1 "
            "WHERE b.timepoint = 'baseline' AND b.k = 1 AND f.collected_at >= b.collected_at) "
        )

    def build(group: str, select: str) -> str:
        return (
            f"{pairs}SELECT {select}, pr.instrument, pr.measure, COUNT(*) AS n, "
            "AVG(pr.before) AS mean_baseline, AVG(pr.after) AS mean_follow_up, "
            "AVG(pr.after - pr.before) AS mean_change, "
            "SUM((pr.after - pr.before) * (pr.after - pr.before)) AS sum_squares, "
            f"SUM({improved_sql}) AS improved "
            f"FROM pr JOIN referral r ON r.id = pr.referral_id {joins} {group}"
        )

    return await _run(session, d, dimensions, build, params, ("pr.instrument", "pr.measure"))
