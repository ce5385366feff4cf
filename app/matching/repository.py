"""Every SQL query of matching: what the per-process snapshot of the directory reads
(app/matching/snapshot.py), the marks of activities not suitable for a referral, and the
bookings' tallies behind the outcome prior (app/matching/unsuitable.py, learning.py).

The snapshot reads every activity once per process and then, at each request, the log of
changes to ``activity`` (``activity_change``, written by triggers: directory writes and
bookings alike) and only the activities named there. Costs and figures: docs/performance.md,
"Matching".
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    distinct,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.models import Booking
from app.directory.models import (
    Activity,
    ActivityCategoryLink,
    ActivityChange,
    ActivityLanguage,
    ActivityNeed,
    CostOption,
    DatabaseEpoch,
    Location,
    Organisation,
    Schedule,
    ServiceArea,
)
from app.matching import engine
from app.matching.models import UnsuitableMark
from app.outcomes.models import OutcomeScore
from app.referrals.models import ReferralNeed
from app.terminology.situations import group_traits_in, situations_in

_DAYS = {"MO": "mon", "TU": "tue", "WE": "wed", "TH": "thu", "FR": "fri", "SA": "sat", "SU": "sun"}
CHUNK = 20_000  # ids per query when loading many activities
_XIDS = postgresql.ARRAY(BigInteger)


@dataclass(frozen=True)
class Changes:
    """Rows of ``activity_change`` (app/directory/models.py), as (seq, activity id)."""

    rows: list[tuple[int, str]]
    oldest: int | None  # the smallest seq still kept (the log is a bounded ring)
    newest: int | None
    horizon: Horizon | None  # PostgreSQL: the next call's ``horizon`` (see `changes`)
    epoch: uuid.UUID | None  # the database's (``database_epoch``): another one, another log


@dataclass(frozen=True)
class Horizon:
    """PostgreSQL: the transactions whose rows a read could not see, from its snapshot: those
    still running (``xip``) and those not begun (ids from ``xmax`` on)."""

    xmax: int
    running: tuple[int, ...]

    @classmethod
    def parse(cls, snapshot: str) -> Horizon:
        """From ``txid_current_snapshot()``'s text, ``xmin:xmax:xip,xip...``."""
        _, xmax, running = snapshot.split(":")
        return cls(int(xmax), tuple(int(x) for x in running.split(",") if x))


# every match reads the log: built once, so no statement nor cache key is made per request,
# of the tables' own columns (Core), so no ORM result is made for it
_C = ActivityChange.__table__.c
_BOUND_COLUMNS = (
    select(func.min(_C.seq)).scalar_subquery(),
    select(func.max(_C.seq)).scalar_subquery(),
    select(DatabaseEpoch.__table__.c.epoch).limit(1).scalar_subquery(),
)
_BOUNDS = select(*_BOUND_COLUMNS)
_PG_CHANGES = select(
    func.array_agg(_C.seq),
    func.array_agg(_C.activity_id),
    *_BOUND_COLUMNS,
    cast(func.txid_current_snapshot(), String),
)
_PG_CHANGES_ALL = _PG_CHANGES.where(true())
_PG_CHANGES_SINCE = _PG_CHANGES.where(
    or_(
        _C.xid >= bindparam("xmax"),
        _C.xid == any_(bindparam("running", type_=_XIDS)),
        _C.xid == func.txid_current_if_assigned(),
    )
)
_CHANGES_AFTER = select(_C.seq, _C.activity_id).where(_C.seq > bindparam("after"))


async def changes(session: AsyncSession, after: int, horizon: Horizon | None) -> Changes:
    """The changes to ``activity`` a reader that has seen everything up to ``after`` (SQLite)
    or everything its previous read could see (PostgreSQL, ``horizon``) has not seen yet, and
    some it has.

    SQLite: writers are serial (one holds the write lock from its first write to its commit),
    so ``seq`` order is commit order and ``seq > after`` is exact.

    PostgreSQL: ``seq`` is taken at insert time, so a transaction can commit a smaller ``seq``
    after a larger one was read. Each row carries its writer's transaction id; a row the
    previous read could not see belongs to a transaction that was running when its snapshot
    was taken or had no id yet, which the previous read returned as ``horizon``. So this read
    takes the rows of those transactions, and those of the reader's own transaction (which a
    snapshot always sees), and returns its own snapshot's horizon, all in one statement so
    that the rows and the horizon are of one snapshot. (Reading ``xid >= xmin`` instead, as
    this did first, re-read every change written since the oldest transaction still running in
    the whole cluster, so one long transaction, a report or a backup, made every match read
    the log since it began.)
    """
    if session.get_bind().dialect.name == "postgresql":
        found = (
            await session.execute(_PG_CHANGES_ALL)
            if horizon is None
            else await session.execute(
                _PG_CHANGES_SINCE, {"xmax": horizon.xmax, "running": list(horizon.running)}
            )
        )
        row = found.one()
        return Changes(
            list(zip(row[0] or (), row[1] or (), strict=True)),
            row[2],
            row[3],
            Horizon.parse(row[5]),
            row[4],
        )
    rows = [(r[0], r[1]) for r in await session.execute(_CHANGES_AFTER, {"after": after})]
    oldest, newest, epoch = (await session.execute(_BOUNDS)).one()
    return Changes(rows, oldest, newest, None, epoch)


async def activities(session: AsyncSession, ids: Sequence[str] | None) -> list[engine.Activity]:
    """The engine's view of the given activities (those that exist), or of every activity."""
    if ids is None:
        return await _load(session, list(await session.execute(select(*_BASE))))
    found: list[engine.Activity] = []
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        base = list(
            await session.execute(select(*_BASE).where(_among(session, Activity.id, chunk)))
        )
        found.extend(await _load(session, base))
    return found


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
    Activity.eligibility_description,
    Activity.description,
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
            situations=situations_in(a.eligibility_description, a.name, a.description),
            group_traits=group_traits_in(a.name, a.description),
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


# Marks of activities not suitable for a referral ----------------------------------------------


async def activity_name(session: AsyncSession, activity_id: str) -> str | None:
    name: str | None = await session.scalar(select(Activity.name).where(Activity.id == activity_id))
    return name


async def mark_of(
    session: AsyncSession, referral_id: uuid.UUID, activity_id: str
) -> UnsuitableMark | None:
    mark: UnsuitableMark | None = await session.scalar(
        select(UnsuitableMark).where(
            UnsuitableMark.referral_id == referral_id, UnsuitableMark.activity_id == activity_id
        )
    )
    return mark


# every match runs it: built once, so no statement nor cache key is made per request
_MARKS = (
    select(UnsuitableMark, Activity.name)
    .join(Activity, Activity.id == UnsuitableMark.activity_id)
    .where(UnsuitableMark.referral_id == bindparam("referral_id"))
    .order_by(UnsuitableMark.created_at, UnsuitableMark.activity_id)
)


async def marks_of(
    session: AsyncSession, referral_id: uuid.UUID
) -> list[tuple[UnsuitableMark, str]]:
    """The referral's marks with their activities' names, oldest first."""
    rows = await session.execute(_MARKS, {"referral_id": referral_id})
    return [(mark, name) for mark, name in rows]


async def mark_counts(
    session: AsyncSession, provider: str | None, start: dt.datetime, end: dt.datetime
) -> dict[tuple[str, str], int]:
    """(activity id, reason) -> marks made in [start, end): of every activity, or only of those
    of the organisation ``provider`` (its ODS code)."""
    query = (
        select(UnsuitableMark.activity_id, UnsuitableMark.reason, func.count())
        .where(UnsuitableMark.created_at >= start, UnsuitableMark.created_at < end)
        .group_by(UnsuitableMark.activity_id, UnsuitableMark.reason)
    )
    if provider is not None:
        query = query.where(
            UnsuitableMark.activity_id.in_(
                select(Activity.id)
                .join(Organisation, Organisation.id == Activity.organisation_id)
                .where(Organisation.identifier == provider)
            )
        )
    rows = await session.execute(query)
    return {(activity, reason): int(n) for activity, reason, n in rows}


# The outcome prior's tallies ------------------------------------------------------------------

RECORDED = ("attended", "did-not-attend")  # a booking whose attendance was recorded


async def attendance_tallies(session: AsyncSession) -> dict[tuple[str, str], tuple[int, int]]:
    """(activity id, need) -> (people, of whom attended): the people referred with the need
    whose booking on the activity has its attendance recorded (a person booked through two
    referrals counts once, as attended if either booking was)."""
    attended = case((Booking.status == "attended", Booking.patient_id))
    rows = await session.execute(
        select(
            Booking.activity_id,
            ReferralNeed.need,
            func.count(distinct(Booking.patient_id)),
            func.count(distinct(attended)),
        )
        .join(ReferralNeed, ReferralNeed.referral_id == Booking.referral_id)
        .where(Booking.status.in_(RECORDED))
        .group_by(Booking.activity_id, ReferralNeed.need)
    )
    return {(a, need): (int(people), int(came)) for a, need, people, came in rows}


async def booked_categories(session: AsyncSession) -> dict[str, frozenset[str]]:
    """activity id -> its activity-category codes, for the activities with recorded bookings."""
    booked = select(Booking.activity_id).where(Booking.status.in_(RECORDED)).distinct()
    rows = await session.execute(
        select(ActivityCategoryLink.activity_id, ActivityCategoryLink.code).where(
            ActivityCategoryLink.activity_id.in_(booked),
            ActivityCategoryLink.code.is_not(None),
            ActivityCategoryLink.code != "",
        )
    )
    found: dict[str, set[str]] = defaultdict(set)
    for activity, code in rows:
        if code:
            found[activity].add(code)
    return {a: frozenset(codes) for a, codes in found.items()}


async def attended_needs(session: AsyncSession) -> list[tuple[str, str, uuid.UUID, uuid.UUID]]:
    """(activity id, need, patient id, referral id) of every booking marked ``attended``, once
    per need of its referral."""
    rows = await session.execute(
        select(Booking.activity_id, ReferralNeed.need, Booking.patient_id, Booking.referral_id)
        .join(ReferralNeed, ReferralNeed.referral_id == Booking.referral_id)
        .where(Booking.status == "attended")
    )
    return [(a, need, patient, referral) for a, need, patient, referral in rows]


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One score of a referral's outcome record (``app.outcomes``)."""

    referral_id: uuid.UUID
    instrument: str
    measure: str
    timepoint: str
    collected_at: dt.datetime
    value: float


async def attended_scores(
    session: AsyncSession, measures: Sequence[tuple[str, str]]
) -> list[ScoreRow]:
    """The scores of ``measures`` ((instrument, measure) pairs) of the referrals with a booking
    marked ``attended``, per referral, instrument and measure in collection order (ties by id,
    as the reports pair them)."""
    if not measures:
        return []
    attended = select(Booking.referral_id).where(Booking.status == "attended")
    rows = await session.execute(
        select(
            OutcomeScore.referral_id,
            OutcomeScore.instrument,
            OutcomeScore.measure,
            OutcomeScore.timepoint,
            OutcomeScore.collected_at,
            OutcomeScore.value,
        )
        .where(
            OutcomeScore.referral_id.in_(attended),
            OutcomeScore.value.is_not(None),
            or_(
                *(
                    and_(OutcomeScore.instrument == code, OutcomeScore.measure == key)
                    for code, key in measures
                )
            ),
        )
        .order_by(
            OutcomeScore.referral_id,
            OutcomeScore.instrument,
            OutcomeScore.measure,
            OutcomeScore.collected_at,
            OutcomeScore.id,
        )
    )
    return [
        ScoreRow(referral, code, key, timepoint, at, float(value))
        for referral, code, key, timepoint, at, value in rows
        if value is not None
    ]
