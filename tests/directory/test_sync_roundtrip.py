"""The round trip through sync (issue 20): this service's own ``/oruk`` feed, served by the real
app under uvicorn on 127.0.0.1, synced (``sync.sync_feed``, what ``assetlink sync-directory``
runs) into a second, empty database gives the same services (the directory's own documents
and the engine's view of each, ids mapped by ``source_id``) and the same matches for a set of
people; a second full sync finds everything unchanged, and an incremental one reads only the
activity changed since.

The source: the demo directory (300 activities) and a few activities with every optional field
present, on both databases.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.areas import service as areas_service
from app.db import create_engine, transaction, utcnow
from app.demo.seed import DemoOptions, seed_directory
from app.directory import repository, service, sync
from app.directory.fetch import FetchOptions
from app.directory.models import Activity
from app.directory.schemas import ActivityBase, ActivityRead
from app.directory.vocabulary import Accessibility, ActivityCategory, Need
from app.main import create_app
from app.matching import engine, snapshot
from app.terminology.suitability import need_category_suitability
from tests.browser import serving
from tests.conftest import in_thread, make_settings, migrated_database

TODAY = dt.date.today()
OPTIONS = FetchOptions(per_page=50, timeout_s=30, attempts=3, backoff_s=0.05)
DEMO_ACTIVITIES = 300
POSTCODES = ("E8 1EJ", "E5 0LL", "N16 7JN", "E9 6DQ", "E2 8AA")
ORGANISATION = {
    "id": "full-org",
    "name": "Dalston Arts Collective",
    "description": "Arts for everyone in Dalston.",
    "identifier": "1234567",
    "identifier_scheme": "GB-CHC",
    "email": "hello@example.org",
    "url": "https://example.org",
}


def full_activity(n: int) -> ActivityBase:
    """An activity with every optional field present (and some variety by ``n``)."""
    return ActivityBase.model_validate(
        {
            "name": f"Community Choir {n}",
            "description": "Sing together every week; no experience needed.",
            "status": "active",
            "url": f"https://example.org/choir/{n}",
            "email": "choir@example.org",
            "categories": ["music-singing", "social-groups"][: 1 + n % 2],
            "target_needs": ["loneliness-isolation", "low-mood"][: 1 + n % 2],
            "minimum_age": 16 + n,
            "maximum_age": 90,
            "eligibility": {"description": "Adults who enjoy singing", "gender": "female"},
            "service_areas": ["E8", "E09000012"],
            "locations": [
                {
                    "name": "Dalston Library",
                    "address_1": "Dalston Square",
                    "city": "London",
                    "postcode": "E8 3BQ",
                    "latitude": 51.5462 + n / 1000,
                    "longitude": -0.0754,
                    "accessibility": list(Accessibility)[: 1 + n % 6],
                    "accessibility_description": "Lift to the first floor",
                }
            ],
            "attending_type": "hybrid",
            "schedules": [
                {
                    "freq": "WEEKLY",
                    "interval": 1 + n % 2,
                    "byday": "TU,TH",
                    "opens_at": "10:00",
                    "closes_at": "12:00",
                    "valid_from": "2026-01-01",
                    "valid_to": "2030-12-31",
                    "description": "Term time only",
                }
            ],
            "cost_options": [
                {
                    "option": "Standard",
                    "amount": Decimal("3.50"),
                    "amount_description": "per session",
                    "free": False,
                    "valid_from": "2026-01-01",
                    "valid_to": "2030-12-31",
                }
            ],
            "fees_description": "Concessions free",
            "languages": ["en", "pl", "bn"][: 1 + n % 3],
            "capacity": {"maximum": 20, "available": 5 + n},
            "accepting_referrals": n != 3,
            "contact": {
                "name": "Sam",
                "title": "Coordinator",
                "phone": "020 7946 0000",
                "email": "sam@example.org",
            },
        }
    )


FULL = [full_activity(n) for n in range(6)]


async def _seed(url: str) -> None:
    settings = make_settings(url)
    db = create_engine(settings)
    maker = async_sessionmaker(db, expire_on_commit=False)
    async with transaction(maker, write=True) as session:
        await seed_directory(session, DemoOptions(activities=DEMO_ACTIVITIES))
        await repository.insert_organisations(
            session, [{**ORGANISATION, "last_modified": utcnow()}]
        )
        for n, data in enumerate(FULL):
            rows = service.to_rows(
                f"full-{n}",
                ORGANISATION["id"],
                data,
                coordinates=[(p.latitude, p.longitude) for p in data.locations],
                source="api",
                now=utcnow(),
            )
            await repository.insert_activities(session, rows)
    await db.dispose()


@dataclass
class RoundTrip:
    source_url: str
    target_url: str
    feed_url: str
    first: Any  # the first sync's report


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def round_trip(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RoundTrip]:
    with (
        migrated_database(request.param, tmp_path_factory.mktemp("source")) as source_url,
        migrated_database(request.param, tmp_path_factory.mktemp("target")) as target_url,
    ):
        in_thread(lambda: asyncio.run(_seed(source_url)))
        app = create_app(make_settings(source_url, match_warmup=False))
        with serving(app) as base:
            feed_url = f"{base}/oruk"
            first = in_thread(lambda: asyncio.run(_sync(target_url, feed_url, full=True)))
            yield RoundTrip(source_url, target_url, feed_url, first)


async def _sync(url: str, feed_url: str, **kwargs: Any) -> Any:
    db = create_engine(make_settings(url))
    try:
        async with httpx.AsyncClient() as http:
            return await sync.sync_feed(
                async_sessionmaker(db, expire_on_commit=False), http, feed_url, OPTIONS, **kwargs
            )
    finally:
        await db.dispose()


@pytest.fixture
async def sessions(round_trip: RoundTrip) -> AsyncIterator[tuple[AsyncSession, AsyncSession]]:
    source_db = create_engine(make_settings(round_trip.source_url))
    target_db = create_engine(make_settings(round_trip.target_url))
    async with (
        async_sessionmaker(source_db, expire_on_commit=False)() as source,
        async_sessionmaker(target_db, expire_on_commit=False)() as target,
    ):
        yield source, target
    await source_db.dispose()
    await target_db.dispose()


def _feed_id(round_trip: RoundTrip) -> str:
    return sync.feed_of(round_trip.feed_url).id


async def _by_source_id(session: AsyncSession) -> dict[str, str]:
    """The source's id of each activity (a synced one's ``source_id``, else its own id) -> its
    id here."""
    rows = await session.execute(select(Activity.id, Activity.source_id))
    return {source_id or activity_id: activity_id for activity_id, source_id in rows}


def _canonical(read: ActivityRead) -> dict[str, Any]:
    """The directory's document of an activity without what is the database's own: the ids of
    the activity, its organisation and its locations, and ``last_modified`` (when this
    directory changed it: what its own ``/oruk`` ``modified_after`` reads)."""
    document = read.model_dump(mode="json", exclude={"id", "last_modified"})
    if document["organization"] is not None:
        document["organization"].pop("id")
    for location in document["locations"]:
        location.pop("id")
    return document


async def test_the_synced_directory_has_the_same_services(
    round_trip: RoundTrip, sessions: tuple[AsyncSession, AsyncSession]
) -> None:
    source, target = sessions
    source_ids, target_ids = await _by_source_id(source), await _by_source_id(target)
    assert round_trip.first.created == len(source_ids) == DEMO_ACTIVITIES + len(FULL)
    assert (round_trip.first.rejected, round_trip.first.deactivated) == (0, 0)
    assert sorted(target_ids) == sorted(source_ids)
    assert target_ids["full-0"] == sync.activity_id(_feed_id(round_trip), "full-0")

    published = await service.get_many(source, list(source_ids.values()))
    synced = await service.get_many(target, list(target_ids.values()))
    differences = {}
    for key, activity_id in source_ids.items():
        was, now = _canonical(published[activity_id]), _canonical(synced[target_ids[key]])
        if fields := {f: (was[f], now[f]) for f in was if was[f] != now[f]}:
            differences[key] = fields
    assert differences == {}

    # every field the matching engine reads, as its snapshot loads it
    published_view, synced_view = await _snapshot(source), await _snapshot(target)
    for key, activity_id in source_ids.items():
        mapped = dataclasses.replace(synced_view.activities[target_ids[key]], id=activity_id)
        assert mapped == published_view.activities[activity_id]


async def _snapshot(session: AsyncSession) -> snapshot.Directory:
    directory = snapshot.Directory()
    await directory.refresh(session)
    directory.prepare(TODAY)
    return directory


async def _people(session: AsyncSession, count: int) -> list[engine.Person]:
    """People of every kind matching distinguishes, at homes the areas service locates."""
    rng = random.Random(20)
    places = [await areas_service.locate(session, p) for p in POSTCODES]
    people = []
    for _ in range(count):
        place = rng.choice(places)
        location = None
        if place.latitude is not None and place.longitude is not None:
            location = (place.latitude, place.longitude)
        people.append(
            engine.Person(
                age=rng.randint(16, 90),
                max_travel_km=rng.choice([1.0, 3.0, 10.0]),
                gender=rng.choice(["female", "male", None]),
                location=location,
                area_codes=frozenset(c for c in (place.district, place.local_authority_code) if c),
                imd_decile=place.imd_decile,
                needs=tuple(rng.sample([n.value for n in Need], rng.randint(1, 3))),
                interests=frozenset(rng.sample([c.value for c in ActivityCategory], 2)),
                attendance_mode=rng.choice(["any", "in-person", "online", "phone"]),
                digital_access=rng.choice(["none", "limited", "full"]),
                accessibility_needs=frozenset(
                    rng.sample([a.value for a in Accessibility], rng.randint(0, 1))
                ),
                available_days=frozenset(rng.sample(["mon", "tue", "wed", "thu", "fri"], 2))
                if rng.random() < 0.5
                else frozenset(),
                free_only=rng.random() < 0.2,
                languages=(rng.choice(["en", "pl", "bn", "tr"]),),
            )
        )
    return people


def _answer(directory: snapshot.Directory, person: engine.Person, ids: dict[str, str]) -> Any:
    """What ``GET /referrals/{id}/matches`` ranks for ``person`` (its candidates and engine),
    activity ids as ``ids`` maps them; every figure and reason."""
    screened = directory.candidates(person, TODAY)
    found = engine.match(
        person,
        screened.activities,
        today=TODAY,
        suitability=need_category_suitability(),
        limit=10,
        capacity=directory.capacity,
        sited=screened.sited,
    )
    matches = [dataclasses.replace(m, activity_id=ids[m.activity_id]) for m in found.matches]
    return matches, found.eligible, dict(found.excluded), found.warnings


async def test_the_synced_directory_gives_the_same_matches(
    sessions: tuple[AsyncSession, AsyncSession],
) -> None:
    source, target = sessions
    to_source = {v: k for k, v in (await _by_source_id(target)).items()}
    published_view, synced_view = await _snapshot(source), await _snapshot(target)
    people = await _people(source, 60)

    answers = [
        _answer(published_view, p, {i: i for i in published_view.activities}) for p in people
    ]
    assert [_answer(synced_view, p, to_source) for p in people] == answers
    assert sum(len(matches) for matches, *_ in answers) > 200  # most people have matches


async def test_a_second_sync_finds_it_unchanged_and_an_incremental_one_reads_the_change(
    round_trip: RoundTrip, sessions: tuple[AsyncSession, AsyncSession]
) -> None:
    source, _ = sessions
    total = DEMO_ACTIVITIES + len(FULL)
    again = await _sync(round_trip.target_url, round_trip.feed_url, full=True)
    assert (again.created, again.updated, again.unchanged, again.deactivated) == (0, 0, total, 0)

    await source.execute(
        update(Activity)
        .where(Activity.id == "full-2")
        .values(name="Community Choir (new time)", last_modified=utcnow())
    )
    await source.commit()
    changed = await _sync(round_trip.target_url, round_trip.feed_url)

    assert changed.full is False
    assert changed.modified_after == again.started_at
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 0)
    assert [row.id for row in changed.rows] == [sync.activity_id(_feed_id(round_trip), "full-2")]
    assert changed.requests == 2  # one page, one service
