"""The indexed prefilter + engine give exactly what the engine gives over the whole directory.

Brute force: every activity of a seeded demo directory goes through the engine, except the
in-person activities with no location inside the travel box, which the counting rule of
docs/matching.md counts under rule 6 without reading them. Matches (order, scores, reasons),
`eligible` and every exclusion count must be identical.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.seed import DemoOptions, seed_directory
from app.matching import engine, repository
from app.terminology.suitability import need_category_suitability

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
    dlat = person.max_travel_km / repository.KM_PER_DEGREE
    dlon = person.max_travel_km / (
        repository.KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01)
    )
    return any(
        loc.latitude is not None
        and loc.longitude is not None
        and lat - dlat <= loc.latitude <= lat + dlat
        and lon - dlon <= loc.longitude <= lon + dlon
        for loc in activity.locations
    )


@pytest.mark.parametrize("include_full", [False, True])
async def test_prefilter_and_counts_agree_with_the_engine_over_everything(
    session: AsyncSession, include_full: bool
) -> None:
    await seed_directory(session, DemoOptions(activities=400, seed=5))
    everything = await repository._load(
        session, list(await session.execute(select(*repository._BASE)))
    )
    assert len(everything) == 400
    suitability = need_category_suitability()
    checked_rules: set[engine.Rule] = set()
    for person in PEOPLE:
        for today in DAYS:
            screened = await repository.candidates(
                session,
                repository.Prefilter(
                    location=person.location,
                    max_travel_km=person.max_travel_km,
                    age=person.age,
                    gender=person.gender,
                    today=today,
                    include_full=include_full,
                ),
            )
            fast = engine.match(
                person,
                screened.activities,
                today=today,
                suitability=suitability,
                limit=50,
                include_full=include_full,
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
            got = {r: fast.excluded[r] + screened.excluded.get(r, 0) for r in engine.Rule}
            assert got == expected, (person, today)
            assert fast.matches == slow.matches, (person, today)
            assert fast.eligible == slow.eligible
            assert sum(got.values()) + fast.eligible == len(everything)
            assert len(screened.activities) < len(everything)
            checked_rules |= {r for r, n in got.items() if n}
    # the cases exercise every rule the prefilter counts, and the engine's
    assert checked_rules >= {
        engine.Rule.ACTIVE,
        engine.Rule.ELIGIBILITY,
        engine.Rule.TRAVEL_DISTANCE,
        engine.Rule.ACCESSIBILITY,
        engine.Rule.DIGITAL_ACCESS,
        engine.Rule.COST,
    }
