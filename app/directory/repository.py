"""Every SQL query of the directory."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.db import OneOfParameter
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
from app.directory.schemas import ActivityCard, CardLocation, CardSchedule
from app.directory.vocabulary import Frequency, ServiceStatus

METRES_PER_DEGREE = 111_320.0  # one degree of latitude (and of longitude at the equator)
CHILD_TABLES: tuple[Any, ...] = (
    ActivityCategoryLink,
    ActivityNeed,
    ActivityLanguage,
    Location,
    Schedule,
    CostOption,
    ServiceArea,
)


@dataclass
class ActivityRows:
    """Rows ready for ``executemany``, one list per table."""

    activities: list[dict[str, Any]] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)
    needs: list[dict[str, Any]] = field(default_factory=list)
    languages: list[dict[str, Any]] = field(default_factory=list)
    locations: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    cost_options: list[dict[str, Any]] = field(default_factory=list)
    service_areas: list[dict[str, Any]] = field(default_factory=list)

    def extend(self, other: ActivityRows) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))

    def children(self) -> Iterable[tuple[type[Any], list[dict[str, Any]]]]:
        yield ActivityCategoryLink, self.categories
        yield ActivityNeed, self.needs
        yield ActivityLanguage, self.languages
        yield Location, self.locations
        yield Schedule, self.schedules
        yield CostOption, self.cost_options
        yield ServiceArea, self.service_areas


@dataclass(frozen=True)
class Near:
    """A proximity filter: within ``metres`` of a point."""

    latitude: float
    longitude: float
    metres: float


@dataclass(frozen=True)
class DirectoryQuery:
    search: str | None = None
    taxonomy_term_id: str | None = None
    minimum_age: int | None = None
    maximum_age: int | None = None
    day: str | None = None  # RFC 5545 weekday code
    area_codes: Sequence[str] | None = None  # the caller's district and local authority
    near: Near | None = None
    need: str | None = None  # a need code (ORUK feed: a term of the need taxonomy)
    taxonomy: str | None = None  # ORUK taxonomy_id: "activity-category", "need" or imported
    modified_after: dt.datetime | None = None  # on or after


# ---------------------------------------------------------------- organisations


async def get_organisation(session: AsyncSession, organisation_id: str) -> Organisation | None:
    return await session.get(Organisation, organisation_id)


async def find_organisation_by_identifier(
    session: AsyncSession, identifier: str
) -> Organisation | None:
    return await session.scalar(
        select(Organisation)
        .where(Organisation.identifier == identifier)
        .order_by(Organisation.id)
        .limit(1)
    )


async def save_organisation(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert or update one organisation (by id)."""
    existing = await session.get(Organisation, values["id"])
    if existing is None:
        await session.execute(insert(Organisation), [values])
    else:
        await session.execute(
            update(Organisation).where(Organisation.id == values["id"]).values(**values)
        )
        await session.refresh(existing)


async def insert_organisations(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Organisation), list(rows))


async def existing_organisation_ids(session: AsyncSession, ids: Iterable[str]) -> set[str]:
    wanted = list(set(ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            await session.scalars(select(Organisation.id).where(Organisation.id.in_(chunk)))
        )
    return found


# ---------------------------------------------------------------- activities


_WHOLE = (
    joinedload(Activity.organisation),
    selectinload(Activity.categories),
    selectinload(Activity.needs),
    selectinload(Activity.languages),
    selectinload(Activity.locations),
    selectinload(Activity.schedules),
    selectinload(Activity.cost_options),
    selectinload(Activity.service_areas),
)


async def get_activity(session: AsyncSession, activity_id: str) -> Activity | None:
    """One activity with every part loaded."""
    return await session.scalar(
        select(Activity)
        .where(Activity.id == activity_id)
        .options(*_WHOLE)
        .execution_options(populate_existing=True)
    )


async def get_activities(session: AsyncSession, ids: Sequence[str]) -> list[Activity]:
    """The activities with these ids that exist (at most a page of them), every part loaded."""
    if not ids:
        return []
    return list(
        await session.scalars(
            select(Activity)
            .where(Activity.id.in_(list(ids)))
            .options(*_WHOLE)
            .execution_options(populate_existing=True)
        )
    )


# every match reads a page of cards: built once, so no statement nor cache key is made per
# request, of the tables' own columns (Core), so no ORM result is made for their rows
_ACTIVITY, _ORGANISATION, _LOCATION, _SCHEDULE, _CATEGORY = (
    cast(Table, model.__table__)
    for model in (Activity, Organisation, Location, Schedule, ActivityCategoryLink)
)
_CATEGORY_CODES = (
    select(func.aggregate_strings(_CATEGORY.c.code, ","))
    .where(_CATEGORY.c.activity_id == _ACTIVITY.c.id, _CATEGORY.c.code != "")
    .scalar_subquery()
)
_CARD_SCHEDULES = (
    select(_SCHEDULE.c.activity_id, *(_SCHEDULE.c[f.name] for f in fields(CardSchedule)))
    .where(OneOfParameter(_SCHEDULE.c.activity_id, "ids"))
    .order_by(_SCHEDULE.c.activity_id, _SCHEDULE.c.position)
)
_CARD_HEADS = (
    select(
        _ACTIVITY.c.id,
        _ACTIVITY.c.name,
        _ORGANISATION.c.name,
        _ACTIVITY.c.attending_type,
        _CATEGORY_CODES,
        _LOCATION.c.id,
        *(_LOCATION.c[f.name] for f in fields(CardLocation)),
    )
    .outerjoin(_ORGANISATION, _ORGANISATION.c.id == _ACTIVITY.c.organisation_id)
    .outerjoin(_LOCATION, _LOCATION.c.activity_id == _ACTIVITY.c.id)
    .where(OneOfParameter(_ACTIVITY.c.id, "ids"))
    .order_by(_ACTIVITY.c.id, _LOCATION.c.position)
)


def _card_schedule(
    freq: str | None,
    interval: int | None,
    byday: str | None,
    opens_at: str | None,
    closes_at: str | None,
    valid_from: dt.date | None,
    valid_to: dt.date | None,
) -> CardSchedule:
    return CardSchedule(
        Frequency(freq or Frequency.WEEKLY),
        interval,
        byday,
        dt.time.fromisoformat(opens_at) if opens_at else None,
        dt.time.fromisoformat(closes_at) if closes_at else None,
        valid_from,
        valid_to,
    )


async def get_cards(session: AsyncSession, ids: Sequence[str]) -> list[ActivityCard]:
    """The cards of the activities with these ids that exist (at most a page of them): two
    queries (the activities with their locations, then the schedules), no ORM objects."""
    if not ids:
        return []
    wanted = list(ids)
    times: dict[str, list[CardSchedule]] = defaultdict(list)
    for aid, *schedule in await session.execute(_CARD_SCHEDULES, {"ids": wanted}):
        times[aid].append(_card_schedule(*schedule))
    heads: dict[str, tuple[str, str | None, str, str | None]] = {}
    places: dict[str, list[CardLocation]] = defaultdict(list)
    for (
        aid,
        name,
        organisation,
        attending_type,
        codes,
        location_id,
        *place,
    ) in await session.execute(_CARD_HEADS, {"ids": wanted}):
        heads.setdefault(aid, (name, organisation, attending_type, codes))
        if location_id is not None:
            places[aid].append(CardLocation(*place))
    return [
        ActivityCard(
            aid,
            name,
            organisation,
            attending_type,
            tuple(sorted(set(codes.split(",")))) if codes else (),
            tuple(places[aid]),
            tuple(times[aid]),
        )
        for aid, (name, organisation, attending_type, codes) in heads.items()
    ]


@dataclass(frozen=True)
class FhirQuery:
    """``HealthcareService`` search: names (starts with, any case), activity-category codes
    (any of them), active (``status`` is ``active``)."""

    names: Sequence[str] = ()
    categories: Sequence[str] | None = None
    active: bool | None = None


async def search_fhir(
    session: AsyncSession, query: FhirQuery, *, offset: int, limit: int
) -> tuple[int, list[Activity]]:
    """One page of activities (by name, then id) with every part loaded, and the total."""
    where: list[ColumnElement[bool]] = []
    if query.names:
        name = func.lower(Activity.name)
        where.append(or_(*(name.startswith(n.lower(), autoescape=True) for n in query.names)))
    if query.categories is not None:
        where.append(
            exists().where(
                ActivityCategoryLink.activity_id == Activity.id,
                ActivityCategoryLink.code.in_(list(query.categories)),
            )
        )
    if query.active is not None:
        active = ServiceStatus.ACTIVE.value
        where.append(Activity.status == active if query.active else Activity.status != active)
    total = await session.scalar(select(func.count()).select_from(Activity).where(*where))
    page = await session.scalars(
        select(Activity)
        .where(*where)
        .options(*_WHOLE)
        .order_by(Activity.name, Activity.id)
        .offset(offset)
        .limit(limit)
    )
    return int(total or 0), list(page)


async def get_owner(
    session: AsyncSession, activity_id: str, *, lock: bool = False
) -> tuple[bool, str | None]:
    """Whether the activity exists, and the identifier of its organisation; ``lock`` holds the
    activity's row until the transaction ends (PostgreSQL; SQLite writers are serialised)."""
    query = (
        select(Activity.id, Organisation.identifier)
        .outerjoin(Organisation, Organisation.id == Activity.organisation_id)
        .where(Activity.id == activity_id)
    )
    if lock:
        query = query.with_for_update(of=Activity)
    row = (await session.execute(query)).first()
    return (row is not None, row[1] if row is not None else None)


async def existing_activity_ids(session: AsyncSession, ids: Iterable[str]) -> set[str]:
    wanted = list(set(ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(await session.scalars(select(Activity.id).where(Activity.id.in_(chunk))))
    return found


async def activity_digests(session: AsyncSession, ids: Iterable[str]) -> dict[str, str]:
    """The stored activities among ``ids``, each with its ``source_digest`` ("" when none)."""
    wanted = list(set(ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = await session.execute(
            select(Activity.id, Activity.source_digest).where(Activity.id.in_(chunk))
        )
        found.update((aid, digest or "") for aid, digest in rows)
    return found


async def insert_activities(session: AsyncSession, rows: ActivityRows) -> None:
    """Bulk insert (one executemany per table) of new activities and their parts."""
    if rows.activities:
        await session.execute(insert(Activity), rows.activities)
    for table, table_rows in rows.children():
        if table_rows:
            await session.execute(insert(table), table_rows)


async def replace_activity(session: AsyncSession, rows: ActivityRows) -> None:
    """Update existing activities in place and replace their parts (ids and bookings stay)."""
    ids = [row["id"] for row in rows.activities]
    await delete_parts(session, ids)
    # ORM bulk UPDATE by primary key: one executemany, not a statement per activity
    await session.execute(
        update(Activity),
        [{k: v for k, v in row.items() if k != "created_at"} for row in rows.activities],
    )
    for table, table_rows in rows.children():
        if table_rows:
            await session.execute(insert(table), table_rows)


async def delete_parts(session: AsyncSession, ids: Sequence[str]) -> None:
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        for table in CHILD_TABLES:
            await session.execute(delete(table).where(table.activity_id.in_(chunk)))


async def delete_activities(session: AsyncSession, ids: Sequence[str]) -> None:
    await delete_parts(session, ids)
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        await session.execute(delete(Activity).where(Activity.id.in_(chunk)))


async def activity_ids_from(session: AsyncSession, source: str) -> list[str]:
    return list(await session.scalars(select(Activity.id).where(Activity.source == source)))


async def delete_organisations_without_activities(
    session: AsyncSession, ids: Sequence[str]
) -> None:
    used = select(Activity.id).where(Activity.organisation_id == Organisation.id)
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        await session.execute(delete(Organisation).where(Organisation.id.in_(chunk), ~exists(used)))


# ---------------------------------------------------------------- search


def _distance_squared(latitude: float, longitude: float) -> tuple[Any, float]:
    """Squared equirectangular distance in m^2 (portable SQL arithmetic; at the scale of a
    city the error against the great circle is far below a metre per kilometre)."""
    kx = METRES_PER_DEGREE * math.cos(math.radians(latitude))
    dy = (Location.latitude - latitude) * METRES_PER_DEGREE
    dx = (Location.longitude - longitude) * kx
    return dy * dy + dx * dx, kx


def _filters(query: DirectoryQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.search:
        term = query.search.lower()
        where.append(
            or_(
                func.lower(Activity.name).contains(term, autoescape=True),
                func.lower(func.coalesce(Activity.description, "")).contains(term, autoescape=True),
            )
        )
    if query.taxonomy_term_id:
        where.append(
            exists().where(
                ActivityCategoryLink.activity_id == Activity.id,
                or_(
                    ActivityCategoryLink.code == query.taxonomy_term_id,
                    ActivityCategoryLink.term_id == query.taxonomy_term_id,
                ),
            )
        )
    # ORUK: "a minimum age of at least" / "a maximum age equal to or below" the value given.
    if query.minimum_age is not None:
        where.append(func.coalesce(Activity.minimum_age, 0) >= query.minimum_age)
    if query.maximum_age is not None:
        where.append(Activity.maximum_age <= query.maximum_age)
    if query.day:
        where.append(
            exists().where(
                Schedule.activity_id == Activity.id,
                Schedule.byday.contains(query.day, autoescape=True),
            )
        )
    if query.need:
        where.append(
            exists().where(ActivityNeed.activity_id == Activity.id, ActivityNeed.code == query.need)
        )
    if query.taxonomy == "need":
        where.append(exists().where(ActivityNeed.activity_id == Activity.id))
    elif query.taxonomy is not None:
        link = ActivityCategoryLink
        where.append(
            exists().where(
                link.activity_id == Activity.id,
                link.code.is_not(None)
                if query.taxonomy == "activity-category"
                else link.taxonomy == query.taxonomy,
            )
        )
    if query.modified_after is not None:
        where.append(Activity.last_modified >= query.modified_after)
    return where


def _in_service_area(activity_id: Any, codes: Sequence[str]) -> ColumnElement[bool]:
    """The activity serves people of one of ``codes``: it has no coded service area, or one of
    them is in ``codes``. Written as one NOT EXISTS (no OR of two subqueries) so PostgreSQL
    plans it as an anti-join keyed on ``activity_id``, without the activity row."""
    other = aliased(ServiceArea)
    return ~exists().where(
        ServiceArea.activity_id == activity_id,
        ServiceArea.code.is_not(None),
        ~exists().where(other.activity_id == ServiceArea.activity_id, other.code.in_(codes)),
    )


async def search(
    session: AsyncSession, query: DirectoryQuery, *, offset: int, limit: int
) -> tuple[int, list[tuple[Activity, float | None]]]:
    """One page of activities and the total; by distance then id when near a point, else by
    name then id."""
    if query.near is not None:
        return await _search_near(session, query, query.near, offset=offset, limit=limit)
    where = _filters(query)
    if query.area_codes is not None:
        where.append(_in_service_area(Activity.id, list(query.area_codes)))
    total = await session.scalar(select(func.count()).select_from(Activity).where(*where))
    rows = await session.scalars(
        select(Activity)
        .where(*where)
        .options(joinedload(Activity.organisation))
        .order_by(Activity.name, Activity.id)
        .offset(offset)
        .limit(limit)
    )
    return int(total or 0), [(activity, None) for activity in rows]


async def _search_near(
    session: AsyncSession, query: DirectoryQuery, near: Near, *, offset: int, limit: int
) -> tuple[int, list[tuple[Activity, float | None]]]:
    """Locations in the bounding box (index range scan on latitude, longitude, activity_id),
    then the exact radius; each activity at its nearest location; the total comes from a
    window count in the same query.

    On PostgreSQL the query is planned for its actual values: asyncpg prepares statements, and
    after five executions PostgreSQL may switch to a generic plan, which guesses one row from
    ``BETWEEN $3 AND $4`` and picks nested loops that cost 4-5x more in a dense area (measured,
    docs/performance.md). ``SET LOCAL`` ends with the request's transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    d2, kx = _distance_squared(near.latitude, near.longitude)
    dlat = near.metres / METRES_PER_DEGREE
    dlon = near.metres / kx
    nearest = select(Location.activity_id.label("activity_id"), func.min(d2).label("d2")).where(
        Location.latitude.between(near.latitude - dlat, near.latitude + dlat),
        Location.longitude.between(near.longitude - dlon, near.longitude + dlon),
        d2 <= near.metres * near.metres,
    )
    if query.area_codes is not None:
        nearest = nearest.where(_in_service_area(Location.activity_id, list(query.area_codes)))
    where = _filters(query)
    if where:  # without these filters the activity table is not needed until the page is known
        nearest = nearest.join(Activity, Activity.id == Location.activity_id).where(*where)
    grouped = nearest.group_by(Location.activity_id).subquery()
    page = (
        await session.execute(
            select(grouped.c.activity_id, grouped.c.d2, func.count().over().label("total"))
            .order_by(grouped.c.d2, grouped.c.activity_id)
            .offset(offset)
            .limit(limit)
        )
    ).all()
    if page:
        total = int(page[0].total)
    else:
        total = int(await session.scalar(select(func.count()).select_from(grouped)) or 0)
    ids = [row.activity_id for row in page]
    activities = {
        a.id: a
        for a in await session.scalars(
            select(Activity).where(Activity.id.in_(ids)).options(joinedload(Activity.organisation))
        )
    }
    return total, [(activities[row.activity_id], math.sqrt(row.d2)) for row in page]


async def analyze(session: AsyncSession) -> None:
    """Refresh the planner's statistics after a bulk load (PostgreSQL; SQLite plans without)."""
    if session.get_bind().dialect.name == "postgresql":
        tables = ", ".join(t.__tablename__ for t in (Activity, *CHILD_TABLES))
        await session.execute(text(f"ANALYZE {tables}"))


async def count_activities(session: AsyncSession, source: str | None = None) -> int:
    statement = select(func.count()).select_from(Activity)
    if source is not None:
        statement = statement.where(Activity.source == source)
    return int(await session.scalar(statement) or 0)


async def delete_source(session: AsyncSession, source: str) -> None:
    """Delete every activity from one source (``demo``...) with its parts."""
    ids = select(Activity.id).where(Activity.source == source).scalar_subquery()
    for table in CHILD_TABLES:
        await session.execute(delete(table).where(table.activity_id.in_(ids)))
    await session.execute(delete(Activity).where(Activity.source == source))


async def take_place(session: AsyncSession, activity_id: str) -> bool:
    """One place, atomically: no two requests can take the last place (DESIGN.md 8)."""
    result = await session.execute(
        update(Activity)
        .where(
            Activity.id == activity_id,
            (Activity.capacity_available.is_(None)) | (Activity.capacity_available > 0),
        )
        .values(capacity_available=Activity.capacity_available - 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def release_place(session: AsyncSession, activity_id: str) -> None:
    await session.execute(
        update(Activity)
        .where(
            Activity.id == activity_id,
            Activity.capacity_available.is_not(None),
            (Activity.capacity_maximum.is_(None))
            | (Activity.capacity_available < Activity.capacity_maximum),
        )
        .values(capacity_available=Activity.capacity_available + 1)
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------- the public ORUK feed


def _within(near: Near) -> ColumnElement[bool]:
    """The location is within ``near`` (bounding box on the index, then the exact radius)."""
    d2, kx = _distance_squared(near.latitude, near.longitude)
    dlat, dlon = near.metres / METRES_PER_DEGREE, near.metres / kx
    return and_(
        Location.latitude.between(near.latitude - dlat, near.latitude + dlat),
        Location.longitude.between(near.longitude - dlon, near.longitude + dlon),
        d2 <= near.metres * near.metres,
    )


def _feed_filters(query: DirectoryQuery) -> list[ColumnElement[bool]]:
    where = _filters(query)
    if query.area_codes is not None:
        where.append(_in_service_area(Activity.id, list(query.area_codes)))
    if query.near is not None:
        where.append(Activity.id.in_(select(Location.activity_id).where(_within(query.near))))
    return where


async def services_after(
    session: AsyncSession, query: DirectoryQuery, after: str | None, limit: int
) -> list[Activity]:
    """The next ``limit`` activities by id after ``after`` (keyset: a stream of the whole
    directory reads it a chunk at a time), every part loaded."""
    statement = select(Activity).where(*_feed_filters(query))
    if after is not None:
        statement = statement.where(Activity.id > after)
    return list(
        await session.scalars(statement.options(*_WHOLE).order_by(Activity.id).limit(limit))
    )


async def search_locations(
    session: AsyncSession, query: DirectoryQuery, *, offset: int, limit: int
) -> tuple[int, list[Location]]:
    """One page of the locations of the matching activities (by activity, then position),
    and the total; ``near`` keeps the locations within it."""
    where = [*_filters(query), Location.activity_id == Activity.id]
    if query.area_codes is not None:
        where.append(_in_service_area(Activity.id, list(query.area_codes)))
    if query.near is not None:
        where.append(_within(query.near))
    total = await session.scalar(select(func.count()).select_from(Location, Activity).where(*where))
    rows = await session.scalars(
        select(Location)
        .select_from(Location)
        .join(Activity, Activity.id == Location.activity_id)
        .where(*where)
        .order_by(Location.activity_id, Location.position)
        .offset(offset)
        .limit(limit)
    )
    return int(total or 0), list(rows)


async def get_location(session: AsyncSession, location_id: uuid.UUID) -> Location | None:
    return await session.get(Location, location_id)
