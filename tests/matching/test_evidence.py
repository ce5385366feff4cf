"""The outcome prior (app/matching/evidence.py) and how it enters the engine's score."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from app.matching import engine
from app.matching.evidence import (
    NO_EVIDENCE,
    Evidence,
    Tally,
    evidence_for,
    minimum_people,
    priors,
    shrunk,
)
from app.matching.scoring import NEUTRAL, Weights
from app.reporting.disclosure import DEFAULT_RULES, DisclosureRules

LEAST = minimum_people(DEFAULT_RULES)  # 8
SINGING = frozenset({"music-singing"})
MOOD = "low-mood"


def _one(tally: Tally, others: dict[str, Tally] | None = None) -> dict[str, object]:
    """The priors for need low mood of activity "a" with ``tally``, beside ``others`` of its
    category."""
    tallies = {("a", MOOD): tally} | {(k, MOOD): t for k, t in (others or {}).items()}
    categories = {k: SINGING for k, _ in tallies}
    return dict(priors(tallies, categories, DEFAULT_RULES).get(MOOD, {}))


def test_the_minimum_is_the_reports_disclosure_minimum() -> None:
    assert LEAST == 8
    assert minimum_people(DisclosureRules(suppress_below=11, min_n_for_statistics=8)) == 11


def test_fewer_people_than_the_minimum_give_no_prior_and_the_minimum_does() -> None:
    others = {"b": Tally(40, 10)}  # the category: mostly did not attend
    assert set(_one(Tally(LEAST - 1, LEAST - 1), others)) == {"b"}
    found = _one(Tally(LEAST, LEAST), others)
    assert set(found) == {"a", "b"}
    prior = found["a"]
    assert prior.value > NEUTRAL  # type: ignore[attr-defined]
    assert prior.reason == (  # type: ignore[attr-defined]
        "100% of about 10 people referred for low mood and booked here attended"
    )


def test_a_reason_never_names_or_counts_fewer_people_than_the_reports_would() -> None:
    others = {"b": Tally(30, 15)}
    said = 0
    for people in range(31):
        for attended in range(people + 1):
            found = _one(Tally(people, attended), others)
            if people < LEAST:
                assert "a" not in found
                continue
            reason = found["a"].reason  # type: ignore[attr-defined]
            small = 0 < attended < 8 or 0 < people - attended < 8
            assert (reason is None) == small, (people, attended, reason)
            if reason is not None:
                said += 1
                (count,) = map(int, re.findall(r"about (\d+) people", reason))
                assert count >= 8
                assert count % 5 == 0
    assert said > 0


def test_shrinkage_moves_small_groups_towards_the_category_mean() -> None:
    mean = 0.5
    small, large = Tally(8, 8), Tally(80, 80)
    assert mean < shrunk(small, mean) < shrunk(large, mean) < 1.0
    # an activity with the category's own rate stays at the category's rate: neutral
    assert shrunk(Tally(20, 10), mean) == pytest.approx(mean)

    others = {"b": Tally(40, 20), "c": Tally(40, 20)}
    few = _one(Tally(8, 8), others)["a"].value  # type: ignore[attr-defined]
    many = _one(Tally(80, 80), others)["a"].value  # type: ignore[attr-defined]
    assert NEUTRAL < few < many <= 1.0
    alike = _one(Tally(40, 20), others)["a"].value  # type: ignore[attr-defined]
    assert alike == pytest.approx(NEUTRAL)


def test_the_category_mean_is_that_of_the_activities_sharing_a_category() -> None:
    tallies = {
        ("a", MOOD): Tally(20, 10),
        ("b", MOOD): Tally(40, 40),  # singing, like a: a is below its category
        ("c", MOOD): Tally(40, 0),  # walking: not a's category
    }
    categories = {"a": SINGING, "b": SINGING, "c": frozenset({"walking"})}
    found = priors(tallies, categories, DEFAULT_RULES)[MOOD]
    assert found["a"].value < NEUTRAL < found["b"].value
    assert found["c"].value == pytest.approx(NEUTRAL)  # alone in its category: its own mean


def test_several_needs_average_their_values_and_say_the_first_needs_reason() -> None:
    lonely = "loneliness-isolation"
    tallies = {
        ("a", MOOD): Tally(20, 20),
        ("a", lonely): Tally(20, 0),
        ("b", MOOD): Tally(20, 0),
        ("b", lonely): Tally(20, 20),
    }
    found = priors(tallies, {"a": SINGING, "b": SINGING}, DEFAULT_RULES)
    both = evidence_for(found, [MOOD, lonely])
    assert both.values["a"] == pytest.approx(NEUTRAL)
    assert both.reasons["a"].endswith("referred for low mood and booked here attended")
    assert both.reasons["a"].startswith("100% of about 20")
    assert evidence_for(found, [lonely]).values["b"] > NEUTRAL
    assert evidence_for(found, ["housing"]) == NO_EVIDENCE


# The engine ---------------------------------------------------------------------------------

TODAY = dt.date(2026, 12, 8)
PERSON = engine.Person(age=40, max_travel_km=10, location=(51.5, -0.1), needs=(MOOD,))


def _activity(activity_id: str) -> engine.Activity:
    return engine.Activity(
        id=activity_id,
        name=f"Choir {activity_id}",
        status="active",
        accepting_referrals=True,
        attending_type="in-person",
        categories=SINGING,
        locations=(engine.Location(51.5, -0.1),),
        schedules=(engine.Schedule(byday=frozenset({"tue"})),),
    )


def _match(evidence: Evidence, weights: Weights = Weights()) -> engine.MatchResult:
    return engine.match(
        PERSON,
        [_activity("a"), _activity("b"), _activity("c")],
        today=TODAY,
        suitability={MOOD: {"music-singing": 0.8}},
        weights=weights,
        evidence=evidence,
    )


def test_better_outcomes_rank_an_otherwise_equal_activity_first() -> None:
    plain = _match(NO_EVIDENCE)
    assert [m.activity_id for m in plain.matches] == ["a", "b", "c"]  # by id: all equal
    assert {m.components.outcome for m in plain.matches} == {NEUTRAL}

    said = "100% of about 10 people referred for low mood and booked here attended"
    evidence = Evidence({"c": 0.6, "a": 0.4}, {"c": said})
    ranked = _match(evidence)
    assert [m.activity_id for m in ranked.matches] == ["c", "b", "a"]
    assert said in ranked.matches[0].reasons
    assert not any("booked here attended" in r for m in ranked.matches[1:] for r in m.reasons)
    # without the component the evidence changes nothing
    unweighted = _match(evidence, Weights(outcome=0.0))
    assert [m.activity_id for m in unweighted.matches] == ["a", "b", "c"]


def test_left_out_activities_count_as_eligible_but_are_not_returned() -> None:
    result = engine.match(
        PERSON,
        [_activity("a"), _activity("b"), _activity("c")],
        today=TODAY,
        suitability={MOOD: {"music-singing": 0.8}},
        limit=2,
        leave_out=frozenset({"a"}),
    )
    assert [m.activity_id for m in result.matches] == ["b", "c"]
    assert result.eligible == 3
