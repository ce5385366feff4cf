"""Hybrid activities with one location given to the engine as `Sited` entries with ``hybrid``
(as the snapshot gives those with a location in the travel box) must count and score exactly as
when given one by one: at, inside and beyond the travel limit, at locations that do and do not
meet the person's needs, next to in-person `Sited` entries that share the profiles' parts."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.matching import rules
from app.matching.engine import (
    Activity,
    Location,
    MatchResult,
    Person,
    Sited,
    SiteProfile,
    Weights,
    days_on,
    match,
    site_entry,
    site_profile,
)
from tests.matching.test_engine_properties import (
    ACCESS,
    SUITABILITY,
    TODAY,
    activity,
    coordinate,
    key,
    open_to,
    people,
    sited_ids,
    weights,
)

near_home = st.tuples(st.floats(53.40, 53.56), st.floats(-2.40, -2.08))  # up to ~12 km away
hybrid_sites = st.builds(
    lambda where, access: Location(*where, frozenset(access)),
    near_home | coordinate,
    st.frozensets(st.sampled_from(ACCESS), max_size=3),
)
Sitable = Literal["hybrid", "in-person"]
kinds = st.sampled_from(["hybrid", "hybrid", "in-person", "other"])


@st.composite
def hybrid_directory(draw: st.DrawFn) -> list[Activity]:
    """Mostly hybrid and in-person activities with one located place around the usual person,
    and some of every other kind."""
    out = []
    for i in draw(sited_ids):
        a = activity(draw, i)
        kind = draw(kinds)
        if kind != "other":
            a = replace(a, attending_type=kind, locations=(draw(hybrid_sites),))
        out.append(a)
    return out


def expected_profile(a: Activity) -> SiteProfile:
    """A sited activity's profile, written from its definition (`engine.SiteProfile`)."""
    return (
        a.locations[0].accessibility,
        frozenset(c.upper() for c in a.service_areas),
        any(o.free or o.amount == 0 for o in a.cost_options),
        days_on(a, TODAY),
    )


def numbered(members: list[Activity], kind: Sitable, rng: random.Random) -> list[Sited]:
    """The members as `Sited` groups of ``kind`` (their profiles shuffled, split in two)."""
    profiles: dict[SiteProfile, list[Activity]] = {}
    for a in members:
        profile = site_profile(a, TODAY, kind)
        assert profile == expected_profile(a)
        profiles.setdefault(profile, []).append(a)
    table = list(profiles)
    rng.shuffle(table)
    entries = [site_entry(a, table.index(p)) for p, group in profiles.items() for a in group]
    rng.shuffle(entries)
    cut = rng.randint(0, len(entries))
    return [
        Sited(part, table, hybrid=kind == "hybrid")
        for part in (entries[:cut], entries[cut:])
        if part
    ]


def one_located_site(a: Activity) -> bool:
    return len(a.locations) == 1 and None not in (a.locations[0].latitude, a.locations[0].longitude)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    person=people,
    activities=hybrid_directory(),
    include_full=st.booleans(),
    limit=st.integers(0, 12),
    weights=weights,
    seed=st.integers(0, 2**32 - 1),
)
def test_sited_hybrids_count_and_score_as_if_given_directly(
    person: Person,
    activities: list[Activity],
    include_full: bool,
    limit: int,
    weights: Weights,
    seed: int,
) -> None:
    """Matches (scores to the last bit, attendance, distances, reasons), counts per rule and
    eligible are those of the plain engine, whose hybrid activities are attended in person
    within reach and else joined online."""
    rng = random.Random(seed)
    capacity = {a.id: rng.choice([None, 0, 1, 5]) for a in activities if rng.random() < 0.2}
    hybrids = [a for a in activities if a.attending_type == "hybrid" and one_located_site(a)]
    if person.location is not None and hybrids and rng.random() < 0.5:
        # exactly at the limit: the travel distance is one hybrid's distance as rule 6 measures it
        far = rules.PersonView.of(replace(person, max_travel_km=20_000.0))
        distance = rules.within_reach(far)([site_entry(rng.choice(hybrids), 0)])[0]
        assert distance is not None
        person = replace(person, max_travel_km=distance)

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

    given_sited: dict[Sitable, list[Activity]] = {"hybrid": [], "in-person": []}
    rest = []
    for a in activities:
        kind = a.attending_type
        if (kind == "hybrid" or kind == "in-person") and one_located_site(a) and open_to(person, a):
            given_sited[kind].append(a)
        else:
            rest.append(a)
    sited = numbered(given_sited["hybrid"], "hybrid", rng)
    sited += numbered(given_sited["in-person"], "in-person", rng)
    rng.shuffle(sited)

    assert key(run(rest, sited)) == key(run(activities, []))
