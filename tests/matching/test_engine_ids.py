"""Activity ids must be unique across everything the engine is given, prescreened groups
included (the engine checks them per list, with set operations, unless the caller vouches for
them with ``ids_unique``: then it counts them)."""

from __future__ import annotations

from datetime import date

import pytest

from app.matching.engine import (
    Activity,
    Location,
    Person,
    Prescreened,
    Sited,
    match,
    site_entry,
    site_profile,
)

PERSON = Person(age=40, max_travel_km=5.0, location=(51.55, -0.05))


def _online(activity_id: str) -> Activity:
    return Activity(activity_id, activity_id, "active", True, "online")


def _run(activities: list[Activity], *groups: list[Activity]) -> int:
    result = match(
        PERSON,
        activities,
        today=date(2026, 11, 27),
        suitability={},
        prescreened=[Prescreened(g, online=True, free=False, days=None) for g in groups],
    )
    return result.eligible


@pytest.mark.parametrize(
    ("activities", "groups", "twice"),
    [
        (["a", "b", "a"], [], "a"),
        (["a", "b", "c", "b", "a"], [], "b"),  # the first repeated, in order
        (["a"], [["b", "a"]], "a"),
        ([], [["b", "c", "c"]], "c"),
        (["a"], [["b"], ["c", "b"]], "b"),
    ],
)
def test_an_id_given_twice_is_refused(
    activities: list[str], groups: list[list[str]], twice: str
) -> None:
    with pytest.raises(ValueError, match=f"'{twice}' is given twice"):
        _run([_online(i) for i in activities], *([_online(i) for i in g] for g in groups))


def test_unique_ids_are_all_matched() -> None:
    assert _run([_online("a")], [_online("b"), _online("c")], [_online("d")]) == 4


def test_ids_vouched_for_are_counted_as_checked_ones() -> None:
    """Plain, sited and prescreened activities (some breaking a rule) count the same whether
    their ids are checked or only counted (``ids_unique``)."""
    today = date(2026, 11, 27)
    near = Activity("n", "n", "active", True, "in-person", locations=(Location(51.55, -0.05),))
    far = Activity("f", "f", "active", True, "in-person", locations=(Location(52.5, -0.05),))
    profile = site_profile(near, today)
    assert profile is not None
    sited = [Sited([site_entry(near, 0), site_entry(far, 0)], [profile])]
    groups = [Prescreened([_online("b"), _online("c")], online=True, free=False, days=None)]
    results = [
        match(
            PERSON,
            [_online("a"), Activity("x", "x", "inactive", True, "online")],
            today=today,
            suitability={},
            sited=sited,
            prescreened=groups,
            ids_unique=vouched,
        )
        for vouched in (False, True)
    ]
    assert results[0] == results[1]
    assert (results[1].eligible, results[1].considered) == (4, 6)
