"""Commissioner reports (DESIGN.md section 10): aggregates from the database, then disclosure.

The repository returns one row per group (and per margin) with the true counts and sums; this
module turns them into published figures with ``app.reporting.disclosure``: every count table
(one per figure, over the whole grouping, margins included) goes through ``protect_one_way`` /
``protect_two_way``; every median, mean, change, interval and share through
``publish_statistic`` / ``publish_change_summary`` / ``publish_share``. Definitions:
docs/reports.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.context import Context
from app.config import Settings
from app.errors import BadRequest, Issue
from app.matching import unsuitable
from app.outcomes import instruments
from app.reporting import completion, disclosure, measures
from app.reporting import repository as repo
from app.reporting.disclosure import DisclosureRules, PublishedCount, PublishedStatistic

MAX_DIMENSIONS = 2
GAP = "gap_1_minus_5"  # the equity view's row: quintile 1 (most deprived) minus quintile 5
WELLBEING = ("SWEMWBS", "metric")  # the equity view's wellbeing measure


def score_measures() -> list[repo.ScoreMeasure]:
    """The score each instrument's change is measured on (``Instrument.change_measures``: the
    SWEMWBS metric score, the WEMWBS total, the UCLA3 total, each ONS4 item) with its reliable
    change threshold where the instrument has one (SWEMWBS 3, WEMWBS 9)."""
    found = []
    for code, spec in instruments.INSTRUMENTS.items():
        for key in spec.change_measures:
            lower = code == "UCLA3" or (
                code == "ONS4" and spec.item(key).direction is instruments.Direction.LOWER_IS_BETTER
            )
            found.append(repo.ScoreMeasure(code, key, -1 if lower else 1, spec.reliable_change))
    return found


def disclosure_rules(settings: Settings) -> DisclosureRules:
    """The disclosure rules in force (``ASSETLINK_DISCLOSURE_*``), for every figure shown."""
    return DisclosureRules(
        suppress_below=settings.disclosure_suppress_below,
        round_to=settings.disclosure_round_to,
        min_n_for_statistics=settings.disclosure_min_n,
    )


# Parameters -----------------------------------------------------------------------------------


def parse_group_by(raw: Sequence[str]) -> list[str]:
    """``group_by=month&group_by=sex`` or ``group_by=month,sex``: one or two known dimensions."""
    names = [part.strip() for value in raw for part in value.split(",") if part.strip()]
    unknown = [n for n in names if n not in repo.DIMENSIONS]
    if unknown:
        raise BadRequest(
            f"Unknown group_by {', '.join(map(repr, unknown))}; one or two of "
            + ", ".join(repo.DIMENSIONS),
            [Issue("not a reporting dimension", "group_by", "value")],
        )
    if len(set(names)) != len(names):
        raise BadRequest(
            "A group_by dimension is repeated", [Issue("repeated dimension", "group_by", "value")]
        )
    if len(names) > MAX_DIMENSIONS:
        raise BadRequest(
            f"At most {MAX_DIMENSIONS} group_by dimensions",
            [Issue("too many dimensions", "group_by", "value")],
        )
    return names


REPORT_DATES = (dt.date(1000, 1, 1), dt.date(9998, 12, 31))
"""The days a report's ``from`` and ``to`` may name: near the ends of Python's dates, the default
window or the day after ``to`` would overflow (a 400 here, not a 500)."""


def window(start: dt.date | None, end: dt.date | None, today: dt.date) -> repo.Window:
    """``from``/``to`` inclusive dates; by default the twelve calendar months up to ``to``
    (today): from the first day of the month eleven months before."""
    first, last = REPORT_DATES
    for name, day in (("from", start), ("to", end)):
        if day is not None and not first <= day <= last:
            raise BadRequest(
                f"`{name}` must be between {first} and {last}",
                [Issue("outside the dates a report covers", name, "value")],
            )
    end = end or today
    if start is None:
        month = end.year * 12 + end.month - 1 - 11
        start = dt.date(month // 12, month % 12 + 1, 1)
    if start > end:
        raise BadRequest("`from` is after `to`", [Issue("must not be after `to`", "from", "value")])

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), dt.UTC)

    return repo.Window(midnight(start), midnight(end + dt.timedelta(days=1)))


# Published rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    value: float | int | None
    suppressed: bool


@dataclass
class Row:
    group: dict[str, str]
    figures: dict[str, Figure] = field(default_factory=dict)
    instrument: str | None = None
    measure: str | None = None


@dataclass(frozen=True)
class Report:
    name: str
    start: dt.date
    end: dt.date
    group_by: list[str]
    rules: DisclosureRules
    rows: list[Row]


def _figure(published: PublishedCount | PublishedStatistic) -> Figure:
    return Figure(published.value, published.suppressed)


Key = tuple[str, ...]


def _key(row: Mapping[str, Any], n: int) -> Key:
    return tuple(str(row[f"g{i}"]) for i in range(n))


def _sort_key(key: Key) -> tuple[Any, ...]:
    def one(label: str) -> tuple[int, int, str]:
        rank = 3 if label == repo.ALL else 2 if label in (repo.UNKNOWN, repo.NONE) else 1
        return (rank, int(label) if label.isdigit() else 0, label)

    return tuple(one(label) for label in key)


def protect_counts(
    counts: Mapping[Key, int], n: int, rules: DisclosureRules
) -> dict[Key, PublishedCount]:
    """One count per finest group -> every cell and margin of the table, protected."""
    if n == 0:
        return {(): disclosure.publish_count(counts.get((), 0), rules)}
    if n == 1:
        ordered = sorted(counts, key=_sort_key)  # a fixed order: ties are broken by position
        one = disclosure.protect_one_way({k[0]: counts[k] for k in ordered}, rules)
        single: dict[Key, PublishedCount] = {(k,): v for k, v in one.cells.items()}
        return single | {(repo.ALL,): one.total}
    rows = sorted({k[0] for k in counts}, key=lambda x: _sort_key((x,)))
    columns = sorted({k[1] for k in counts}, key=lambda x: _sort_key((x,)))
    two = disclosure.protect_two_way(
        {(a, b): v for (a, b), v in counts.items()}, rules, rows=rows, columns=columns
    )
    out: dict[Key, PublishedCount] = {}
    for pair, value in two.cells.items():
        out[pair] = value
    out |= {(r, repo.ALL): v for r, v in two.row_totals.items()}
    out |= {(repo.ALL, c): v for c, v in two.column_totals.items()}
    out[(repo.ALL, repo.ALL)] = two.total
    return out


def _finest(rows: Sequence[Mapping[str, Any]], n: int) -> list[Mapping[str, Any]]:
    return [r for r in rows if n == 0 or repo.ALL not in _key(r, n)]


def _dims_with_rows(rows: Sequence[Mapping[str, Any]], n: int) -> list[Key]:
    return sorted({_key(r, n) for r in rows}, key=_sort_key)


# Referrals ------------------------------------------------------------------------------------


def publish_referrals(
    rows: Sequence[Mapping[str, Any]], dimensions: Sequence[str], rules: DisclosureRules
) -> list[Row]:
    n = len(dimensions)
    finest = _finest(rows, n)
    by_key = {_key(r, n): r for r in rows}
    column = {measures.FIRST_CONTACT: measures.WITH_FIRST_CONTACT}
    tables = {
        name: protect_counts(
            {_key(r, n): int(r[column.get(name, name)] or 0) for r in finest}, n, rules
        )
        for name in measures.REFERRAL_REPORT
    }
    published = []
    for key in sorted(tables["received"], key=_sort_key):
        source = by_key.get(key)
        row = Row(dict(zip(dimensions, key, strict=True)))
        for name in measures.REFERRAL_REPORT:
            row.figures[name] = _figure(tables[name][key])
        contacts = int(source[measures.WITH_FIRST_CONTACT] or 0) if source else 0
        median = (
            float(source["median_days"]) if source and source["median_days"] is not None else None
        )
        row.figures["median_days_to_first_contact"] = _figure(
            disclosure.publish_statistic(median, contacts, rules)
        )
        published.append(row)
    return published


# Outcomes -------------------------------------------------------------------------------------

OUTCOME_STATISTICS = (
    "mean_baseline",
    "mean_follow_up",
    "mean_change",
    "ci_lower",
    "ci_upper",
    "share_reliable_improvement",
)


def _variance(row: Mapping[str, Any]) -> float | None:
    n = int(row["n"])
    if n < 2:
        return None
    mean = float(row["mean_change"])
    return max((float(row["sum_squares"]) - n * mean * mean) / (n - 1), 0.0)


def publish_outcomes(
    rows: Sequence[Mapping[str, Any]],
    dimensions: Sequence[str],
    measures: Sequence[repo.ScoreMeasure],
    rules: DisclosureRules,
) -> list[Row]:
    n = len(dimensions)
    published = []
    for m in measures:
        mine = [r for r in rows if (r["instrument"], r["measure"]) == (m.instrument, m.measure)]
        if not mine:
            continue
        people = protect_counts({_key(r, n): int(r["n"]) for r in _finest(mine, n)}, n, rules)
        by_key = {_key(r, n): r for r in mine}
        for key in sorted(people, key=_sort_key):
            source = by_key.get(key)  # none: an empty cell of a two-way table
            count = int(source["n"]) if source else 0
            change = disclosure.publish_change_summary(
                count,
                _float(source["mean_baseline"]) if source else None,
                _float(source["mean_follow_up"]) if source else None,
                _float(source["mean_change"]) if source else None,
                _variance(source) if source else None,
                None if m.threshold is None else int(source["improved"] or 0) if source else 0,
                rules,
            )
            row = Row(
                dict(zip(dimensions, key, strict=True)), instrument=m.instrument, measure=m.measure
            )
            row.figures["people"] = _figure(people[key])
            for name in OUTCOME_STATISTICS:
                row.figures[name] = _figure(getattr(change, name))
            published.append(row)
    return published


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


# Equity ---------------------------------------------------------------------------------------


def _rate(
    numerator: int,
    denominator: int,
    shown: PublishedCount,
    base: PublishedCount,
    rules: DisclosureRules,
) -> Figure:
    """A rate (%) only when its numerator and denominator are both published counts."""
    if denominator == 0:
        return Figure(None, False)
    if shown.suppressed or base.suppressed:
        return Figure(None, True)
    return _figure(disclosure.publish_share(numerator, denominator, rules))


def _gap(a: Figure | None, b: Figure | None) -> Figure:
    if a is None or b is None or a.value is None or b.value is None:
        suppressed = any(f is not None and f.suppressed for f in (a, b))
        return Figure(None, suppressed)
    return Figure(round(float(a.value) - float(b.value), 2), False)


def publish_equity(
    counts: Sequence[Mapping[str, Any]],
    changes: Sequence[Mapping[str, Any]],
    dimensions: Sequence[str],
    rules: DisclosureRules,
) -> list[Row]:
    """Rows per IMD quintile (first dimension) and, by the other dimension if any, with a
    ``gap_1_minus_5`` row: quintile 1 minus quintile 5 of every rate and of the mean change."""
    n = len(dimensions)
    finest = _finest(counts, n)
    tables = {
        name: protect_counts({_key(r, n): int(r[name] or 0) for r in finest}, n, rules)
        for name in measures.EQUITY_REPORT
    }
    true: dict[str, dict[Key, int]] = {
        name: _true_with_margins({_key(r, n): int(r[name] or 0) for r in finest}, n)
        for name in measures.EQUITY_REPORT
    }
    wellbeing = {_key(r, n): r for r in changes if (r["instrument"], r["measure"]) == WELLBEING}
    people = protect_counts(
        {k: int(r["n"]) for k, r in wellbeing.items() if n == 0 or repo.ALL not in k}, n, rules
    )
    rows: list[Row] = []
    for key in sorted(tables["received"], key=_sort_key):
        row = Row(dict(zip(dimensions, key, strict=True)))
        received = true["received"].get(key, 0)
        column = (repo.ALL, *key[1:])  # every quintile of the same other group
        row.figures["referrals"] = _figure(tables["received"][key])
        row.figures["referral_share"] = _rate(
            received,
            true["received"].get(column, 0),
            tables["received"][key],
            tables["received"][column],
            rules,
        )
        for name, rate in (("engaged", "engagement_rate"), ("completed", "completion_rate")):
            row.figures[name] = _figure(tables[name][key])
            row.figures[rate] = _rate(
                true[name].get(key, 0), received, tables[name][key], tables["received"][key], rules
            )
        source = wellbeing.get(key)
        row.figures["wellbeing_people"] = _figure(people.get(key, PublishedCount(0, False)))
        if source is None:
            row.figures["mean_wellbeing_change"] = Figure(None, False)
            row.figures["wellbeing_ci_lower"] = Figure(None, False)
            row.figures["wellbeing_ci_upper"] = Figure(None, False)
        else:
            change = disclosure.publish_change_summary(
                int(source["n"]),
                _float(source["mean_baseline"]),
                _float(source["mean_follow_up"]),
                _float(source["mean_change"]),
                _variance(source),
                None,
                rules,
            )
            row.figures["mean_wellbeing_change"] = _figure(change.mean_change)
            row.figures["wellbeing_ci_lower"] = _figure(change.ci_lower)
            row.figures["wellbeing_ci_upper"] = _figure(change.ci_upper)
        rows.append(row)
    # the gaps, per group of the other dimension
    others = sorted(
        {r.group.get(dimensions[1], "") for r in rows} if n == 2 else {""},
        key=lambda x: _sort_key((x,)),
    )
    # the rows of quintiles 1 and 5 by the other group (the first one found, as before)
    ends: dict[tuple[str, str], Row] = {}
    for r in rows:
        if r.group["imd_quintile"] in ("1", "5"):
            other = r.group[dimensions[1]] if n == 2 else ""
            ends.setdefault((r.group["imd_quintile"], other), r)
    for other in others:
        most, least = ends.get(("1", other)), ends.get(("5", other))
        group = {"imd_quintile": GAP} | ({dimensions[1]: other} if n == 2 else {})
        gap = Row(group)
        for name in (
            "referral_share",
            "engagement_rate",
            "completion_rate",
            "mean_wellbeing_change",
        ):
            gap.figures[name] = _gap(
                most.figures.get(name) if most else None, least.figures.get(name) if least else None
            )
        rows.append(gap)
    return rows


def _true_with_margins(counts: Mapping[Key, int], n: int) -> dict[Key, int]:
    out = dict(counts)
    if n == 0:
        return out
    for key, value in counts.items():
        for rolled in _rollups(key):
            if rolled != key:
                out[rolled] = out.get(rolled, 0) + value
    return out


def _rollups(key: Key) -> list[Key]:
    if len(key) == 1:
        return [key, (repo.ALL,)]
    a, b = key
    return [key, (a, repo.ALL), (repo.ALL, b), (repo.ALL, repo.ALL)]


# Use cases ------------------------------------------------------------------------------------


def _report(
    name: str, w: repo.Window, dimensions: list[str], rules: DisclosureRules, rows: list[Row]
) -> Report:
    return Report(
        name, w.start.date(), (w.end - dt.timedelta(days=1)).date(), dimensions, rules, rows
    )


async def referrals_report(
    session: AsyncSession, w: repo.Window, dimensions: list[str], rules: DisclosureRules
) -> Report:
    rows = await repo.referral_counts(session, dimensions, w)
    return _report("referrals", w, dimensions, rules, publish_referrals(rows, dimensions, rules))


async def outcomes_report(
    session: AsyncSession, w: repo.Window, dimensions: list[str], rules: DisclosureRules
) -> Report:
    measures = score_measures()
    rows = await repo.paired_scores(session, dimensions, w, measures)
    return _report(
        "outcomes", w, dimensions, rules, publish_outcomes(rows, dimensions, measures, rules)
    )


def publish_paired_completion(
    found: Mapping[str, tuple[int, int]], rules: DisclosureRules
) -> list[Row]:
    """Per route and for all: people with a baseline and, of them, paired (protected counts),
    and the share paired (app/reporting/completion.py)."""
    people = protect_counts({(r,): found[r][0] for r in completion.ROUTES}, 1, rules)
    paired = protect_counts({(r,): found[r][1] for r in completion.ROUTES}, 1, rules)
    total = (sum(n for n, _ in found.values()), sum(k for _, k in found.values()))
    rows = []
    for route in (*completion.ROUTES, repo.ALL):
        n, k = total if route == repo.ALL else found[route]
        figures = {
            "with_baseline": _figure(people[(route,)]),
            "paired": _figure(paired[(route,)]),
            "share_paired": _figure(disclosure.publish_share(k, n, rules)),
        }
        rows.append(Row({"route": route}, figures))
    return rows


async def paired_completion_report(
    session: AsyncSession, w: repo.Window, dimensions: list[str], rules: DisclosureRules
) -> Report:
    """Of the people with a baseline, the share with a follow-up too, by route (by a link or
    by the link worker); ``dimensions`` is always ``route``."""
    found = await completion.counts(session, w)
    return _report(
        "paired-completion", w, ["route"], rules, publish_paired_completion(found, rules)
    )


def equity_dimensions(dimensions: Sequence[str]) -> list[str]:
    """IMD quintile first, then at most one other dimension."""
    other = [d for d in dimensions if d != "imd_quintile"]
    if len(other) > 1:
        raise BadRequest(
            "The equity view is by IMD quintile and at most one other group_by",
            [Issue("at most one dimension besides imd_quintile", "group_by", "value")],
        )
    return ["imd_quintile", *other]


async def equity_report(
    session: AsyncSession, w: repo.Window, dimensions: list[str], rules: DisclosureRules
) -> Report:
    dims = equity_dimensions(dimensions)
    counts = await repo.referral_counts(session, dims, w, medians=False)
    wellbeing = [m for m in score_measures() if (m.instrument, m.measure) == WELLBEING]
    changes = await repo.paired_scores(session, dims, w, wellbeing)
    return _report("equity", w, dims, rules, publish_equity(counts, changes, dims, rules))


# Not suitable ---------------------------------------------------------------------------------

UNSUITABLE_DIMENSIONS = ["activity", "reason"]


def publish_unsuitable(counts: Mapping[tuple[str, str], int], rules: DisclosureRules) -> list[Row]:
    """Marks per (activity, reason) -> rows per activity and reason, with each activity's and
    each reason's total and the overall total (``all``): one two-way count table, protected."""
    keyed: dict[Key, int] = {(activity, reason): n for (activity, reason), n in counts.items()}
    table = protect_counts(keyed, len(UNSUITABLE_DIMENSIONS), rules)
    return [
        Row(dict(zip(UNSUITABLE_DIMENSIONS, key, strict=True)), {"marks": _figure(table[key])})
        for key in sorted(table, key=_sort_key)
    ]


async def unsuitable_report(
    session: AsyncSession, ctx: Context, w: repo.Window, rules: DisclosureRules
) -> Report:
    """Matches marked not suitable in the window, per activity and reason: a provider's own
    activities, every activity for a commissioner. No person, no note."""
    counts = await unsuitable.counts(session, ctx, w.start, w.end)
    return _report("unsuitable", w, UNSUITABLE_DIMENSIONS, rules, publish_unsuitable(counts, rules))
