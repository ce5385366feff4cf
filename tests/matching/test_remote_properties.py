"""The snapshot's tables of online, phone and hybrid activities (`columns.decide_joinable`)
give exactly what the same activities give one by one: matches, order, scores to the last bit,
reasons, counts per rule, eligible (hypothesis). Directories with many online, phone and hybrid
activities that share what the fits read (so that scores tie and ids decide), full places,
places changed since the day was indexed, outcome values for some, activities left out, and
limits 0, 1, 10 and 50."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.matching import engine, snapshot
from app.matching.evidence import Evidence
from tests.matching.test_engine_properties import (
    SUITABILITY,
    TODAY,
    activities,
    directory,
    people,
)
from tests.matching.test_snapshot_properties import outside_the_box

LIMITS = st.sampled_from([0, 1, 10, 50])


@st.composite
def alike_directory(draw: st.DrawFn, kinds: tuple[str, ...]) -> list[engine.Activity]:
    """Remote activities made from a few templates (every attribute the fits read shared),
    with their own ids, places and sometimes schedules, plus a random directory of any kind
    (in person ones among them) to compete with them."""
    templates = draw(st.lists(activities, min_size=1, max_size=4))
    ids = draw(st.lists(st.text("abcdef", min_size=1, max_size=4), max_size=45, unique=True))
    made = []
    for i in ids:
        template = draw(st.sampled_from(templates))
        made.append(
            replace(
                template,
                id=i,
                name=f"Activity {i}",
                attending_type=draw(st.sampled_from(kinds)),
                capacity_available=draw(st.sampled_from([None, None, 0, 1, 3])),
                cost_options=draw(st.sampled_from([template.cost_options, ()])),
            )
        )
    others = [replace(a, id=f"z{a.id}") for a in draw(directory())]
    return made + others


def _changes(
    data: st.DataObject, activities: list[engine.Activity]
) -> tuple[dict[str, int | None], Evidence, frozenset[str]]:
    """Places changed since, outcome values and activities left out, for some of the ids."""
    ids = [a.id for a in activities]
    some = st.lists(st.sampled_from(ids), max_size=6, unique=True) if ids else st.just([])
    places = {i: data.draw(st.none() | st.integers(-1, 3)) for i in data.draw(some)}
    values = {i: data.draw(st.sampled_from([0.0, 0.3, 0.5, 0.9, 1.0])) for i in data.draw(some)}
    leave_out = frozenset(data.draw(some))
    return places, Evidence(values, dict.fromkeys(values, ("Evidence",))), leave_out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    person=people,
    data=st.data(),
    include_full=st.booleans(),
    limit=LIMITS,
)
def test_the_snapshots_remote_rows_count_and_score_as_the_engine_over_every_activity(
    person: engine.Person, data: st.DataObject, include_full: bool, limit: int
) -> None:
    """The snapshot's candidates (tables made once per day, read with the places changed since
    and the outcome values) and the engine give what the engine gives over every activity
    (in-person ones outside the travel box counted under rule 6 unvisited)."""
    activities = data.draw(alike_directory(("online", "phone", "hybrid")))
    places, evidence, leave_out = _changes(data, activities)
    snap = snapshot.Directory()
    snap.activities = {a.id: a for a in activities}
    snap.prepare(TODAY)  # the tables are made before the places change
    screened = snap.candidates(person, TODAY)

    def run(items: list[engine.Activity], **given: object) -> engine.MatchResult:
        return engine.match(
            person,
            items,
            today=TODAY,
            suitability=SUITABILITY,
            limit=limit,
            include_full=include_full,
            capacity=places,
            evidence=evidence,
            leave_out=leave_out,
            **given,  # type: ignore[arg-type]
        )

    fast = run(
        screened.activities,
        sited=screened.sited,
        ids_unique=True,
    )
    outside = outside_the_box(person, activities)
    slow = run([a for a in activities if a not in outside])
    expected = dict(slow.excluded)
    expected[engine.Rule.TRAVEL_DISTANCE] += len(outside)
    assert {r: fast.excluded[r] + screened.excluded[r] for r in engine.Rule} == expected
    assert fast.matches == slow.matches
    assert fast.eligible == slow.eligible
