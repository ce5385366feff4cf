"""The hard rules one by one (app/matching/rules.py), as the engine and the snapshot apply them,
and the shape of the matching package (one rule in one place, no function too long to read)."""

from __future__ import annotations

import math
from datetime import date

import pytest

from app.matching import rules
from app.matching.engine import Activity, CostOption, Person, Schedule
from app.matching.rules import PersonView, Rule

TODAY = date(2026, 11, 27)
HOME = (53.4808, -2.2426)
KM_PER_DEGREE = 6371.0088 * math.pi / 180


def view(**overrides: object) -> PersonView:
    fields: dict[str, object] = {"age": 40, "max_travel_km": 5.0, "location": HOME}
    return PersonView.of(Person(**(fields | overrides)))  # type: ignore[arg-type]


def activity(**overrides: object) -> Activity:
    fields: dict[str, object] = {
        "id": "a",
        "name": "A",
        "status": "active",
        "accepting_referrals": True,
        "attending_type": "in-person",
    }
    return Activity(**(fields | overrides))  # type: ignore[arg-type]


def test_the_person_is_read_once_as_the_rules_compare_it() -> None:
    person = view(
        gender="Female",
        area_codes=frozenset({" m1 ", "E08000003"}),
        accessibility_needs=frozenset({"bsl", "wheelchair"}),
        digital_access="none",
    )
    assert person.gender == "female"
    assert person.areas == {"M1", "E08000003"}
    assert person.accessibility == (rules.ACCEPTS["wheelchair"], rules.ACCEPTS["bsl"])
    assert not person.digital
    assert not view(location=None).located


def test_rule_1_listed_and_a_schedule_valid_today() -> None:
    assert rules.active(activity(), TODAY)
    assert not rules.active(activity(status="inactive"), TODAY)
    assert not rules.active(activity(accepting_referrals=False), TODAY)
    ended = Schedule(byday=frozenset({"mon"}), valid_to=date(2026, 11, 26))
    assert not rules.active(activity(schedules=(ended,)), TODAY)
    assert rules.active(activity(schedules=(ended, Schedule(valid_from=TODAY))), TODAY)


def test_rule_2_age_limits_inclusive_and_gender_case_insensitive() -> None:
    person = view(age=40, gender="female")
    assert rules.eligible(person, 40, 40, None)
    assert not rules.eligible(person, 41, None, None)
    assert not rules.eligible(person, None, 39, None)
    assert rules.eligible(person, None, None, "FEMALE")
    assert not rules.eligible(person, None, None, "male")
    assert not rules.eligible(view(gender=None), None, None, "female")


def test_rule_3_a_place_unless_none_left() -> None:
    assert rules.has_place(None)
    assert rules.has_place(1)
    assert not rules.has_place(0)
    assert not rules.has_place(-1)


def test_rule_5_step_free_is_met_by_wheelchair_access_but_not_the_reverse() -> None:
    step_free = view(accessibility_needs=frozenset({"step-free"}))
    wheelchair = view(accessibility_needs=frozenset({"wheelchair"}))
    assert rules.accessible(step_free, frozenset({"wheelchair"}))
    assert not rules.accessible(wheelchair, frozenset({"step-free"}))
    assert rules.accessible(view(), frozenset())


def site(lat: float, lon: float) -> rules.Site:
    return ("place", lat, lon, math.cos(math.radians(lat)), 0)


def test_rule_6_within_the_travel_distance_bounds_included() -> None:
    within = rules.within_reach(view(max_travel_km=5.0))
    near = HOME[0] + 4.0 / KM_PER_DEGREE
    far = HOME[0] + 6.0 / KM_PER_DEGREE
    distance, beyond, unknown = within([site(near, HOME[1]), site(far, HOME[1]), site(math.nan, 0)])
    assert distance == pytest.approx(4.0)
    assert distance is not None
    assert beyond is None
    assert unknown is None
    exact = rules.within_reach(view(max_travel_km=distance))
    assert exact([site(near, HOME[1])]) == [distance]
    assert within([]) == []
    assert rules.within_reach(view(location=None))([site(*HOME), site(near, HOME[1])]) == [
        None,
        None,
    ]


def test_rules_4_and_7_to_9() -> None:
    person = view(area_codes=frozenset({"M1"}), free_only=True, available_days=frozenset({"tue"}))
    tuesday = frozenset({"tue", "wed"})
    assert rules.after_attendance(person, frozenset(), True, tuesday) == 0
    assert rules.after_attendance(person, frozenset({"m1", "M2"}), True, tuesday) == 0
    assert rules.after_attendance(person, frozenset({"M2"}), True, tuesday) == Rule.SERVICE_AREA
    assert rules.after_attendance(person, frozenset(), False, tuesday) == Rule.COST
    assert rules.after_attendance(view(), frozenset(), False, tuesday) == 0
    assert rules.after_attendance(person, frozenset(), True, None) == 0
    assert rules.after_attendance(person, frozenset(), True, frozenset({"wed"})) == 9
    assert rules.after_attendance(view(), frozenset(), True, frozenset({"wed"})) == 0
    offline = view(digital_access="none")
    assert rules.remote(offline, True, frozenset(), True, None) == Rule.DIGITAL_ACCESS
    assert rules.remote(offline, False, frozenset(), True, None) == 0
    assert rules.remote(view(digital_access="limited"), True, frozenset(), True, None) == 0
    assert rules.has_free_option(activity(cost_options=(CostOption(amount=0),)))
    assert rules.has_free_option(activity(cost_options=(CostOption(free=True, amount=3),)))
    assert not rules.has_free_option(activity(cost_options=(CostOption(amount=2.5),)))
    assert not rules.has_free_option(activity())


def test_the_first_rule_broken_is_the_one_counted() -> None:
    person = view(
        area_codes=frozenset({"M1"}),
        free_only=True,
        available_days=frozenset({"tue"}),
        digital_access="none",
    )
    outside, paid, wednesday = frozenset({"M2"}), False, frozenset({"wed"})
    assert rules.remote(person, True, outside, paid, wednesday) == Rule.DIGITAL_ACCESS
    assert rules.remote(person, False, outside, paid, wednesday) == Rule.SERVICE_AREA
    assert rules.after_attendance(person, frozenset(), paid, wednesday) == Rule.COST
    assert rules.after_attendance(person, frozenset(), True, wednesday) == Rule.AVAILABLE_DAYS
    assert rules.after_attendance(person, frozenset(), True, None) == 0
