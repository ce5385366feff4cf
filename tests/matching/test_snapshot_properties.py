"""The snapshot's candidates + engine give exactly what the engine gives over every activity,
for random directories, people, days and places (hypothesis, no database).

`tests/matching/test_snapshot.py` checks the same on a seeded demo directory read from the
database; random directories add what the demo lacks: activities with several locations, many
activities in one grid cell, boxes from a few cells to many, any mix of places changed since
the snapshot was indexed.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.matching import engine, snapshot
from tests.matching.test_engine_properties import (
    SUITABILITY,
    TODAY,
    directory,
    mostly,
    people,
    sited_directory,
)


def _in_box(activity: engine.Activity, box: snapshot.Box) -> bool:
    south, north, west, east = box
    return any(
        loc.latitude is not None
        and loc.longitude is not None
        and south <= loc.latitude <= north
        and west <= loc.longitude <= east
        for loc in activity.locations
    )


def outside_the_box(
    person: engine.Person, activities: list[engine.Activity]
) -> list[engine.Activity]:
    """The in-person activities with no location in the person's travel box (all of them when
    the person's location is unknown): the snapshot counts them under rule 6 unseen."""
    box = (
        None
        if person.location is None
        else snapshot.travel_box(person.location, person.max_travel_km)
    )
    return [
        a
        for a in activities
        if a.attending_type == "in-person" and (box is None or not _in_box(a, box))
    ]


def _compare(
    person: engine.Person,
    activities: list[engine.Activity],
    today: date,
    places: dict[str, int | None],
    include_full: bool,
) -> None:
    """Matches (order, scores, reasons), ``eligible`` and the count per rule agree, with the
    in-person activities with no location in the travel box counted under rule 6 unvisited
    (the counting rule of docs/matching.md)."""
    snap = snapshot.Directory()
    snap.activities = {a.id: a for a in activities}
    screened = snap.candidates(person, today)
    fast = engine.match(
        person,
        screened.activities,
        today=today,
        suitability=SUITABILITY,
        limit=50,
        include_full=include_full,
        capacity=places,
        sited=screened.sited,
        ids_unique=True,
    )
    outside = outside_the_box(person, activities)
    slow = engine.match(
        person,
        [a for a in activities if a not in outside],
        today=today,
        suitability=SUITABILITY,
        limit=50,
        include_full=include_full,
        capacity=places,
    )
    expected = dict(slow.excluded)
    expected[engine.Rule.TRAVEL_DISTANCE] += len(outside)
    assert {r: fast.excluded[r] + screened.excluded[r] for r in engine.Rule} == expected
    assert fast.matches == slow.matches
    assert fast.eligible == slow.eligible


changes = st.lists(st.tuples(st.integers(0, 40), st.none() | st.integers(-1, 4)), max_size=6)


@pytest.mark.parametrize(
    "directories",
    # any mix; mostly in-person activities with one location, which the snapshot hands the
    # engine as `engine.Sited` entries of the day's numbered profiles (a wrong profile for an
    # entry changes the counts or the matches)
    [directory(), sited_directory()],
    ids=["any", "sited"],
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    person=people,
    data=st.data(),
    shift=st.sampled_from([0, -20, 20]),
    include_full=st.booleans(),
    changed=changes,
)
def test_random_directories(
    directories: st.SearchStrategy[list[engine.Activity]],
    person: engine.Person,
    data: st.DataObject,
    shift: int,
    include_full: bool,
    changed: list[tuple[int, int | None]],
) -> None:
    activities = data.draw(directories)
    places = {activities[i].id: n for i, n in changed if i < len(activities)}
    _compare(person, activities, TODAY + timedelta(days=shift), places, include_full)


HOME = (53.4801, -2.2412)


# Made once (hypothesis validates a strategy object on its first draw): per size of the box,
# its locations; and the parts of an activity that do not depend on it.
BOX_LOCATIONS: dict[float, st.SearchStrategy[engine.Location]] = {}
for _km in (0.5, 2.0, 5.0):
    _south, _north, _west, _east = snapshot.travel_box(HOME, _km)
    BOX_LOCATIONS[_km] = st.builds(
        engine.Location,
        st.floats(_south - 0.03, _north + 0.03),
        st.floats(_west - 0.03, _east + 0.03),
    )
box_counts = st.integers(1, 40)
place_counts = mostly(1, st.integers(2, 3))
box_statuses = st.sampled_from(["active", "active", "inactive"])
box_attending = st.sampled_from(["in-person", "in-person", "hybrid"])
box_minimum_ages = st.sampled_from([None, None, 50])
box_capacities = st.sampled_from([None, 0, 3])


@st.composite
def around_the_box(draw: st.DrawFn, km: float) -> list[engine.Activity]:
    """In-person activities on both sides of the edges of the travel box around `HOME`, many
    in the grid cells it cuts, some with several locations; a third not listed or for other
    ages."""
    location = BOX_LOCATIONS[km]
    made = []
    for i in range(draw(box_counts)):
        places = draw(place_counts)
        made.append(
            engine.Activity(
                id=f"a{i}",
                name="",
                status=draw(box_statuses),
                accepting_referrals=True,
                attending_type=draw(box_attending),
                minimum_age=draw(box_minimum_ages),
                capacity_available=draw(box_capacities),
                locations=tuple(draw(st.lists(location, min_size=places, max_size=places))),
            )
        )
    return made


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    km=st.sampled_from(list(BOX_LOCATIONS)),
    age=st.sampled_from([30, 70]),
    data=st.data(),
    include_full=st.booleans(),
    changed=changes,
)
def test_activities_around_the_edges_of_the_travel_box(
    km: float, age: int, data: st.DataObject, include_full: bool, changed: list[tuple[int, int]]
) -> None:
    activities = data.draw(around_the_box(km))
    person = engine.Person(age=age, max_travel_km=km, location=HOME)
    places = {activities[i].id: n for i, n in changed if i < len(activities)}
    _compare(person, activities, TODAY, places, include_full)
