"""The outcome prior (app/matching/evidence.py) and how it enters the engine's score."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from app.matching import engine
from app.matching.evidence import (
    NO_EVIDENCE,
    Evidence,
    Prior,
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
    assert prior.reasons == (  # type: ignore[attr-defined]
        "100% of about 10 people referred for low mood and booked here attended",
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
            said_here = found["a"].reasons  # type: ignore[attr-defined]
            small = 0 < attended < 8 or 0 < people - attended < 8
            assert (said_here == ()) == small, (people, attended, said_here)
            for reason in said_here:
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
    assert both.reasons["a"] == (
        "100% of about 20 people referred for low mood and booked here attended",
    )
    assert evidence_for(found, [lonely]).values["b"] > NEUTRAL
    assert evidence_for(found, ["housing"]) == NO_EVIDENCE


# Reliable wellbeing change, the second signal ------------------------------------------------

CAME = Tally(40, 40)  # a's attendance: everyone attended
FELT = "people referred for low mood who attended here and were measured before and after felt"


def _both(felt: Tally, others: dict[str, Tally] | None = None) -> Prior | None:
    """The prior of activity "a" (attendance `CAME`, wellbeing ``felt``) beside ``others``
    of its category (their attendance as their wellbeing)."""
    others = others if others is not None else {"b": Tally(40, 20)}
    attendance = {("a", MOOD): CAME} | {(k, MOOD): t for k, t in others.items()}
    wellbeing = {("a", MOOD): felt} | {(k, MOOD): t for k, t in others.items()}
    categories = {k: SINGING for k, _ in attendance}
    return priors(attendance, categories, DEFAULT_RULES, wellbeing).get(MOOD, {}).get("a")


def test_wellbeing_below_the_minimum_changes_nothing_and_the_minimum_counts() -> None:
    attendance_only = _both(Tally(0, 0))
    assert attendance_only is not None
    below = _both(Tally(LEAST - 1, LEAST - 1))
    assert below == attendance_only  # seven people: no value, nothing said
    assert len(below.reasons) == 1
    at = _both(Tally(LEAST, LEAST))
    assert at is not None
    assert at.value != attendance_only.value
    assert at.reasons == (
        *attendance_only.reasons,
        f"100% of about 10 {FELT} reliably better",
    )


def test_the_component_is_the_mean_of_attendance_and_wellbeing() -> None:
    came = _both(Tally(0, 0))
    felt_well, felt_badly = _both(Tally(20, 20)), _both(Tally(20, 0))
    assert came is not None
    assert felt_well is not None
    assert felt_badly is not None
    # wellbeing as good as the category's (b: 20 of 40) is neutral: half-way to neutral
    alike = _both(Tally(20, 10))
    assert alike is not None
    assert alike.value == pytest.approx((came.value + NEUTRAL) / 2)
    assert felt_badly.value < alike.value < came.value < felt_well.value
    alone = _wellbeing([("a", Tally(20, 20)), ("b", Tally(40, 20))])["a"]
    assert felt_well.value == pytest.approx((came.value + alone) / 2)


def _wellbeing(rows: list[tuple[str, Tally]]) -> dict[str, float]:
    """activity -> its wellbeing value alone, beside the others of ``rows`` in its category
    (each activity's attendance is the category's own rate: neutral)."""
    attendance = {(a, MOOD): Tally(40, 20) for a, _ in rows}
    wellbeing = {(a, MOOD): t for a, t in rows}
    found = priors(attendance, {a: SINGING for a, _ in rows}, DEFAULT_RULES, wellbeing)[MOOD]
    return {a: 2 * p.value - NEUTRAL for a, p in found.items()}


def test_wellbeing_shrinks_towards_the_categorys_rate_of_reliable_improvement() -> None:
    others = [("b", Tally(40, 10)), ("c", Tally(40, 10))]  # a quarter feel reliably better
    few = _wellbeing([("a", Tally(8, 8)), *others])["a"]
    many = _wellbeing([("a", Tally(80, 80)), *others])["a"]
    assert NEUTRAL < few < many <= 1.0
    assert _wellbeing([("a", Tally(20, 5)), *others])["a"] == pytest.approx(NEUTRAL)
    # shrunk towards the category's pooled rate (its own people included)
    mean = (8 + 10 + 10) / (8 + 40 + 40)
    assert few == pytest.approx(NEUTRAL + (shrunk(Tally(8, 8), mean) - mean) / 2)


def test_a_wellbeing_reason_never_names_or_counts_fewer_people_than_the_reports_would() -> None:
    said = 0
    for people in range(31):
        for better in range(people + 1):
            prior = _both(Tally(people, better))
            assert prior is not None
            felt = [r for r in prior.reasons if FELT in r]
            if people < LEAST:
                assert felt == []
                continue
            small = 0 < better < 8 or 0 < people - better < 8
            assert (felt == []) == small, (people, better, felt)
            for reason in felt:
                said += 1
                (count,) = map(int, re.findall(r"about (\d+) people", reason))
                assert count >= 8
                assert count % 5 == 0
    assert said > 0


def test_wellbeing_without_an_attendance_prior_gives_none() -> None:
    # (cannot happen from the tables: the people measured are among those who attended)
    found = priors({}, {"a": SINGING}, DEFAULT_RULES, {("a", MOOD): Tally(40, 40)})
    assert found == {}


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
    evidence = Evidence({"c": 0.6, "a": 0.4}, {"c": (said,)})
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


def test_reliable_wellbeing_change_reorders_activities_that_attend_alike() -> None:
    attendance = {(a, MOOD): Tally(20, 20) for a in "abc"}
    wellbeing = {("a", MOOD): Tally(16, 0), ("b", MOOD): Tally(16, 8), ("c", MOOD): Tally(16, 16)}
    categories = dict.fromkeys("abc", SINGING)
    came = evidence_for(priors(attendance, categories, DEFAULT_RULES), [MOOD])
    assert [m.activity_id for m in _match(came).matches] == ["a", "b", "c"]  # by id

    both = evidence_for(priors(attendance, categories, DEFAULT_RULES, wellbeing), [MOOD])
    ranked = _match(both).matches
    assert [m.activity_id for m in ranked] == ["c", "b", "a"]
    assert f"100% of about 15 {FELT} reliably better" in ranked[0].reasons
    assert f"0% of about 15 {FELT} reliably better" in ranked[2].reasons
