"""Every SQL query of matching: the indexed candidate prefilter and the candidates' details.

The prefilter never reads the whole directory. Its geography is the bounding box of the person's
travel distance on the ``(latitude, longitude)`` index of ``location``, plus the activities
attended remotely (online, phone, hybrid). Inside that set, rules 1-3 of DESIGN 7 (active and
accepting, eligibility, places) are plain column tests, so the database applies them and counts
what they exclude; only the survivors are loaded for the engine (the schedule part of rule 1
is left to the engine for the activities that pass rules 2-3: see `_Rules.first_broken`).
Costs and figures: docs/performance.md, "Matching".
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, and_, any_, bindparam, case, func, not_, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.directory.models import (
    Activity,
    ActivityCategoryLink,
    ActivityLanguage,
    ActivityNeed,
    CostOption,
    Location,
    Organisation,
    Schedule,
    ServiceArea,
)
from app.matching import engine

REMOTE_TYPES = ("online", "phone", "hybrid")
KM_PER_DEGREE = 111.32
_DAYS = {"MO": "mon", "TU": "tue", "WE": "wed", "TH": "thu", "FR": "fri", "SA": "sat", "SU": "sun"}


@dataclass(frozen=True)
class Prefilter:
    """The person-level facts the database can test."""

    location: tuple[float, float] | None
    max_travel_km: float
    age: int
    gender: str | None
    today: dt.date
    include_full: bool


def _geography(p: Prefilter) -> ColumnElement[bool]:
    remote = Activity.attending_type.in_(REMOTE_TYPES)
    if p.location is None:
        return remote
    lat, lon = p.location
    dlat = p.max_travel_km / KM_PER_DEGREE
    dlon = p.max_travel_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    in_box = Activity.id.in_(
        select(Location.activity_id).where(
            Location.latitude.between(lat - dlat, lat + dlat),
            Location.longitude.between(lon - dlon, lon + dlon),
        )
    )
    return or_(remote, in_box)


def _scheduled(today: dt.date) -> ColumnElement[bool]:
    """No schedule, or one valid today: one index probe per activity (``max`` of no rows is
    NULL), where ``NOT EXISTS (...) OR EXISTS (...)`` takes two."""
    valid = and_(
        or_(Schedule.valid_from.is_(None), Schedule.valid_from <= today),
        or_(Schedule.valid_to.is_(None), Schedule.valid_to >= today),
    )
    best = (
        select(func.max(case((valid, 1), else_=0)))
        .where(Schedule.activity_id == Activity.id)
        .scalar_subquery()
    )
    return func.coalesce(best, 1) == 1


@dataclass(frozen=True)
class _Rules:
    """Rules 1-3 as SQL conditions, none of them ever NULL. Rule 1 is ``listed and
    scheduled``; ``places`` is None with ``include_full``."""

    listed: ColumnElement[bool]
    scheduled: ColumnElement[bool]
    eligible: ColumnElement[bool]
    places: ColumnElement[bool] | None

    def first_broken(self) -> ColumnElement[int]:
        """1, 2 or 3 for an activity the prefilter excludes, 0 for one it loads.

        The schedule test (an index probe) runs only for the activities that break rule 2 or
        3, where it decides between rule 1 and the later rule: the activities it loads may
        still have no schedule valid today, and the engine counts those under rule 1, as the
        first rule they break.
        """
        passes = self.eligible if self.places is None else and_(self.eligible, self.places)
        return case(
            (not_(self.listed), int(engine.Rule.ACTIVE)),
            (passes, 0),
            (not_(self.scheduled), int(engine.Rule.ACTIVE)),
            (not_(self.eligible), int(engine.Rule.ELIGIBILITY)),
            else_=int(engine.Rule.CAPACITY),
        )

    def loaded(self) -> list[ColumnElement[bool]]:
        return [self.listed, self.eligible, *([] if self.places is None else [self.places])]


def _rules(p: Prefilter) -> _Rules:
    listed = and_(Activity.status == "active", Activity.accepting_referrals.is_(True))
    gender_ok: ColumnElement[bool] = Activity.eligibility_gender.is_(None)
    if p.gender:
        gender_ok = or_(gender_ok, func.lower(Activity.eligibility_gender) == p.gender.lower())
    eligible = and_(
        or_(Activity.minimum_age.is_(None), Activity.minimum_age <= p.age),
        or_(Activity.maximum_age.is_(None), Activity.maximum_age >= p.age),
        gender_ok,
    )
    places = or_(Activity.capacity_available.is_(None), Activity.capacity_available > 0)
    return _Rules(listed, _scheduled(p.today), eligible, None if p.include_full else places)


@dataclass(frozen=True)
class Screened:
    excluded: dict[engine.Rule, int]
    activities: list[engine.Activity]


_BASE = (
    Activity.id,
    Activity.name,
    Activity.status,
    Activity.accepting_referrals,
    Activity.attending_type,
    Activity.minimum_age,
    Activity.maximum_age,
    Activity.eligibility_gender,
    Activity.capacity_available,
    Activity.capacity_maximum,
)


async def _plan_for_values(session: AsyncSession) -> None:
    """PostgreSQL: plans for the actual values and no JIT, for this transaction only.

    asyncpg prepares statements, and after five executions PostgreSQL may switch to a generic
    plan that guesses one row from ``BETWEEN $1 AND $2`` (see app/directory/repository.py). The
    prefilter's estimated cost at 100 000 activities is above ``jit_above_cost``, and compiling
    it took 300-400 ms per query, more than running it (measured, docs/performance.md).
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(
                func.set_config("plan_cache_mode", "force_custom_plan", True),
                func.set_config("jit", "off", True),
            )
        )


async def candidates(session: AsyncSession, p: Prefilter) -> Screened:
    await _plan_for_values(session)
    geography = _geography(p)
    rules = _rules(p)
    in_person = case((Activity.attending_type == "in-person", 1), else_=0)
    screened = (
        select(rules.first_broken().label("rule"), in_person.label("in_person"))
        .where(geography)
        .subquery()
    )
    counts = await session.execute(
        select(screened.c.rule, screened.c.in_person, func.count()).group_by(
            screened.c.rule, screened.c.in_person
        )
    )
    excluded = dict.fromkeys((engine.Rule.ACTIVE, engine.Rule.ELIGIBILITY, engine.Rule.CAPACITY), 0)
    in_person_inside = 0
    for rule, located, n in counts:
        if rule:
            excluded[engine.Rule(rule)] += n
        if located:
            in_person_inside += n
    in_person_total = await session.scalar(
        select(func.count()).select_from(Activity).where(Activity.attending_type == "in-person")
    )
    excluded[engine.Rule.TRAVEL_DISTANCE] = (in_person_total or 0) - in_person_inside
    base = await session.execute(select(*_BASE).where(geography, *rules.loaded()))
    return Screened(excluded, await _load(session, list(base)))


def _among(session: AsyncSession, column: Any, ids: list[str]) -> ColumnElement[bool]:
    """``column IN ids`` with one bound parameter however many ids (an expanding ``IN`` binds
    one parameter per id, beyond the drivers' limits at tens of thousands): ``= ANY($1)`` with
    an array on PostgreSQL, SQLite's ``json_each`` over a JSON list elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=postgresql.ARRAY(String)))  # type: ignore[no-any-return]
    return column.in_(select(func.json_each(json.dumps(ids)).table_valued("value").c.value))  # type: ignore[no-any-return]


async def _grouped(
    session: AsyncSession, columns: Iterable[Any], ids: list[str]
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of a child table for the given activities, by activity id (first column)."""
    by_activity: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    cols = list(columns)
    for row in await session.execute(select(*cols).where(_among(session, cols[0], ids))):
        by_activity[row[0]].append(tuple(row[1:]))
    return by_activity


async def _code_sets(
    session: AsyncSession, activity_id: Any, code: Any, ids: list[str], *, skip_empty: bool
) -> dict[str, frozenset[str]]:
    """The codes of a child table as a set per activity; equal sets are one shared object."""
    codes: dict[str, list[str]] = defaultdict(list)
    for aid, value in await session.execute(
        select(activity_id, code).where(_among(session, activity_id, ids))
    ):
        if value or not skip_empty:
            codes[aid].append(value)
    shared: dict[tuple[str, ...], frozenset[str]] = {}
    found = {}
    for aid, values in codes.items():
        key = tuple(values)
        if (value_set := shared.get(key)) is None:
            value_set = shared[key] = frozenset(values)
        found[aid] = value_set
    return found


_ACCESS_CODES = ("wheelchair", "step-free", "hearing-loop", "large-print", "bsl", "quiet-space")


@functools.cache
def _accessibility(flags: tuple[bool | None, ...]) -> frozenset[str]:
    return frozenset(code for code, flag in zip(_ACCESS_CODES, flags, strict=True) if flag)


@functools.lru_cache(maxsize=4096)
def _schedule(row: tuple[Any, ...]) -> engine.Schedule:
    byday, freq, valid_from, valid_to, opens_at, closes_at = row
    return engine.Schedule(
        byday=_days(byday),
        freq=freq,
        valid_from=valid_from,
        valid_to=valid_to,
        opens_at=_time(opens_at),
        closes_at=_time(closes_at),
    )


@functools.lru_cache(maxsize=1024)
def _cost_option(free: bool | None, amount: Any) -> engine.CostOption:
    return engine.CostOption(free=bool(free), amount=float(amount) if amount is not None else None)


async def _load(session: AsyncSession, activities: list[Any]) -> list[engine.Activity]:
    """The engine's view of the activities whose base rows are given: one query per child
    table, keyed by the ids already known. The engine's values are immutable, so equal ones
    (code sets, schedules, cost options) are built once and shared."""
    if not activities:
        return []
    ids = [a.id for a in activities]
    locations = await _grouped(
        session,
        (
            Location.activity_id,
            Location.latitude,
            Location.longitude,
            Location.access_wheelchair,
            Location.access_step_free,
            Location.access_hearing_loop,
            Location.access_large_print,
            Location.access_bsl,
            Location.access_quiet_space,
        ),
        ids,
    )
    categories = await _code_sets(
        session, ActivityCategoryLink.activity_id, ActivityCategoryLink.code, ids, skip_empty=True
    )
    needs = await _code_sets(
        session, ActivityNeed.activity_id, ActivityNeed.code, ids, skip_empty=False
    )
    languages = await _code_sets(
        session, ActivityLanguage.activity_id, ActivityLanguage.code, ids, skip_empty=False
    )
    areas = await _code_sets(
        session, ServiceArea.activity_id, ServiceArea.code, ids, skip_empty=True
    )
    schedules = await _grouped(
        session,
        (
            Schedule.activity_id,
            Schedule.byday,
            Schedule.freq,
            Schedule.valid_from,
            Schedule.valid_to,
            Schedule.opens_at,
            Schedule.closes_at,
        ),
        ids,
    )
    costs = await _grouped(
        session, (CostOption.activity_id, CostOption.free, CostOption.amount), ids
    )
    none: frozenset[str] = frozenset()
    return [
        engine.Activity(
            id=a.id,
            name=a.name,
            status=a.status,
            accepting_referrals=a.accepting_referrals,
            attending_type=a.attending_type,
            minimum_age=a.minimum_age,
            maximum_age=a.maximum_age,
            eligibility_gender=a.eligibility_gender,
            capacity_available=a.capacity_available,
            capacity_maximum=a.capacity_maximum,
            categories=categories.get(a.id, none),
            target_needs=needs.get(a.id, none),
            locations=tuple(
                engine.Location(
                    latitude=row[0], longitude=row[1], accessibility=_accessibility(row[2:])
                )
                for row in locations.get(a.id, ())
            ),
            service_areas=areas.get(a.id, none),
            schedules=tuple(_schedule(row) for row in schedules.get(a.id, ())),
            cost_options=tuple(_cost_option(*row) for row in costs.get(a.id, ())),
            languages=languages.get(a.id, none),
        )
        for a in activities
    ]


def _days(byday: str | None) -> frozenset[str]:
    """RFC 5545 BYDAY ("TU,TH", "2MO", "-1FR") as mon..sun."""
    if not byday:
        return frozenset()
    return frozenset(
        _DAYS[part.strip()[-2:].upper()]
        for part in byday.split(",")
        if part.strip()[-2:].upper() in _DAYS
    )


def _time(raw: str | None) -> dt.time | None:
    if not raw:
        return None
    try:
        return dt.time.fromisoformat(raw)
    except ValueError:
        return None


@dataclass(frozen=True)
class ActivityCard:
    id: str
    name: str
    organisation: str | None
    attending_type: str
    categories: list[str]


async def cards(session: AsyncSession, ids: list[str]) -> dict[str, ActivityCard]:
    """Display details of the returned activities only."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Activity.id, Activity.name, Organisation.name, Activity.attending_type)
        .outerjoin(Organisation, Organisation.id == Activity.organisation_id)
        .where(Activity.id.in_(ids))
    )
    categories = await _code_sets(
        session, ActivityCategoryLink.activity_id, ActivityCategoryLink.code, ids, skip_empty=True
    )
    return {
        r[0]: ActivityCard(r[0], r[1], r[2], r[3], sorted(categories.get(r[0], ()))) for r in rows
    }
