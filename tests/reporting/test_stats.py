"""Statistics helpers of the reports: the t quantile against published values and closed forms."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.reporting import stats
from app.reporting.stats import (
    mean,
    mean_with_interval,
    median,
    share,
    t_cdf,
    t_quantile,
)

# Student t critical values as printed in standard tables (e.g. NIST/SEMATECH e-Handbook of
# Statistical Methods, section 1.3.6.7.2), to 3 decimals.
TABLE = [
    (0.975, 1, 12.706),
    (0.975, 2, 4.303),
    (0.975, 3, 3.182),
    (0.975, 4, 2.776),
    (0.975, 5, 2.571),
    (0.975, 10, 2.228),
    (0.975, 20, 2.086),
    (0.975, 30, 2.042),
    (0.975, 60, 2.000),
    (0.975, 100, 1.984),
    (0.95, 1, 6.314),
    (0.95, 10, 1.812),
    (0.995, 5, 4.032),
    (0.995, 10, 3.169),
    (0.9, 7, 1.415),
]


@pytest.mark.parametrize(("p", "df", "expected"), TABLE)
def test_t_quantile_matches_the_table(p: float, df: int, expected: float) -> None:
    assert t_quantile(p, df) == pytest.approx(expected, abs=0.0006)


def test_t_quantile_tends_to_the_normal() -> None:
    assert t_quantile(0.975, 1_000_000) == pytest.approx(1.959963984540054, abs=1e-5)


probabilities = st.floats(0.001, 0.999)


@given(probabilities)
def test_t_quantile_one_df_is_the_cauchy_quantile(p: float) -> None:
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-9, abs=1e-9)


@given(probabilities)
def test_t_quantile_two_df_closed_form(p: float) -> None:
    expected = (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    assert t_quantile(p, 2) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@given(probabilities)
def test_t_quantile_four_df_closed_form(p: float) -> None:
    alpha = 4 * p * (1 - p)
    q = math.cos(math.acos(math.sqrt(alpha)) / 3) / math.sqrt(alpha)
    expected = math.copysign(2 * math.sqrt(q - 1), p - 0.5)
    assert t_quantile(p, 4) == pytest.approx(expected, rel=1e-8, abs=1e-8)


@given(st.floats(-50, 50))
def test_t_cdf_closed_forms(t: float) -> None:
    assert t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-12)
    assert t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-12)


@given(probabilities, st.integers(1, 5000))
def test_t_quantile_inverts_the_cdf_and_is_symmetric(p: float, df: int) -> None:
    t = t_quantile(p, df)
    assert t_cdf(t, df) == pytest.approx(p, abs=1e-10)
    assert t_quantile(1 - p, df) == pytest.approx(-t, abs=1e-9)


@given(st.integers(1, 500))
def test_t_quantile_decreases_with_degrees_of_freedom(df: int) -> None:
    assert t_quantile(0.975, df) > t_quantile(0.975, df + 1) > 1.959963984540054


def test_t_quantile_refuses_impossible_arguments() -> None:
    with pytest.raises(ValueError, match="between"):
        t_quantile(1.0, 3)
    with pytest.raises(ValueError, match="positive"):
        t_quantile(0.5, 0)


def test_mean_with_interval_textbook_example() -> None:
    # 1..5: mean 3, s = sqrt(2.5), se = sqrt(0.5), t(0.975, 4) = 2.7764451
    result = mean_with_interval([1, 2, 3, 4, 5])
    half = 2.7764451051977 * math.sqrt(0.5)
    assert result.n == 5
    assert result.mean == 3
    assert result.lower == pytest.approx(3 - half, abs=1e-9)
    assert result.upper == pytest.approx(3 + half, abs=1e-9)


def test_mean_with_interval_needs_two_values() -> None:
    empty = mean_with_interval([])
    assert (empty.n, empty.mean, empty.lower, empty.upper) == (0, None, None, None)
    single = mean_with_interval([4.0])
    assert (single.mean, single.lower, single.upper) == (4.0, None, None)
    same = mean_with_interval([2.0, 2.0, 2.0])
    assert (same.lower, same.upper) == (2.0, 2.0)


@given(st.lists(st.floats(-100, 100), min_size=2, max_size=50))
def test_interval_contains_the_mean(values: list[float]) -> None:
    result = mean_with_interval(values)
    assert result.lower is not None
    assert result.upper is not None
    assert result.mean is not None
    assert result.lower - 1e-9 <= result.mean <= result.upper + 1e-9


def test_median_mean_share() -> None:
    assert median([]) is None
    assert median([5, 1, 3]) == 3
    assert median([4, 1, 3, 2]) == 2.5
    assert mean([]) is None
    assert mean([1, 2, 4]) == pytest.approx(7 / 3)
    assert share([]) is None
    assert share([True, False, False, True]) == 0.5


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=2, max_size=60))
def test_interval_from_moments_agrees_with_the_interval_from_values(values: list[float]) -> None:
    direct = stats.mean_with_interval(values)
    centre = math.fsum(values) / len(values)
    variance = math.fsum((v - centre) ** 2 for v in values) / (len(values) - 1)
    from_moments = stats.interval_from_moments(len(values), centre, variance)
    assert from_moments.n == direct.n
    for a, b in ((from_moments.lower, direct.lower), (from_moments.upper, direct.upper)):
        assert a is not None
        assert b is not None
        assert a == pytest.approx(b, abs=1e-9)
    assert stats.interval_from_moments(1, 3.0, None) == stats.MeanWithInterval(1, 3.0, None, None)
