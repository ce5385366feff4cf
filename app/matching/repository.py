"""Every SQL query of matching: the indexed candidate prefilter and the candidates' details.

The prefilter never reads the whole directory. Its geography is the bounding box of the person's
travel distance on the ``(latitude, longitude)`` index of ``location``, plus the activities
attended remotely (online, phone, hybrid). Inside that set, rules 1-3 of DESIGN 7 (active and
accepting, eligibility, places) are plain column tests, so the database applies them and counts
what they exclude; only the survivors are loaded for the engine.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, not_, or_, select, true
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


def _rules(p: Prefilter) -> tuple[ColumnElement[bool], ColumnElement[bool], ColumnElement[bool]]:
    """Rules 1, 2 and 3 as SQL conditions (each also true for NULL-free rows only)."""
    valid_today = exists().where(
        Schedule.activity_id == Activity.id,
        or_(Schedule.valid_from.is_(None), Schedule.valid_from <= p.today),
        or_(Schedule.valid_to.is_(None), Schedule.valid_to >= p.today),
    )
    has_schedule = exists().where(Schedule.activity_id == Activity.id)
    active = and_(
        Activity.status == "active",
        Activity.accepting_referrals.is_(True),
        or_(not_(has_schedule), valid_today),
    )
    gender_ok: ColumnElement[bool] = Activity.eligibility_gender.is_(None)
    if p.gender:
        gender_ok = or_(gender_ok, func.lower(Activity.eligibility_gender) == p.gender.lower())
    eligible = and_(
        or_(Activity.minimum_age.is_(None), Activity.minimum_age <= p.age),
        or_(Activity.maximum_age.is_(None), Activity.maximum_age >= p.age),
        gender_ok,
    )
    places = or_(Activity.capacity_available.is_(None), Activity.capacity_available > 0)
    return active, eligible, places


@dataclass(frozen=True)
class Screened:
    excluded: dict[engine.Rule, int]
    activities: list[engine.Activity]


async def candidates(session: AsyncSession, p: Prefilter) -> Screened:
    geography = _geography(p)
    active, eligible, places = _rules(p)
    places_rule: ColumnElement[bool] = true() if p.include_full else places

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    in_person_total = select(func.count()).where(Activity.attending_type == "in-person")
    counts = (
        await session.execute(
            select(
                count(not_(active)),
                count(and_(active, not_(eligible))),
                count(and_(active, eligible, not_(places_rule))),
                count(Activity.attending_type == "in-person"),
            ).where(geography)
        )
    ).one()
    outside = (await session.scalar(in_person_total.select_from(Activity)) or 0) - counts[3]
    excluded = {
        engine.Rule.ACTIVE: int(counts[0]),
        engine.Rule.ELIGIBILITY: int(counts[1]),
        engine.Rule.CAPACITY: int(counts[2]),
        engine.Rule.TRAVEL_DISTANCE: int(outside),
    }
    survivors = select(Activity.id).where(geography, active, eligible, places_rule)
    return Screened(excluded, await _load(session, survivors))


async def _rows(session: AsyncSession, columns: Iterable[Any], ids: Any) -> dict[str, list[Any]]:
    by_activity: dict[str, list[Any]] = defaultdict(list)
    cols = list(columns)
    result = await session.execute(select(*cols).where(cols[0].in_(ids)))
    for row in result:
        by_activity[row[0]].append(row[1:])
    return by_activity


async def _load(session: AsyncSession, ids: Any) -> list[engine.Activity]:
    base = await session.execute(
        select(
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
        ).where(Activity.id.in_(ids))
    )
    activities = list(base)
    if not activities:
        return []
    loc = await _rows(
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
    categories = await _rows(
        session, (ActivityCategoryLink.activity_id, ActivityCategoryLink.code), ids
    )
    needs = await _rows(session, (ActivityNeed.activity_id, ActivityNeed.code), ids)
    languages = await _rows(session, (ActivityLanguage.activity_id, ActivityLanguage.code), ids)
    schedules = await _rows(
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
    costs = await _rows(session, (CostOption.activity_id, CostOption.free, CostOption.amount), ids)
    areas = await _rows(session, (ServiceArea.activity_id, ServiceArea.code), ids)
    access_codes = ("wheelchair", "step-free", "hearing-loop", "large-print", "bsl", "quiet-space")
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
            categories=frozenset(c for (c,) in categories[a.id] if c),
            target_needs=frozenset(n for (n,) in needs[a.id]),
            locations=tuple(
                engine.Location(
                    latitude=row[0],
                    longitude=row[1],
                    accessibility=frozenset(
                        code for code, flag in zip(access_codes, row[2:], strict=True) if flag
                    ),
                )
                for row in loc[a.id]
            ),
            service_areas=frozenset(code for (code,) in areas[a.id] if code),
            schedules=tuple(
                engine.Schedule(
                    byday=_days(row[0]),
                    freq=row[1],
                    valid_from=row[2],
                    valid_to=row[3],
                    opens_at=_time(row[4]),
                    closes_at=_time(row[5]),
                )
                for row in schedules[a.id]
            ),
            cost_options=tuple(
                engine.CostOption(
                    free=bool(free), amount=float(amount) if amount is not None else None
                )
                for free, amount in costs[a.id]
            ),
            languages=frozenset(code for (code,) in languages[a.id]),
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
    categories = await _rows(
        session, (ActivityCategoryLink.activity_id, ActivityCategoryLink.code), ids
    )
    return {
        r[0]: ActivityCard(r[0], r[1], r[2], r[3], sorted(c for (c,) in categories[r[0]] if c))
        for r in rows
    }
