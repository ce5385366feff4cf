"""Activity ids must be unique across everything the engine is given, sited groups included
(the engine checks them per list, with set operations, unless the caller vouches for them with
``ids_unique``: then it counts them)."""

from __future__ import annotations

from datetime import date

import pytest

from app.matching.engine import (
    Activity,
    Location,
    Person,
    Sited,
    match,
    site_entry,
    site_profile,
)

PERSON = Person(age=40, max_travel_km=5.0, location=(51.55, -0.05))


def _online(activity_id: str) -> Activity:
    return Activity(activity_id, activity_id, "active", True, "online")


def _near(activity_id: str) -> Activity:
    return Activity(
        activity_id, activity_id, "active", True, "in-person", locations=(Location(51.55, -0.05),)
    )


def _run(activities: list[Activity], *groups: list[Activity]) -> int:
    today = date(2026, 11, 27)
    result = match(
        PERSON,
        activities,
        today=today,
        suitability={},
        sited=[Sited([site_entry(a, 0) for a in g], [site_profile(g[0], today)]) for g in groups],  # type: ignore[list-item]
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
        _run([_online(i) for i in activities], *([_near(i) for i in g] for g in groups))


def test_unique_ids_are_all_matched() -> None:
    assert _run([_online("a")], [_near("b"), _near("c")], [_near("d")]) == 4


def test_ids_vouched_for_are_counted_as_checked_ones() -> None:
    """Plain and sited activities (some breaking a rule) count the same whether their ids are
    checked or only counted (``ids_unique``)."""
    today = date(2026, 11, 27)
    near = Activity("n", "n", "active", True, "in-person", locations=(Location(51.55, -0.05),))
    far = Activity("f", "f", "active", True, "in-person", locations=(Location(52.5, -0.05),))
    profile = site_profile(near, today)
    assert profile is not None
    sited = [Sited([site_entry(near, 0), site_entry(far, 0)], [profile])]
    results = [
        match(
            PERSON,
            [_online("a"), Activity("x", "x", "inactive", True, "online")],
            today=today,
            suitability={},
            sited=sited,
            ids_unique=vouched,
        )
        for vouched in (False, True)
    ]
    assert results[0] == results[1]
    assert (results[1].eligible, results[1].considered) == (2, 4)
