"""Properties of the matching engine over random directories and people (hypothesis).

The hard rules are checked by `attendable`, written here from DESIGN.md section 7 without the
engine's code, so a mistake in the engine's rules cannot hide behind the same mistake here.
"""

from __future__ import annotations

import math
import random
from dataclasses import fields, replace
from datetime import date, timedelta
from typing import TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.matching.engine import (
    Activity,
    Components,
    CostOption,
    Location,
    Match,
    MatchResult,
    Person,
    Schedule,
    Sited,
    SiteProfile,
    Weights,
    days_on,
    match,
    site_entry,
    site_profile,
)
from app.matching.scoring import interests_met

TODAY = date(2026, 11, 27)
CATEGORIES = [
    "music-singing",
    "walking",
    "nature-green",
    "advice-welfare",
    "social-groups",
    "physical-activity",
]
NEEDS = ["loneliness-isolation", "low-mood", "debt-finance", "housing"]
ACCESS = ["wheelchair", "step-free", "hearing-loop", "bsl"]
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
AREAS = ["M1", "M2", "E08000003", "E08000001"]
SUITABILITY = {
    "loneliness-isolation": {"music-singing": 0.8, "social-groups": 0.9, "walking": 0.5},
    "low-mood": {"nature-green": 0.8, "walking": 0.7},
    "debt-finance": {"advice-welfare": 1.0},
}

T = TypeVar("T")


def mostly(usual: T, other: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """`usual` seven times in eight, so that many activities pass every rule."""
    just = st.just(usual)
    return st.integers(0, 7).flatmap(lambda k: other if k == 7 else just)


# Mostly within a few km of each other, sometimes across the county.
coordinate = st.tuples(st.floats(53.44, 53.52), st.floats(-2.32, -2.18)) | st.tuples(
    st.floats(53.2, 53.8), st.floats(-2.7, -1.8)
)


def day_offset() -> st.SearchStrategy[date | None]:
    return mostly(None, st.integers(-30, 30).map(lambda d: TODAY + timedelta(days=d)))


locations = st.builds(
    lambda where, access: Location(*(where or (None, None)), frozenset(access)),
    mostly((53.48, -2.24), coordinate) | coordinate | st.none(),
    st.frozensets(st.sampled_from(ACCESS)),
)
schedules = st.builds(
    Schedule,
    byday=mostly(frozenset({"tue"}), st.frozensets(st.sampled_from(WEEK), max_size=3))
    | st.frozensets(st.sampled_from(WEEK), min_size=1, max_size=2),
    freq=mostly("weekly", st.sampled_from([None, "daily", "monthly"])),
    valid_from=day_offset(),
    valid_to=day_offset(),
)
costs = st.builds(CostOption, free=st.booleans(), amount=st.sampled_from([None, 0.0, 2.5, 10.0]))


# An activity's parts, made once: hypothesis validates each strategy object the first time it
# draws from it, and making them afresh for every activity was most of these tests' time.
minimum_ages = mostly(None, st.integers(0, 80))
maximum_ages = [mostly(None, st.integers(low, 100)) for low in range(81)]
statuses = mostly("active", st.sampled_from(["inactive", "defunct"]))
accepting = mostly(True, st.just(False))
attending_types = st.sampled_from(["in-person", "online", "phone", "hybrid"])
genders = mostly(None, st.sampled_from(["female", "male", "Female"]))
capacities_available = st.none() | st.integers(-1, 8)
capacities_maximum = st.none() | st.integers(0, 20)
category_sets = st.frozensets(st.sampled_from(CATEGORIES), max_size=3)
need_sets = st.frozensets(st.sampled_from(NEEDS), max_size=2)
location_lists = st.lists(locations, max_size=3)
area_sets = mostly(frozenset(), st.frozensets(st.sampled_from(AREAS), max_size=2))
schedule_lists = st.lists(schedules, max_size=2)
cost_lists = st.lists(costs, max_size=2)
language_sets = st.frozensets(st.sampled_from(["en", "pl", "ur-PK"]), max_size=2)
transport = st.none() | st.booleans()


@st.composite
def any_activity(draw: st.DrawFn) -> Activity:
    """An activity without its id and name (`activity` gives them)."""
    minimum = draw(minimum_ages)
    return Activity(
        id="",
        name="",
        status=draw(statuses),
        accepting_referrals=draw(accepting),
        attending_type=draw(attending_types),
        minimum_age=minimum,
        maximum_age=draw(maximum_ages[minimum or 0]),
        eligibility_gender=draw(genders),
        capacity_available=draw(capacities_available),
        capacity_maximum=draw(capacities_maximum),
        categories=draw(category_sets),
        target_needs=draw(need_sets),
        locations=tuple(draw(location_lists)),
        service_areas=draw(area_sets),
        schedules=tuple(draw(schedule_lists)),
        cost_options=tuple(draw(cost_lists)),
        languages=draw(language_sets),
        near_public_transport=draw(transport),
    )


activities = any_activity()


def activity(draw: st.DrawFn, id: str) -> Activity:
    """An activity with the id ``id``, drawn with ``draw`` (one strategy for every id)."""
    return replace(draw(activities), id=id, name=f"Activity {id}")


directory_ids = st.lists(st.text("abcdef", min_size=1, max_size=3), max_size=25, unique=True)
sited_ids = st.lists(st.text("abcdef", min_size=1, max_size=3), max_size=40, unique=True)


@st.composite
def directory(draw: st.DrawFn) -> list[Activity]:
    ids = draw(directory_ids)
    return [activity(draw, i) for i in ids]


people = st.builds(
    Person,
    age=st.integers(0, 100),
    max_travel_km=st.sampled_from([0.0, 2.0, 5.0, 10.0, 25.0]),
    gender=st.none() | st.sampled_from(["female", "male"]),
    location=mostly((53.48, -2.24), coordinate | st.none()),
    area_codes=st.frozensets(st.sampled_from(AREAS), max_size=2),
    imd_decile=st.none() | st.integers(1, 10),
    needs=st.lists(st.sampled_from(NEEDS), max_size=3).map(tuple),
    interests=st.frozensets(st.sampled_from(CATEGORIES), max_size=3),
    attendance_mode=st.sampled_from(["in-person", "online", "phone", "any"]),
    digital_access=st.sampled_from(["none", "limited", "full"]),
    accessibility_needs=st.just(frozenset()) | st.frozensets(st.sampled_from(ACCESS), max_size=2),
    available_days=st.just(frozenset()) | st.frozensets(st.sampled_from(WEEK), max_size=4),
    free_only=st.booleans(),
    languages=st.lists(st.sampled_from(["en", "pl", "ur"]), max_size=2).map(tuple),
)
weights = st.just(Weights()) | st.lists(
    st.floats(0, 1).map(lambda x: round(x, 3)), min_size=7, max_size=7
).filter(lambda ws: sum(ws) > 0).map(lambda ws: Weights(*ws))


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The central angle by the atan2 (Vincenty, sphere) formula, not the engine's haversine."""
    (p1, l1), (p2, l2) = (map(math.radians, point) for point in (a, b))
    dl = l2 - l1
    across = math.hypot(
        math.cos(p2) * math.sin(dl),
        math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl),
    )
    along = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0088 * math.atan2(across, along)


def usable_places(person: Person, activity: Activity) -> list[float]:
    """Distances to the locations the person could attend in person (rules 5 and 6)."""
    if person.location is None:
        return []
    out = []
    for loc in activity.locations:
        if loc.latitude is None or loc.longitude is None:
            continue
        has = loc.accessibility
        if "wheelchair" in person.accessibility_needs and "wheelchair" not in has:
            continue
        if "step-free" in person.accessibility_needs and not {"step-free", "wheelchair"} & has:
            continue
        others = person.accessibility_needs - {"wheelchair", "step-free"}
        if not others <= has:
            continue
        km = great_circle_km(person.location, (loc.latitude, loc.longitude))
        if km <= person.max_travel_km + 1e-6:
            out.append(km)
    return out


def running_days(activity: Activity) -> set[str] | None:
    days: set[str] = set()
    for s in activity.schedules:
        if (s.valid_from or date.min) <= TODAY <= (s.valid_to or date.max):
            if s.byday:
                days |= s.byday
            elif s.freq == "daily":
                days |= set(WEEK)
            else:
                return None
    return days or None


def attendable(person: Person, activity: Activity, include_full: bool) -> bool:
    """DESIGN 7's nine hard rules, read independently of the engine."""
    if activity.status != "active" or not activity.accepting_referrals:
        return False
    if activity.schedules and not any(
        (s.valid_from is None or s.valid_from <= TODAY)
        and (s.valid_to is None or s.valid_to >= TODAY)
        for s in activity.schedules
    ):
        return False
    if activity.minimum_age is not None and person.age < activity.minimum_age:
        return False
    if activity.maximum_age is not None and person.age > activity.maximum_age:
        return False
    if activity.eligibility_gender is not None and (
        (person.gender or "").casefold() != activity.eligibility_gender.casefold()
    ):
        return False
    full = activity.capacity_available is not None and activity.capacity_available < 1
    if full and not include_full:
        return False
    can_go = bool(usable_places(person, activity))
    can_join_online = person.digital_access != "none"
    kind = activity.attending_type
    if kind == "in-person" and not can_go:
        return False
    if kind == "online" and not can_join_online:
        return False
    if kind == "hybrid" and not (can_go or can_join_online):
        return False
    if activity.service_areas and not (
        {a.upper() for a in activity.service_areas} & {a.upper() for a in person.area_codes}
    ):
        return False
    if person.free_only and not any(c.free or c.amount == 0 for c in activity.cost_options):
        return False
    days = running_days(activity)
    return not (person.available_days and days and not (days & person.available_days))


def check_match(person: Person, activity: Activity, m: Match, weights: Weights) -> None:
    """Components in range, the score their weighted mean, and reasons that are true."""
    values = {f.name: getattr(m.components, f.name) for f in fields(Components)}
    assert all(0.0 <= v <= 1.0 for v in values.values()), values
    assert 0.0 <= m.score <= 1.0
    expected = sum(getattr(weights, k) * v for k, v in values.items()) / weights.total
    assert math.isclose(m.score, min(1.0, expected), abs_tol=1e-9)

    places = usable_places(person, activity)
    if m.attendance == "in-person":
        assert activity.attending_type in {"in-person", "hybrid"}
        assert m.distance_km is not None
        assert math.isclose(m.distance_km, min(places), abs_tol=1e-6)
        shown = f"{m.distance_km:.1f} km away" if m.distance_km >= 0.05 else "Under 0.1 km away"
        assert shown in m.reasons
        nearby = 0.5 if person.attendance_mode in ("online", "phone") else 1.0
        assert values["proximity"] >= nearby * 0.5 ** (m.distance_km / 3) - 1e-12
    else:
        assert m.distance_km is None
        assert not any(r.endswith("km away") for r in m.reasons)
        expected_kind = {"online": {"online", "hybrid"}, "phone": {"phone"}}[m.attendance]
        assert activity.attending_type in expected_kind
        if activity.attending_type == "hybrid":
            assert not places
        assert ("Online" if m.attendance == "online" else "By phone") in m.reasons

    free = any(c.free or c.amount == 0 for c in activity.cost_options)
    assert ("Free" in m.reasons) is free
    targets = [r for r in m.reasons if r.startswith("Targets ")]
    assert len(targets) == len(set(person.needs) & activity.target_needs)
    shared = interests_met(person.interests, activity.categories)
    assert any(r.startswith("Matches interest in ") for r in m.reasons) is bool(shared)
    assert m.waitlist is (
        activity.capacity_available is not None and activity.capacity_available < 1
    )
    assert ("Full: waiting list" in m.reasons) is m.waitlist
    if activity.capacity_available is not None and not m.waitlist:
        n = activity.capacity_available
        assert f"{n} place{'s' if n != 1 else ''} left" in m.reasons
    if person.imd_decile is None or person.imd_decile > 3:
        assert values["equity"] == 0.0


def key(result: MatchResult) -> tuple[object, ...]:
    return (result.matches, tuple(result.excluded.items()), result.eligible, result.warnings)


def open_to(person: Person, activity: Activity) -> bool:
    """Rules 1 and 2 (this file's reading): listed, a schedule valid today, age and gender."""
    return (
        activity.status == "active"
        and activity.accepting_referrals
        and (
            not activity.schedules
            or any(
                (s.valid_from or date.min) <= TODAY <= (s.valid_to or date.max)
                for s in activity.schedules
            )
        )
        and (activity.minimum_age is None or person.age >= activity.minimum_age)
        and (activity.maximum_age is None or person.age <= activity.maximum_age)
        and (
            activity.eligibility_gender is None
            or (person.gender or "").casefold() == activity.eligibility_gender.casefold()
        )
    )


def one_site(activity: Activity) -> bool:
    """In person at exactly one location with finite coordinates."""
    if activity.attending_type != "in-person" or len(activity.locations) != 1:
        return False
    lat, lon = activity.locations[0].latitude, activity.locations[0].longitude
    return lat is not None and lon is not None and math.isfinite(lat) and math.isfinite(lon)


sites = st.builds(
    lambda where, access: Location(*where, frozenset(access)),
    coordinate,
    st.frozensets(st.sampled_from(ACCESS)),
)
zero_to_three = st.integers(0, 3)


@st.composite
def sited_directory(draw: st.DrawFn) -> list[Activity]:
    """Mostly in-person activities with one located place near the usual person, and some of
    every other kind (`directory`)."""
    ids = draw(sited_ids)
    out = []
    for i in ids:
        a = activity(draw, i)
        if draw(zero_to_three):
            a = replace(a, attending_type="in-person", locations=(draw(sites),))
        out.append(a)
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    person=people,
    activities=sited_directory(),
    include_full=st.booleans(),
    limit=st.integers(0, 12),
    weights=weights,
    seed=st.integers(0, 2**32 - 1),
)
def test_sited_activities_count_and_score_as_if_given_directly(
    person: Person,
    activities: list[Activity],
    include_full: bool,
    limit: int,
    weights: Weights,
    seed: int,
) -> None:
    """The snapshot hands the engine the in-person activities with one location that pass
    rules 1 and 2 as `Sited` entries with numbered profiles: the result (matches, scores to
    the last bit, reasons, counts per rule, eligible) must be the same as giving them as plain
    activities, whatever the profiles' numbering, the split into groups and the places
    changed since (``capacity``)."""
    rng = random.Random(seed)
    capacity = {a.id: rng.choice([None, 0, 1, 5]) for a in activities if rng.random() < 0.2}

    def run(items: list[Activity], sited: list[Sited]) -> MatchResult:
        return match(
            person,
            items,
            today=TODAY,
            suitability=SUITABILITY,
            weights=weights,
            limit=limit,
            include_full=include_full,
            capacity=capacity,
            sited=sited,
        )

    profiles: dict[SiteProfile, list[Activity]] = {}
    rest = []
    for a in activities:
        if one_site(a) and open_to(person, a):
            profile = (
                a.locations[0].accessibility,
                frozenset(c.upper() for c in a.service_areas),
                any(o.free or o.amount == 0 for o in a.cost_options),
                days_on(a, TODAY),
            )
            assert site_profile(a, TODAY) == profile
            profiles.setdefault(profile, []).append(a)
        else:
            assert site_profile(a, TODAY) is None or not open_to(person, a)
            rest.append(a)
    table = list(profiles)
    rng.shuffle(table)
    entries = [site_entry(a, table.index(p)) for p, members in profiles.items() for a in members]
    rng.shuffle(entries)
    cut = rng.randint(0, len(entries))
    sited = [Sited(part, table) for part in (entries[:cut], entries[cut:]) if part]

    assert key(run(rest, sited)) == key(run(activities, []))
