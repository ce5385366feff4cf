"""The in-person activities as columns (`app.matching.columns`): the snapshot's candidates +
engine, which decide and score the dense in-person path as arrays and score exactly only what
can be among the first, give exactly what the engine gives over every activity one by one.

Random dense directories (hypothesis, no database) with what the arrays could get wrong: many
activities at the same place with the same codes (ties in score, decided by id), locations
1 ulp either side of the travel limit, of `batches.NEARBY_KM` and of the travel box's edges,
full places with and without ``include_full``, places changed after the day was indexed,
``leave_out``, outcome evidence, limits 0, 1, 10 and 50, people without a location, and
people with group wishes or housebound (longer fit keys).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.matching import columns, engine, rules, snapshot
from app.matching.batches import NEARBY_KM
from app.matching.evidence import NO_EVIDENCE, Evidence
from tests.matching.test_engine_properties import (
    ACCESS,
    AREAS,
    CATEGORIES,
    NEEDS,
    SUITABILITY,
    TODAY,
    WEEK,
    mostly,
    weights,
)
from tests.matching.test_snapshot_properties import _in_box

HOME = (51.5545, -0.0560)
TRAVEL_KM = (0.5, 2.0, 5.0)


def _distance(lat: float, lon: float) -> float:
    """From `HOME`, as the engine measures it (`rules.within_reach`)."""
    person = engine.Person(age=40, max_travel_km=1e9, location=HOME)
    found = rules.within_reach(rules.PersonView.of(person))(
        [(None, lat, lon, math.cos(lat * rules.RAD), None)]
    )
    assert found[0] is not None
    return found[0]


def _either_side(km: float) -> list[tuple[float, float]]:
    """Pairs of locations 1 ulp apart (in latitude or longitude) from `HOME`, the first within
    ``km`` as the engine measures, the second beyond: due north, due east and north-east (where
    the travel limit is inside the travel box)."""
    out = []
    for north, east in ((1.0, 0.0), (0.0, 1.0), (1.0, 1.6)):
        low, high = 0.0, km / 20
        while True:
            middle = (low + high) / 2
            if middle in (low, high):
                break
            if _distance(HOME[0] + north * middle, HOME[1] + east * middle) <= km:
                low = middle
            else:
                high = middle
        out += [(HOME[0] + north * t, HOME[1] + east * t) for t in (low, high)]
    return out


def _box_edges(km: float) -> list[tuple[float, float]]:
    """Locations on the travel box's edges and 1 ulp outside them, and its corners (inside the
    box, beyond the travel distance)."""
    south, north, west, east = snapshot.travel_box(HOME, km)
    lat, lon = HOME
    out = []
    for edge, outward in ((south, -math.inf), (north, math.inf)):
        out += [(edge, lon), (math.nextafter(edge, outward), lon)]
    for edge, outward in ((west, -math.inf), (east, math.inf)):
        out += [(lat, edge), (lat, math.nextafter(edge, outward))]
    return [*out, (south, west), (north, east)]


# a few places, so that many activities share one (ties), and the edges of every limit
SPOTS = [HOME, (51.5560, -0.0540), (51.5500, -0.0600), (51.5620, -0.0500)]
EDGES = [p for km in (*TRAVEL_KM, NEARBY_KM) for p in _either_side(km) + _box_edges(km)]
SITUATIONS = ["housebound", "fatigue", "lung-condition", "homelessness", "sight-loss"]
TRAITS = ["home", "small", "quiet", "busy", "strenuous", "gym"]


@st.composite
def dense_activity(draw: st.DrawFn, id: str) -> engine.Activity:
    """Mostly in person at one place near `HOME` that passes rules 1 and 2, from few codes."""
    where = draw(
        st.sampled_from(SPOTS)
        | st.sampled_from(EDGES)
        | st.tuples(st.floats(51.50, 51.61), st.floats(-0.15, 0.04))
    )
    access = draw(mostly(frozenset(), st.frozensets(st.sampled_from(ACCESS), max_size=2)))
    site = engine.Location(*where, access)
    kind = draw(mostly("in-person", st.sampled_from(["online", "phone", "hybrid", "in-person"])))
    extra = draw(mostly(0, st.integers(1, 2)))
    others = [draw(st.sampled_from(SPOTS + EDGES)) for _ in range(extra)]
    locations = (site, *(engine.Location(*where, frozenset()) for where in others))
    return engine.Activity(
        id=id,
        name=f"Activity {id}",
        status=draw(mostly("active", st.just("inactive"))),
        accepting_referrals=True,
        attending_type=kind,
        minimum_age=draw(mostly(None, st.just(60))),
        eligibility_gender=draw(mostly(None, st.sampled_from(["female", "male"]))),
        capacity_available=draw(mostly(None, st.sampled_from([0, 1, 5]))),
        capacity_maximum=draw(st.sampled_from([None, 8, 30])),
        categories=draw(st.sampled_from([frozenset(), *(frozenset({c}) for c in CATEGORIES)])),
        target_needs=draw(mostly(frozenset(), st.frozensets(st.sampled_from(NEEDS), max_size=1))),
        locations=locations,
        service_areas=draw(mostly(frozenset(), st.frozensets(st.sampled_from(AREAS), max_size=1))),
        schedules=draw(
            mostly(
                (),
                st.tuples(
                    st.builds(
                        engine.Schedule,
                        byday=st.frozensets(st.sampled_from(WEEK), min_size=1, max_size=2),
                    )
                ),
            )
        ),
        cost_options=draw(mostly((), st.just((engine.CostOption(free=True),)))),
        languages=draw(mostly(frozenset(), st.just(frozenset({"pl"})))),
        near_public_transport=draw(st.sampled_from([None, True, False])),
        situations=draw(
            mostly(
                frozenset(),
                st.sampled_from(
                    [
                        frozenset({"sight-loss"}),
                        frozenset({"tenant"}),
                        frozenset({"lung-condition"}),
                    ]
                ),
            )
        ),
        group_traits=draw(st.frozensets(st.sampled_from(TRAITS), max_size=2)),
    )


@st.composite
def dense_directory(draw: st.DrawFn) -> list[engine.Activity]:
    n = draw(st.integers(0, 90))
    return [draw(dense_activity(f"a{i:03d}")) for i in range(n)]


dense_people = st.builds(
    engine.Person,
    age=st.sampled_from([30, 70]),
    max_travel_km=st.sampled_from(TRAVEL_KM),
    gender=st.none() | st.sampled_from(["female", "male"]),
    location=mostly(HOME, st.none() | st.just((51.5600, -0.0700))),
    area_codes=st.frozensets(st.sampled_from(AREAS), max_size=1),
    imd_decile=st.none() | st.sampled_from([2, 8]),
    needs=st.lists(st.sampled_from(NEEDS), max_size=2).map(tuple),
    interests=st.frozensets(st.sampled_from(CATEGORIES), max_size=2),
    attendance_mode=st.sampled_from(["in-person", "online", "any"]),
    digital_access=st.sampled_from(["none", "full"]),
    accessibility_needs=mostly(frozenset(), st.frozensets(st.sampled_from(ACCESS), max_size=1)),
    available_days=mostly(frozenset(), st.frozensets(st.sampled_from(WEEK), max_size=3)),
    free_only=mostly(False, st.just(True)),
    languages=mostly((), st.just(("pl",))),
    situations=mostly(frozenset(), st.frozensets(st.sampled_from(SITUATIONS), max_size=2)),
    group_wishes=mostly(
        frozenset(), st.frozensets(st.sampled_from(sorted(engine.GROUP_WISHES)), max_size=2)
    ),
)


def _compare(
    person: engine.Person,
    activities: list[engine.Activity],
    places: dict[str, int | None],
    include_full: bool,
    limit: int,
    leave_out: frozenset[str],
    evidence: Evidence,
    weights: engine.Weights,
    today: date = TODAY,
) -> None:
    """The snapshot's path (the dense in-person path as columns) and the engine over every
    activity agree on everything, where the travel box decides as the snapshot documents it:
    the in-person activities with no location inside it are counted under rule 6 (the
    counting rule of docs/matching.md) and the hybrid ones are joined online (their online
    views); the box is slightly smaller than the travel distance (`snapshot.KM_PER_DEGREE`)."""
    snap = snapshot.Directory()
    snap.activities = {a.id: a for a in activities}
    snap.prepare(today)  # indexed before the places changed
    screened = snap.candidates(person, today)
    asked: dict[str, Any] = {
        "today": today,
        "suitability": SUITABILITY,
        "weights": weights,
        "limit": limit,
        "include_full": include_full,
        "capacity": places,
        "evidence": evidence,
        "leave_out": leave_out,
    }
    fast = engine.match(person, screened.activities, sited=screened.sited, **asked)
    box = (
        None
        if person.location is None
        else snapshot.travel_box(person.location, person.max_travel_km)
    )
    inside = [a for a in activities if box is not None and _in_box(a, box)]
    outside = [a for a in activities if a.attending_type == "in-person" and a not in inside]
    # a hybrid activity with no location in the box is joined online (its online view)
    given = [
        replace(a, attending_type="online", locations=())
        if a.attending_type == "hybrid" and a not in inside
        else a
        for a in activities
        if a not in outside
    ]
    slow = engine.match(person, given, **asked)
    expected = dict(slow.excluded)
    expected[engine.Rule.TRAVEL_DISTANCE] += len(outside)
    assert {r: fast.excluded[r] + screened.excluded[r] for r in engine.Rule} == expected
    assert fast.matches == slow.matches
    assert fast.eligible == slow.eligible
    assert fast.warnings == slow.warnings


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    person=dense_people,
    activities=dense_directory(),
    data=st.data(),
    include_full=st.booleans(),
    limit=st.sampled_from([0, 1, 10, 50]),
    weights=weights,
)
def test_dense_directories_match_as_the_engine_one_by_one(
    person: engine.Person,
    activities: list[engine.Activity],
    data: st.DataObject,
    include_full: bool,
    limit: int,
    weights: engine.Weights,
) -> None:
    ids = [a.id for a in activities]
    pick = st.sampled_from(ids) if ids else st.nothing()
    places = (
        data.draw(st.dictionaries(pick, st.none() | st.integers(-1, 3), max_size=8)) if ids else {}
    )
    leave_out = data.draw(st.frozensets(pick, max_size=4)) if ids else frozenset()
    values = data.draw(st.dictionaries(pick, st.floats(0, 1), max_size=10)) if ids else {}
    evidence = Evidence(values, dict.fromkeys(values, ("evidence",))) if values else NO_EVIDENCE
    _compare(person, activities, places, include_full, limit, leave_out, evidence, weights)


def _compare_every_limit(
    person: engine.Person,
    activities: list[engine.Activity],
    places: dict[str, int | None],
    leave_out: set[str],
    evidence: Evidence,
) -> None:
    """`_compare` with limits 0, 1, 10 and 50, with and without full activities."""
    for limit in (0, 1, 10, 50):
        for include_full in (False, True):
            _compare(
                person,
                activities,
                places,
                include_full,
                limit,
                frozenset(leave_out),
                evidence,
                engine.DEFAULT_WEIGHTS,
            )


def _crowd(n: int) -> list[engine.Activity]:
    """``n`` in-person activities around `HOME` that pass every rule, at the spots and the
    edges, in few kinds (so many tie)."""
    out = []
    places = SPOTS + EDGES
    for i in range(n):
        out.append(
            engine.Activity(
                id=f"c{i:04d}",
                name=f"Crowd {i}",
                status="active",
                accepting_referrals=True,
                attending_type="in-person",
                capacity_available=[None, 0, 4][i % 3],
                categories=frozenset({CATEGORIES[i % len(CATEGORIES)]}),
                target_needs=frozenset({NEEDS[i % 5]}) if i % 5 < len(NEEDS) else frozenset(),
                locations=(engine.Location(*places[i % len(places)]),),
                near_public_transport=bool(i % 2),
                group_traits=frozenset({"home"}) if i % 7 == 0 else frozenset(),
            )
        )
    return out


def test_only_what_can_be_among_the_first_is_scored_one_by_one() -> None:
    """In a crowd, `columns.split` hands the engine few of the eligible rows, and the result is
    the engine's over every activity."""
    crowd = _crowd(600)
    person = engine.Person(
        age=40, max_travel_km=2.0, location=HOME, needs=("low-mood",), imd_decile=2
    )
    snap = snapshot.Directory()
    snap.activities = {a.id: a for a in crowd}
    screened = snap.candidates(person, TODAY)
    (rows,) = [g for g in screened.sited if isinstance(g, columns.SiteRows)]
    scoring = engine.Scoring.of(person, SUITABILITY, engine.DEFAULT_WEIGHTS)
    excluded = [0] * (max(engine.Rule) + 1)
    view = rules.PersonView.of(person)
    entries, decided, _ = columns.split(rows, person, view, scoring, 15, None, False, excluded)
    assert 15 <= len(entries) < 60 < decided
    assert excluded[engine.Rule.CAPACITY] > 0
    assert excluded[engine.Rule.TRAVEL_DISTANCE] > 0
    _compare_every_limit(person, crowd, {"c0001": 3, "c0003": 0}, {"c0002"}, NO_EVIDENCE)
    housebound = replace(
        person, situations=frozenset({"housebound"}), group_wishes=frozenset({"quiet"})
    )
    _compare(
        housebound,
        crowd,
        {},
        False,
        10,
        frozenset(),
        Evidence({"c0010": 0.9}, {}),
        engine.DEFAULT_WEIGHTS,
    )


def _hybrid_crowd(n: int) -> list[engine.Activity]:
    """``n`` hybrid activities at the spots, the edges and far away, in few kinds, some with a
    step-free location only, some free, some on other days."""
    far = [(52.4862, -1.8904), (53.4808, -2.2426)]  # Birmingham, Manchester: joined online
    places = SPOTS + EDGES + far
    out = []
    for i, a in enumerate(_crowd(n)):
        lat, lon = places[i % len(places)]
        out.append(
            replace(
                a,
                id=f"h{i:04d}",
                attending_type="hybrid",
                locations=(
                    engine.Location(
                        lat, lon, frozenset({"step-free"}) if i % 4 == 0 else frozenset()
                    ),
                ),
                cost_options=(engine.CostOption(free=bool(i % 3)),),
                schedules=(engine.Schedule(byday=frozenset({"mon"} if i % 5 else {"sat"})),),
            )
        )
    return out


def test_hybrid_rows_hand_the_engine_only_what_can_be_among_the_first() -> None:
    """Hybrid activities with one location, inside the box or not, within reach or not, go to
    the engine as table rows: `columns.first_joinable` hands it few of the eligible ones (those
    in the box as entries, the others as online views), and the result is the engine's over
    every activity, whether the person needs step-free access, can go online, has few options
    nearby (online raised) or lives in a deprived area."""
    crowd = _hybrid_crowd(600) + _crowd(30)  # and a few in person, so few are nearby
    person = engine.Person(
        age=40,
        max_travel_km=2.0,
        location=HOME,
        needs=("low-mood",),
        imd_decile=2,
        available_days=frozenset({"mon", "tue"}),
    )
    snap = snapshot.Directory()
    snap.activities = {a.id: a for a in crowd}
    screened = snap.candidates(person, TODAY)
    (rows,) = [g for g in screened.sited if isinstance(g, columns.SiteRows) and g.boxed is not None]
    assert rows.boxed is not None
    assert 0 < len(rows.boxed) < len(rows) == 600
    kept = []
    for who in (person, replace(person, attendance_mode="online")):  # in person first, or not
        scoring = engine.Scoring.of(who, SUITABILITY, engine.DEFAULT_WEIGHTS)
        excluded = [0] * (max(engine.Rule) + 1)
        view = rules.PersonView.of(who)
        decided = columns.decide_joinable(rows, who, view, scoring, None, False, True, excluded)
        entries, online = columns.first_joinable(decided, scoring, 15)
        assert 15 <= len(entries) + len(online) < 60 < len(decided.eligible)
        assert excluded[engine.Rule.CAPACITY] > 0
        assert excluded[engine.Rule.AVAILABLE_DAYS] > 0
        kept.append((len(entries), len(online)))
    assert kept[0][0] > 0
    assert kept[1][1] > 0
    people = [
        person,
        replace(person, accessibility_needs=frozenset({"step-free"})),
        replace(person, digital_access="none", free_only=True),
        replace(person, attendance_mode="online", imd_decile=9),
        replace(person, location=None),
    ]
    for who in people:
        evidence = Evidence({"h0010": 0.9}, {})
        _compare_every_limit(who, crowd, {"h0001": 3, "h0003": 0}, {"h0002"}, evidence)
