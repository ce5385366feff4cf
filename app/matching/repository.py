"""Every SQL query of matching: what the per-process snapshot of the directory reads
(app/matching/snapshot.py), the places available now, and the returned activities' details.

The snapshot reads every activity once per process and then only what changed (``last_modified``
per id); the places, which change with every booking, are read at every request. Costs and
figures: docs/performance.md, "Matching".
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, any_, bindparam, func, select, type_coerce
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

_DAYS = {"MO": "mon", "TU": "tue", "WE": "wed", "TH": "thu", "FR": "fri", "SA": "sat", "SU": "sun"}
CHUNK = 20_000  # ids per query when loading many activities

Stamp = tuple[int, dt.datetime | None]


async def stamp(session: AsyncSession) -> Stamp:
    """How many activities there are and the latest ``last_modified``: two index reads."""
    row = (
        await session.execute(
            select(
                select(func.count()).select_from(Activity).scalar_subquery(),
                select(func.max(Activity.last_modified)).scalar_subquery(),
            )
        )
    ).one()
    return int(row[0]), row[1]


async def modified(session: AsyncSession) -> dict[str, dt.datetime]:
    """``last_modified`` of every activity, by id."""
    return {r[0]: r[1] for r in await session.execute(select(Activity.id, Activity.last_modified))}


async def activities(
    session: AsyncSession, ids: Sequence[str]
) -> list[tuple[engine.Activity, dt.datetime]]:
    """The engine's view of the given activities (those that exist), with their
    ``last_modified``."""
    found: list[tuple[engine.Activity, dt.datetime]] = []
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        base = list(
            await session.execute(
                select(*_BASE, Activity.last_modified).where(_among(session, Activity.id, chunk))
            )
        )
        loaded = await _load(session, base)
        found.extend(zip(loaded, (row.last_modified for row in base), strict=True))
    return found


async def without_places(session: AsyncSession) -> dict[str, int | None]:
    """The activities with no place left now (``capacity_available <= 0``, on its index).

    Read as two aggregated arrays (ids, places) in one row: thousands of row objects per
    request, alive across garbage-collector passes, made the collector's full passes frequent
    (see app/matching/snapshot.py).
    """
    full = Activity.capacity_available <= 0
    if session.get_bind().dialect.name == "postgresql":
        ids, counts = (
            await session.execute(
                select(
                    func.array_agg(Activity.id), func.array_agg(Activity.capacity_available)
                ).where(full)
            )
        ).one()
        return dict(zip(ids or (), counts or (), strict=True))
    id_list, count_list = (
        await session.execute(
            select(
                type_coerce(func.json_group_array(Activity.id), String),
                type_coerce(func.json_group_array(Activity.capacity_available), String),
            ).where(full)
        )
    ).one()
    return dict(zip(json.loads(id_list), json.loads(count_list), strict=True))


async def places(session: AsyncSession, ids: Sequence[str]) -> dict[str, int | None]:
    """The places available now of a few activities (None = not limited)."""
    if not ids:
        return {}
    return {
        r[0]: r[1]
        for r in await session.execute(
            select(Activity.id, Activity.capacity_available).where(
                _among(session, Activity.id, list(ids))
            )
        )
    }


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
