"""Scoring of the outcome instruments (DESIGN.md 9), checked against the published tables."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import Unprocessable
from app.outcomes.instruments import (
    INSTRUMENTS,
    Direction,
    LonelinessTransition,
    change,
    instrument,
    score,
    validate_answers,
)

# DESIGN.md section 9, typed out again here independently of the module.
SWEMWBS_TABLE = """
7 7.00, 8 9.51, 9 11.25, 10 12.40, 11 13.33, 12 14.08, 13 14.75, 14 15.32,
15 15.84, 16 16.36, 17 16.88, 18 17.43, 19 17.98, 20 18.59, 21 19.25, 22 19.98, 23 20.73,
24 21.54, 25 22.35, 26 23.21, 27 24.11, 28 25.03, 29 26.02, 30 27.03, 31 28.13, 32 29.31,
33 30.70, 34 32.55, 35 35.00
"""
SWEMWBS_EXPECTED = {
    int(raw): float(metric)
    for raw, metric in (pair.split() for pair in SWEMWBS_TABLE.replace("\n", " ").split(","))
}

ONS4_ITEMS = ("life_satisfaction", "worthwhile", "happy", "anxious")
UCLA3_ITEMS = ("lack_companionship", "left_out", "isolated")
ALL_RANGES: dict[str, tuple[tuple[str, ...], int, int]] = {
    "ONS4": (ONS4_ITEMS, 0, 10),
    "SWEMWBS": (tuple(str(n) for n in range(1, 8)), 1, 5),
    "WEMWBS": (tuple(str(n) for n in range(1, 15)), 1, 5),
    "UCLA3": (UCLA3_ITEMS, 1, 3),
}


def answers_summing_to(items: int, total: int, low: int = 1, high: int = 5) -> dict[str, int]:
    """Spread ``total`` over ``items`` items ``1``..``n``, each within [low, high]."""
    values = [low] * items
    rest = total - low * items
    for i in range(items):
        step = min(rest, high - low)
        values[i] += step
        rest -= step
    assert rest == 0
    return {str(i + 1): v for i, v in enumerate(values)}


def ons4(life: int = 5, worthwhile: int = 5, happy: int = 5, anxious: int = 5) -> dict[str, int]:
    return {"life_satisfaction": life, "worthwhile": worthwhile, "happy": happy, "anxious": anxious}


def ucla3(a: int, b: int, c: int) -> dict[str, int]:
    return {"lack_companionship": a, "left_out": b, "isolated": c}


def raises_on(code: str, answers: Any, expression: str) -> Unprocessable:
    with pytest.raises(Unprocessable) as caught:
        score(code, answers)
    error = caught.value
    assert error.status == 422
    assert expression in [issue.expression for issue in error.all_issues()]
    return error


# SWEMWBS -------------------------------------------------------------------------------------


def test_the_swemwbs_table_has_all_29_raw_totals() -> None:
    assert sorted(SWEMWBS_EXPECTED) == list(range(7, 36))


@pytest.mark.parametrize(("raw", "metric"), sorted(SWEMWBS_EXPECTED.items()))
def test_every_swemwbs_raw_total_converts_to_the_table_metric(raw: int, metric: float) -> None:
    scored = score("SWEMWBS", answers_summing_to(7, raw))
    assert scored.total == raw
    assert scored.metric == metric


@given(st.lists(st.integers(1, 5), min_size=7, max_size=7))
def test_swemwbs_raw_is_the_item_sum_and_metric_in_range(values: list[int]) -> None:
    scored = score("SWEMWBS", {str(i + 1): v for i, v in enumerate(values)})
    assert scored.total == sum(values)
    assert scored.metric == SWEMWBS_EXPECTED[sum(values)]
    assert 7.0 <= scored.metric <= 35.0


@given(st.integers(7, 34))
def test_swemwbs_metric_is_strictly_increasing_in_raw(raw: int) -> None:
    lower = score("SWEMWBS", answers_summing_to(7, raw)).metric
    higher = score("SWEMWBS", answers_summing_to(7, raw + 1)).metric
    assert lower is not None
    assert higher is not None
    assert higher > lower


def test_swemwbs_change_is_on_the_metric_with_reliable_change_at_3() -> None:
    base = score("SWEMWBS", answers_summing_to(7, 12))  # 14.08
    up = change(base, score("SWEMWBS", answers_summing_to(7, 17)))  # 16.88: +2.80
    metric = up.measure("metric")
    assert metric.change == pytest.approx(2.80)
    assert metric.improved
    assert not metric.deteriorated
    assert metric.reliable_improvement is False
    assert metric.reliable_change_threshold == 3

    # 14.08 -> 17.43 is +3.35 on the metric though only +6 raw; 16.36 -> 19.25 is +2.89
    assert (
        change(base, score("SWEMWBS", answers_summing_to(7, 18)))
        .measure("metric")
        .reliable_improvement
    )
    assert [m.key for m in up.measures] == ["metric"]


def test_swemwbs_reliable_change_boundary() -> None:
    # the closest table steps either side of 3: 12.40 -> 15.32 (+2.92), 13.33 -> 16.36 (+3.03)
    near = change(
        score("SWEMWBS", answers_summing_to(7, 10)), score("SWEMWBS", answers_summing_to(7, 14))
    )
    just = change(
        score("SWEMWBS", answers_summing_to(7, 11)), score("SWEMWBS", answers_summing_to(7, 16))
    )
    assert near.measure("metric").change == 2.92
    assert near.measure("metric").reliable_improvement is False
    assert just.measure("metric").change == 3.03
    assert just.measure("metric").reliable_improvement is True
    # a threshold equal to the change counts as reliable (>=), and the threshold is a parameter
    base = score("SWEMWBS", answers_summing_to(7, 30))  # 27.03
    after = score("SWEMWBS", answers_summing_to(7, 32))  # 29.31: +2.28
    assert change(base, after, reliable_change=2.28).measure("metric").reliable_improvement
    assert not change(base, after, reliable_change=2.29).measure("metric").reliable_improvement


def test_swemwbs_reliable_deterioration() -> None:
    base = score("SWEMWBS", answers_summing_to(7, 20))  # 18.59
    worse = change(base, score("SWEMWBS", answers_summing_to(7, 15))).measure("metric")  # 15.84
    assert worse.change == pytest.approx(-2.75)
    assert worse.deteriorated
    assert worse.reliable_deterioration is False
    much_worse = change(base, score("SWEMWBS", answers_summing_to(7, 14))).measure("metric")
    assert much_worse.change == pytest.approx(-3.27)
    assert much_worse.reliable_deterioration is True
    assert much_worse.reliable_improvement is False


@given(st.integers(7, 35), st.integers(7, 35))
def test_swemwbs_change_flags_agree_with_the_table(before: int, after: int) -> None:
    result = change(
        score("SWEMWBS", answers_summing_to(7, before)),
        score("SWEMWBS", answers_summing_to(7, after)),
    ).measure("metric")
    delta = SWEMWBS_EXPECTED[after] - SWEMWBS_EXPECTED[before]
    assert result.change == pytest.approx(delta)
    assert result.reliable_improvement == (delta >= 3 - 1e-9)
    assert result.reliable_deterioration == (delta <= -3 + 1e-9)
    assert result.improved == (after > before)
    assert result.deteriorated == (after < before)


# WEMWBS --------------------------------------------------------------------------------------


@pytest.mark.parametrize("total", [14, 15, 42, 69, 70])
def test_wemwbs_total_is_the_sum_from_14_to_70(total: int) -> None:
    assert score("WEMWBS", answers_summing_to(14, total)).total == total


@given(st.lists(st.integers(1, 5), min_size=14, max_size=14))
def test_wemwbs_total_range(values: list[int]) -> None:
    scored = score("WEMWBS", {str(i + 1): v for i, v in enumerate(values)})
    assert scored.total == sum(values)
    assert 14 <= scored.total <= 70
    assert scored.metric is None


def test_wemwbs_reliable_change_at_9_points() -> None:
    base = score("WEMWBS", answers_summing_to(14, 40))
    eight = change(base, score("WEMWBS", answers_summing_to(14, 48))).measure("total")
    nine = change(base, score("WEMWBS", answers_summing_to(14, 49))).measure("total")
    down_nine = change(base, score("WEMWBS", answers_summing_to(14, 31))).measure("total")
    assert (eight.change, eight.reliable_improvement) == (8, False)
    assert (nine.change, nine.reliable_improvement, nine.reliable_deterioration) == (9, True, False)
    assert (down_nine.reliable_improvement, down_nine.reliable_deterioration) == (False, True)


def test_snomed_codes_from_design() -> None:
    assert instrument("SWEMWBS").snomed_code == "718466001"
    assert instrument("WEMWBS").snomed_code == "718426000"
    assert instrument("ONS4").snomed_code is None


# ONS4 ----------------------------------------------------------------------------------------

POSITIVE_BANDS = {0: "low", 4: "low", 5: "medium", 6: "medium", 7: "high", 8: "high"}
POSITIVE_BANDS |= {9: "very-high", 10: "very-high"}
ANXIOUS_BANDS = {0: "very-low", 1: "very-low", 2: "low", 3: "low", 4: "medium", 5: "medium"}
ANXIOUS_BANDS |= {6: "high", 10: "high"}


@pytest.mark.parametrize("item", ["life_satisfaction", "worthwhile", "happy"])
@pytest.mark.parametrize(("value", "band"), sorted(POSITIVE_BANDS.items()))
def test_ons4_positive_item_band_boundaries(item: str, value: int, band: str) -> None:
    scored = score("ONS4", ons4() | {item: value})
    assert scored.measure(item).value == value
    assert scored.measure(item).band == band


@pytest.mark.parametrize(("value", "band"), sorted(ANXIOUS_BANDS.items()))
def test_ons4_anxious_band_boundaries(value: int, band: str) -> None:
    measure = score("ONS4", ons4(anxious=value)).measure("anxious")
    assert (measure.value, measure.band) == (value, band)
    assert measure.direction is Direction.LOWER_IS_BETTER


def test_ons4_items_are_never_summed() -> None:
    scored = score("ONS4", ons4(1, 2, 3, 4))
    assert [m.key for m in scored.measures] == list(ONS4_ITEMS)
    assert [m.value for m in scored.measures] == [1, 2, 3, 4]
    assert scored.total is None


@given(st.tuples(*[st.integers(0, 10)] * 4))
def test_ons4_every_value_has_exactly_one_band(values: tuple[int, int, int, int]) -> None:
    scored = score("ONS4", dict(zip(ONS4_ITEMS, values, strict=True)))
    for key, value in zip(ONS4_ITEMS, values, strict=True):
        expected = ANXIOUS_BANDS if key == "anxious" else POSITIVE_BANDS
        if value in expected:
            assert scored.measure(key).band == expected[value]
        assert scored.measure(key).band is not None


def test_ons4_change_direction_anxious_lower_is_better() -> None:
    result = change(score("ONS4", ons4(4, 5, 6, 8)), score("ONS4", ons4(6, 5, 5, 3)))
    life, worthwhile, happy, anxious = (result.measure(k) for k in ONS4_ITEMS)
    assert (life.change, life.improved, life.deteriorated) == (2, True, False)
    assert (worthwhile.change, worthwhile.improved, worthwhile.deteriorated) == (0, False, False)
    assert (happy.change, happy.improved, happy.deteriorated) == (-1, False, True)
    assert (anxious.change, anxious.improved, anxious.deteriorated) == (-5, True, False)
    assert (anxious.baseline_band, anxious.follow_up_band) == ("high", "low")
    assert (life.baseline_band, life.follow_up_band) == ("low", "medium")
    # ONS publishes no reliable-change threshold for ONS4
    assert anxious.reliable_improvement is None
    assert anxious.reliable_change_threshold is None
    assert result.lonely_transition is None


def test_ons4_anxiety_rising_is_a_deterioration() -> None:
    anxious = change(score("ONS4", ons4(anxious=2)), score("ONS4", ons4(anxious=7)))
    assert anxious.measure("anxious").deteriorated
    assert not anxious.measure("anxious").improved


# UCLA3 and ONS loneliness --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "total", "lonely"),
    [
        ((1, 1, 1), 3, False),
        ((2, 2, 1), 5, False),
        ((2, 2, 2), 6, True),
        ((3, 2, 1), 6, True),
        ((3, 3, 3), 9, True),
    ],
)
def test_ucla3_total_and_lonely_flag(
    values: tuple[int, int, int], total: int, lonely: bool
) -> None:
    scored = score("UCLA3", ucla3(*values))
    assert (scored.total, scored.lonely) == (total, lonely)


@given(st.tuples(*[st.integers(1, 3)] * 3))
def test_ucla3_range(values: tuple[int, int, int]) -> None:
    scored = score("UCLA3", ucla3(*values))
    assert 3 <= (scored.total or 0) <= 9
    assert scored.lonely == (sum(values) >= 6)


def test_ucla3_lonely_threshold_is_a_parameter() -> None:
    assert score("UCLA3", ucla3(2, 2, 1), ucla3_lonely_from=5).lonely is True


def test_ucla3_change_lower_is_better_and_transition() -> None:
    result = change(score("UCLA3", ucla3(3, 2, 2)), score("UCLA3", ucla3(1, 2, 2)))
    total = result.measure("total")
    assert total.change == -2
    assert total.direction is Direction.LOWER_IS_BETTER
    assert (total.improved, total.deteriorated) == (True, False)
    assert total.reliable_improvement is None
    assert result.lonely_transition is LonelinessTransition.NO_LONGER_LONELY

    worse = change(score("UCLA3", ucla3(1, 1, 1)), score("UCLA3", ucla3(3, 3, 1)))
    assert worse.measure("total").deteriorated
    assert worse.lonely_transition is LonelinessTransition.BECAME_LONELY


@pytest.mark.parametrize(
    ("before", "after", "transition"),
    [
        ("often-always", "occasionally", LonelinessTransition.NO_LONGER_LONELY),
        ("never", "often-always", LonelinessTransition.BECAME_LONELY),
        ("often-always", "often-always", LonelinessTransition.STAYED_LONELY),
        ("some-of-the-time", "hardly-ever", LonelinessTransition.STAYED_NOT_LONELY),
    ],
)
def test_ons_loneliness_category_and_transition(
    before: str, after: str, transition: LonelinessTransition
) -> None:
    first = score("ONS_LONELINESS", {"how_often": before})
    assert first.category == before
    assert first.lonely == (before == "often-always")
    result = change(first, score("ONS_LONELINESS", {"how_often": after}))
    assert result.lonely_transition is transition
    assert result.measures == ()


# Validation ----------------------------------------------------------------------------------

VALID: dict[str, dict[str, Any]] = {
    "ONS4": ons4(),
    "SWEMWBS": answers_summing_to(7, 20),
    "WEMWBS": answers_summing_to(14, 40),
    "UCLA3": ucla3(1, 2, 3),
    "ONS_LONELINESS": {"how_often": "never"},
}


def test_every_instrument_has_a_valid_example() -> None:
    assert set(VALID) == set(INSTRUMENTS)
    for code, answers in VALID.items():
        assert validate_answers(code, answers) == answers


@pytest.mark.parametrize(
    ("code", "item"), [(code, item.id) for code in INSTRUMENTS for item in INSTRUMENTS[code].items]
)
def test_missing_item_is_named(code: str, item: str) -> None:
    answers = {k: v for k, v in VALID[code].items() if k != item}
    error = raises_on(code, answers, f"answers.{item}")
    assert item in error.message
    assert "missing" in error.message


@pytest.mark.parametrize("code", list(ALL_RANGES))
def test_out_of_range_items_are_named(code: str) -> None:
    items, low, high = ALL_RANGES[code]
    for item in items:
        for bad in (low - 1, high + 1):
            error = raises_on(code, VALID[code] | {item: bad}, f"answers.{item}")
            assert f"between {low} and {high}" in error.message
            assert item in error.message
        for good in (low, high):
            assert dict(score(code, VALID[code] | {item: good}).answers)[item] == good


def test_ons_loneliness_unknown_category_is_named() -> None:
    error = raises_on("ONS_LONELINESS", {"how_often": "always"}, "answers.how_often")
    assert "often-always" in error.message


@pytest.mark.parametrize("code", list(INSTRUMENTS))
def test_unknown_item_is_named(code: str) -> None:
    error = raises_on(code, VALID[code] | {"mood": 3}, "answers.mood")
    assert "mood" in error.message


@pytest.mark.parametrize("code", list(ALL_RANGES))
@pytest.mark.parametrize("bad", [True, 3.0, "3", None, [3]])
def test_wrong_type_numeric_items_are_named(code: str, bad: object) -> None:
    item = ALL_RANGES[code][0][-1]
    error = raises_on(code, VALID[code] | {item: bad}, f"answers.{item}")
    assert "integer" in error.message


@pytest.mark.parametrize("bad", [1, None, True])
def test_wrong_type_category_item_is_named(bad: object) -> None:
    error = raises_on("ONS_LONELINESS", {"how_often": bad}, "answers.how_often")
    assert "string" in error.message


def test_every_faulty_item_gets_an_issue() -> None:
    with pytest.raises(Unprocessable) as caught:
        score("UCLA3", {"lack_companionship": 4, "left_out": "x", "extra": 1})
    assert [i.expression for i in caught.value.all_issues()] == [
        "answers.lack_companionship",
        "answers.left_out",
        "answers.isolated",
        "answers.extra",
    ]


@pytest.mark.parametrize("answers", [None, [1, 2, 3], "1,2,3"])
def test_answers_must_be_an_object(answers: object) -> None:
    raises_on("UCLA3", answers, "answers")


def test_unknown_instrument_is_named() -> None:
    with pytest.raises(Unprocessable) as caught:
        score("PHQ9", {})
    assert caught.value.all_issues()[0].expression == "instrument"


def test_change_requires_the_same_instrument() -> None:
    with pytest.raises(Unprocessable):
        change(score("WEMWBS", VALID["WEMWBS"]), score("SWEMWBS", VALID["SWEMWBS"]))


def test_items_have_ids_labels_and_values() -> None:
    for spec in INSTRUMENTS.values():
        assert spec.items
        for item in spec.items:
            assert item.id
            assert item.label
            assert item.values
            assert not item.value_labels or len(item.value_labels) == len(item.values)
    assert instrument("SWEMWBS").item_ids == tuple(str(n) for n in range(1, 8))
    assert instrument("WEMWBS").item_ids == tuple(str(n) for n in range(1, 15))
