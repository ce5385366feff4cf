"""Drawing primitives of the dashboard's charts: the palette's contrast (WCAG 2.2), printed
figures and round axis ticks."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.dashboard.svg import PALETTE, fmt, ticks


def contrast_with_white(colour: str) -> float:
    """WCAG 2.2 contrast ratio against white, from the relative luminance definition."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_contrast_formula_against_known_ratios() -> None:
    assert contrast_with_white("#000000") == pytest.approx(21)
    assert contrast_with_white("#767676") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("colour", [*PALETTE.series, PALETTE.rule])
def test_marks_have_3_to_1_contrast_with_white(colour: str) -> None:
    assert contrast_with_white(colour) >= 3


@pytest.mark.parametrize("colour", [PALETTE.text, PALETTE.muted])
def test_text_has_4_5_to_1_contrast_with_white(colour: str) -> None:
    assert contrast_with_white(colour) >= 4.5


def test_fmt() -> None:
    assert [fmt(v) for v in (0, -0.0, -0.001, 3, 3.5, 3.456, 12345.0, -2)] == [
        "0", "0", "0", "3", "3.5", "3.46", "12,345", "-2",
    ]  # fmt: skip
    assert fmt(12.5, "%") == "12.5%"


@given(st.floats(-1e15, 1e15), st.floats(-1e15, 1e15))
def test_ticks_are_round_and_cover_the_range(a: float, b: float) -> None:
    low, high = min(a, b), max(a, b)
    shown = ticks(low, high)
    step = shown[1] - shown[0]
    mantissa = step / 10 ** math.floor(math.log10(step))

    assert shown[0] <= low
    assert shown[-1] >= high
    assert 2 <= len(shown) <= 13
    assert sorted(set(shown)) == shown
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 5, 10))
    assert all(math.isclose(t / step, round(t / step), abs_tol=1e-6) for t in shown)
