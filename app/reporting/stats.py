"""Pure statistics for the commissioner reports: mean, median, a t-based 95% confidence interval.

No SciPy: the Student t quantile is found by bisection on the t distribution function, which is
computed exactly through the regularised incomplete beta function:
``F(t) = 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2`` for ``t >= 0``, or near the centre
``F(t) = 1/2 + I_{t^2/(df+t^2)}(1/2, df/2) / 2`` (Abramowitz & Stegun 26.7.1 and 26.5.27).
The incomplete beta is evaluated with its continued fraction and the modified Lentz method
(Press et al., Numerical Recipes, 3rd ed., section 6.4). Accurate to about 1e-10.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

_EPSILON = 1e-15
_TINY = 1e-300


@dataclass(frozen=True)
class MeanWithInterval:
    n: int
    mean: float | None
    lower: float | None
    upper: float | None


def mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def share(flags: Sequence[bool]) -> float | None:
    """The fraction of ``True`` among ``flags`` (e.g. people with reliable improvement)."""
    return sum(1 for flag in flags if flag) / len(flags) if flags else None


def mean_with_interval(values: Sequence[float], confidence: float = 0.95) -> MeanWithInterval:
    """Mean and two-sided ``confidence`` interval from the t distribution with n - 1 df.

    The interval needs at least two values (and is the mean itself when they are all equal).
    """
    n = len(values)
    centre = mean(values)
    if centre is None or n < 2:
        return MeanWithInterval(n, centre, None, None)
    variance = math.fsum((v - centre) ** 2 for v in values) / (n - 1)
    half_width = t_quantile(0.5 + confidence / 2, n - 1) * math.sqrt(variance / n)
    return MeanWithInterval(n, centre, centre - half_width, centre + half_width)


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    if t * t < df:
        # near the centre: P(|T| <= |t|) = I_{t^2/(df+t^2)}(1/2, df/2), without cancellation
        inner = 0.5 * _betainc(0.5, df / 2, t * t / (df + t * t))
        return 0.5 + inner if t >= 0 else 0.5 - inner
    tail = 0.5 * _betainc(df / 2, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@functools.lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """The t such that P(T <= t) = p, for 0 < p < 1 and ``df`` > 0 (cached: a report asks for
    the same few quantiles in every row)."""
    if not 0 < p < 1:
        raise ValueError("p must be strictly between 0 and 1")
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low <= 1e-13 * max(1.0, high):
            break
    return (low + high) / 2


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    # the continued fraction converges fast for x < (a + 1) / (a + b + 2); use symmetry otherwise
    if x < (a + 1) / (a + b + 2):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1 - x) / b


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1, a - 1
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    result = d
    for m in range(1, 100_000):
        m2 = 2 * m
        numerator = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + numerator * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + numerator / c
        c = c if abs(c) > _TINY else _TINY
        result *= d * c
        numerator = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + numerator * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + numerator / c
        c = c if abs(c) > _TINY else _TINY
        step = d * c
        result *= step
        if abs(step - 1.0) < _EPSILON:
            break
    return result


def interval_from_moments(
    n: int, centre: float | None, variance: float | None, confidence: float = 0.95
) -> MeanWithInterval:
    """``mean_with_interval`` from a mean and a sample variance already computed (by the
    database's GROUP BY) rather than from the values."""
    if centre is None or variance is None or n < 2:
        return MeanWithInterval(n, centre, None, None)
    half_width = t_quantile(0.5 + confidence / 2, n - 1) * math.sqrt(max(variance, 0.0) / n)
    return MeanWithInterval(n, centre, centre - half_width, centre + half_width)
