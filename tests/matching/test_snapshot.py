"""The snapshot's candidates + engine give exactly what the engine gives over the whole
directory read from the database.

Brute force: every activity of a seeded demo directory goes through the engine, except the
in-person activities with no location inside the travel box, which the counting rule of
docs/matching.md counts under rule 6 without visiting them. Matches (order, scores, reasons),
`eligible` and every exclusion count must be identical. The snapshot is then changed through
the database (update, delete, insert, places) and must follow.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import weakref
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.areas import importer as areas_importer
from app.auth.principal import Role
from app.demo import directory as demo_directory
from app.demo.seed import DemoOptions, seed_directory
from app.directory import repository as directory_repository
from app.directory.models import Activity, ActivityChange
from app.matching import engine, repository, snapshot
from app.terminology.suitability import need_category_suitability
from tests.conftest import TokenFactory
from tests.directory.test_importer import IMPORT, realistic_export

HACKNEY = (51.5545, -0.0560)
PEOPLE = [
    engine.Person(age=70, max_travel_km=2.0, gender="female", location=HACKNEY),
    engine.Person(
        age=17,
        max_travel_km=1.0,
        gender="male",
        location=(51.5450, -0.0750),
        needs=("loneliness-isolation",),
        accessibility_needs=frozenset({"step-free"}),
        free_only=True,
        available_days=frozenset({"tue", "thu"}),
    ),
    engine.Person(
        age=55,
        max_travel_km=0.5,
        gender=None,
        location=HACKNEY,
        digital_access="none",
        area_codes=frozenset({"E8", "E09000012"}),
    ),
    engine.Person(age=30, max_travel_km=10.0, gender="male", location=None, free_only=True),
    engine.Person(age=66, max_travel_km=3.0, gender="female", location=(51.5600, -0.0700)),
]
DAYS = [dt.date(2025, 6, 1), dt.date(2025, 10, 1), dt.date(2026, 11, 27)]


def _in_box(activity: engine.Activity, person: engine.Person) -> bool:
    assert person.location is not None
    lat, lon = person.location
    dlat = person.max_travel_km / snapshot.KM_PER_DEGREE
    dlon = person.max_travel_km / (snapshot.KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return any(
        loc.latitude is not None
        and loc.longitude is not None
        and lat - dlat <= loc.latitude <= lat + dlat
        and lon - dlon <= loc.longitude <= lon + dlon
        for loc in activity.locations
    )


async def _everything(session: AsyncSession) -> list[engine.Activity]:
    return await repository._load(session, list(await session.execute(select(*repository._BASE))))


async def _check(
    session: AsyncSession, directory: snapshot.Directory, include_full: bool
) -> set[engine.Rule]:
    """The snapshot path agrees with the engine over everything, for every person and day;
    returns the rules that excluded something."""
    everything = await _everything(session)
    suitability = need_category_suitability()
    checked_rules: set[engine.Rule] = set()
    for person in PEOPLE:
        for today in DAYS:
            places = directory.capacity
            screened = directory.candidates(person, today)
            fast = engine.match(
                person,
                screened.activities,
                today=today,
                suitability=suitability,
                limit=50,
                include_full=include_full,
                capacity=places,
                sited=screened.sited,
            )
            outside = [
                a
                for a in everything
                if a.attending_type == "in-person"
                and (person.location is None or not _in_box(a, person))
            ]
            inside = [a for a in everything if a not in outside]
            slow = engine.match(
                person,
                inside,
                today=today,
                suitability=suitability,
                limit=50,
                include_full=include_full,
            )
            expected = dict(slow.excluded)
            expected[engine.Rule.TRAVEL_DISTANCE] += len(outside)
            got = {r: fast.excluded[r] + screened.excluded[r] for r in engine.Rule}
            assert got == expected, (person, today)
            assert fast.matches == slow.matches, (person, today)
            assert fast.eligible == slow.eligible
            assert sum(got.values()) + fast.eligible == len(everything)
            assert screened.count < len(everything)
            checked_rules |= {r for r, n in got.items() if n}
    return checked_rules


@pytest.mark.parametrize("include_full", [False, True])
async def test_snapshot_and_counts_agree_with_the_engine_over_everything(
    session: AsyncSession, include_full: bool
) -> None:
    await seed_directory(session, DemoOptions(activities=400, seed=5))
    directory = snapshot.Directory()
    await directory.refresh(session)
    assert len(directory.activities) == 400
    checked_rules = await _check(session, directory, include_full)
    # the cases exercise every rule the snapshot counts, and the engine's
    assert checked_rules >= {
        engine.Rule.ACTIVE,
        engine.Rule.ELIGIBILITY,
        engine.Rule.TRAVEL_DISTANCE,
        engine.Rule.ACCESSIBILITY,
        engine.Rule.DIGITAL_ACCESS,
        engine.Rule.COST,
        *([] if include_full else [engine.Rule.CAPACITY]),
    }


async def test_snapshot_follows_changes_in_the_database(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Updates, deletes, inserts and places (as bookings change them) made after the snapshot
    was built are all seen by the next use; only the changed activities are read again."""
    await seed_directory(session, DemoOptions(activities=300, seed=7))
    directory = snapshot.Directory()
    await directory.refresh(session)
    ids = sorted(directory.activities)
    later = dt.datetime.now(dt.UTC)
    # places change alone, as bookings do: fill some, reopen the full ones
    full = [i for i in ids if directory.activities[i].capacity_available == 0]
    assert full
    await session.execute(
        update(Activity).where(Activity.id.in_(ids[:40])).values(capacity_available=0)
    )
    await session.execute(
        update(Activity).where(Activity.id.in_(full)).values(capacity_available=3)
    )
    # a directory update: status and age limits, with a new last_modified
    await session.execute(
        update(Activity)
        .where(Activity.id.in_(ids[40:80]))
        .values(status="inactive", last_modified=later)
    )
    await session.execute(
        update(Activity)
        .where(Activity.id.in_(ids[80:120]))
        .values(minimum_age=None, maximum_age=None, eligibility_gender=None, last_modified=later)
    )
    # a delete and an insert of the same number of activities (the count is unchanged)
    await directory_repository.delete_activities(session, ids[120:130])
    places = demo_directory.fixture_places(areas_importer.FIXTURE_POSTCODES)
    for rows in demo_directory.activities(9, 10, places, later, layout="borough"):
        for row in rows.activities:
            row["organisation_id"] = None
        await directory_repository.insert_activities(session, rows)
    reloaded: list[str] = []
    load = repository.activities

    async def spy(session: AsyncSession, ids: Sequence[str] | None) -> Any:
        assert ids is not None, "everything was read again"
        reloaded.extend(ids)
        return await load(session, ids)

    monkeypatch.setattr(repository, "activities", spy)
    await directory.refresh(session)
    await directory.refresh(session)  # nothing changed since: nothing read
    monkeypatch.undo()
    inserted = set(directory.activities) - set(ids)
    assert len(inserted) == 10
    assert sorted(reloaded) == sorted({*ids[:130], *full, *inserted})
    assert len(directory.activities) == 300
    assert not set(ids[120:130]) & directory.activities.keys()
    assert all(directory.activities[i].status == "inactive" for i in ids[40:80])
    for include_full in (False, True):
        await _check(session, directory, include_full)
    # a re-seed replaces every activity
    await seed_directory(session, DemoOptions(activities=300, seed=8))
    await directory.refresh(session)
    assert len(directory.activities) == 300
    assert directory.activities.keys() == {i for (i,) in await session.execute(select(Activity.id))}
    await _check(session, directory, include_full=False)


async def test_an_import_that_updates_activities_is_seen(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    """The ORUK import rewrites ``last_modified`` of the activities it updates (the count
    does not change), so the snapshot reloads them."""
    admin = auth(Role.ADMIN, "X26")
    export = realistic_export()
    assert (await client.post(IMPORT, json=export, headers=admin)).status_code == 200
    directory = snapshot.Directory()
    await directory.refresh(session)
    walk_id = export[1]["id"]
    assert directory.activities[walk_id].name == "Canal Health Walk"
    export[1]["name"] = "Canal Health Walk (summer)"
    export[1]["capacities"] = [{"id": "cap", "available": 0, "maximum": 15}]
    assert (await client.post(IMPORT, json=export, headers=admin)).status_code == 200
    await directory.refresh(session)
    assert len(directory.activities) == 2
    assert directory.activities[walk_id].name == "Canal Health Walk (summer)"
    assert directory.activities[walk_id].capacity_available == 0


async def test_a_booking_changes_places_without_rebuilding_the_indexes(
    session: AsyncSession,
) -> None:
    """A change of places only (what a booking or a cancellation writes) reaches the engine
    through `Directory.capacity`; the grid and the groups are kept."""
    await seed_directory(session, DemoOptions(activities=200, seed=3))
    directory = snapshot.Directory()
    await directory.refresh(session)
    await _check(session, directory, include_full=False)  # builds the indexes
    index = directory._index
    open_ids = sorted(
        i for i, a in directory.activities.items() if (a.capacity_available or 0) > 1
    )[:15]
    await session.execute(
        update(Activity).where(Activity.id.in_(open_ids)).values(capacity_available=0)
    )
    await directory.refresh(session)
    assert directory._index is index
    assert {i: directory.capacity[i] for i in open_ids} == dict.fromkeys(open_ids, 0)
    await _check(session, directory, include_full=False)
    await _check(session, directory, include_full=True)
    # any other change rebuilds them
    await session.execute(update(Activity).where(Activity.id == open_ids[0]).values(minimum_age=99))
    await directory.refresh(session)
    assert directory._index is None
    assert not directory.capacity
    await _check(session, directory, include_full=False)


class _InFlight:
    """A request's objects that hold a cycle (a session and its rows, a traceback...)."""

    def __init__(self) -> None:
        self.me = self


async def test_what_other_requests_hold_during_a_change_is_still_collected(
    session: AsyncSession,
) -> None:
    """Applying a change (a booking's places) does not take other requests' objects out of
    the collector's sight: cycles alive at that moment are freed once they are garbage (a
    ``gc.freeze`` after every change made the API grow 3.4 MB/min under load)."""
    await seed_directory(session, DemoOptions(activities=50, seed=3))
    directory = snapshot.Directory()
    await directory.refresh(session)
    in_flight = [_InFlight() for _ in range(100)]
    alive = [weakref.ref(o) for o in in_flight]
    some = sorted(directory.activities)[:3]
    for places in (0, 1):
        await session.execute(
            update(Activity).where(Activity.id.in_(some)).values(capacity_available=places)
        )
        await directory.refresh(session)
    assert {directory.capacity[i] for i in some} == {1}
    del in_flight
    gc.collect()
    assert not [r for r in alive if r() is not None]


def _tracked(o: object) -> bool:
    """Whether the collector walks ``o`` in a full collection (not frozen)."""
    return any(x is o for x in gc.get_objects())


async def test_the_first_tables_after_a_load_are_out_of_the_collectors_sight(
    session: AsyncSession,
) -> None:
    """The day's tables built first after a full load, and each new day's, are frozen like the
    load (a full collection does not walk their ~300 000 objects at 100 000 activities); those
    rebuilt after a directory edit are not, so cycles other requests hold then are still
    collected."""
    await seed_directory(session, DemoOptions(activities=50, seed=3))
    directory = snapshot.Directory()
    await directory.refresh(session)
    _, day = directory.prepare(DAYS[0])
    assert not _tracked(day.sites.activities)
    _, day = directory.prepare(DAYS[1])  # a new day
    assert not _tracked(day.sites.activities)
    in_flight = [_InFlight() for _ in range(100)]
    alive = [weakref.ref(o) for o in in_flight]
    first = sorted(directory.activities)[0]
    await session.execute(update(Activity).where(Activity.id == first).values(name="Renamed"))
    await directory.refresh(session)
    _, day = directory.prepare(DAYS[1])
    assert _tracked(day.sites.activities)
    del in_flight
    gc.collect()
    assert not [r for r in alive if r() is not None]


async def test_a_process_behind_the_change_log_reloads_everything(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_directory(session, DemoOptions(activities=50, seed=5))
    directory = snapshot.Directory()
    await directory.refresh(session)
    ids = sorted(directory.activities)
    for i in ids[:2]:
        await session.execute(update(Activity).where(Activity.id == i).values(name="Renamed"))
    # the ring has moved past what this process applied
    await session.execute(delete(ActivityChange).where(ActivityChange.seq <= directory._after + 1))
    everything: list[bool] = []
    load = repository.activities

    async def spy(session: AsyncSession, ids: Sequence[str] | None) -> Any:
        everything.append(ids is None)
        return await load(session, ids)

    monkeypatch.setattr(repository, "activities", spy)
    await directory.refresh(session)
    assert everything == [True]
    assert directory.activities[ids[0]].name == "Renamed"


async def test_a_transaction_committing_out_of_order_is_not_missed(
    database_url: str, engine: AsyncEngine
) -> None:
    """PostgreSQL numbers changes when they are written, not when they commit: a change
    written first and committed after a later one was read is still applied."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers are serial: a change is numbered in commit order")
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    first, second = "snapshot-order-1", "snapshot-order-2"
    try:
        async with sessions() as setup, setup.begin():
            setup.add_all(
                Activity(
                    id=i,
                    name=i,
                    status="active",
                    attending_type="online",
                    accepting_referrals=True,
                    has_free_option=True,
                    source="api",
                )
                for i in (first, second)
            )
        directory = snapshot.Directory()
        async with sessions() as reader:
            await directory.refresh(reader)
        async with sessions() as slow, sessions() as fast:
            await slow.execute(update(Activity).where(Activity.id == first).values(name="slow"))
            await fast.execute(update(Activity).where(Activity.id == second).values(name="fast"))
            await fast.commit()
            async with sessions() as reader:
                await directory.refresh(reader)
            assert directory.activities[second].name == "fast"
            assert directory.activities[first].name == first  # not committed yet
            await slow.commit()
        async with sessions() as reader:
            await directory.refresh(reader)
        assert directory.activities[first].name == "slow"
    finally:
        async with sessions() as cleanup, cleanup.begin():
            await cleanup.execute(delete(Activity).where(Activity.id.in_([first, second])))
