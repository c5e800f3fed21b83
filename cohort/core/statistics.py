"""Uncertainty of the report's figures: confidence intervals and an effect size, stdlib only.

The report shows how sure a figure is, not just the figure. Three situations occur:

**A share** ("27 of 28 agreed"): the **Wilson score interval** (Wilson 1927), because it stays
inside 0-100 % and keeps its coverage for small n and shares near 0 or 100 %, where the
textbook interval p ± z·√(p(1-p)/n) fails (27 of 28 gives 90-103 % with it). With p = x/n and
z the normal quantile (1.96 for 95 %)::

    centre = (p + z²/2n) / (1 + z²/n)
    half   = z / (1 + z²/n) · √(p(1-p)/n + z²/4n²)
    interval = centre ± half                      27 of 28 -> 0.8229 to 0.9937 (82-99 %)

**A paired change** (the same people before and after, identified self-assessments): each
person's difference d = after - before; n pairs, their mean d̄ and standard deviation s (n-1 in
the denominator); the **t-interval** d̄ ± t(0.975; n-1) · s/√n; the share whose own rating
went up; and the standardised mean of the differences **d_z = d̄ / s** (Cohen's d for paired
data; undefined when every difference is the same, s = 0).

**An unpaired change** (anonymous before and after, which cannot be matched): the difference
of means x̄₂ - x̄₁ with **Welch's interval** ± t(0.975; ν) · √(s₁²/n₁ + s₂²/n₂), where ν is the
**Welch-Satterthwaite** degrees of freedom::

    ν = (s₁²/n₁ + s₂²/n₂)² / ((s₁²/n₁)²/(n₁-1) + (s₂²/n₂)²/(n₂-1))

The Student t quantile is computed here, since scipy is not a runtime dependency: the t
distribution's tail is a regularized incomplete beta function, P(T > t) = ½·I_x(ν/2, ½) with
x = ν/(ν+t²), evaluated with its continued fraction (modified Lentz, as in Numerical Recipes
§6.4), and the quantile is found by bisection on that tail. It works for non-integer ν (Welch)
and agrees with scipy.stats.t.ppf to about 1e-9 relative (tests/core/test_statistics.py).

Every function returns unrounded floats. The report rounds them with the one rule of
`survey_results`: percentages half up to a whole percent, means and changes half up to one
decimal (`format_percent_interval`, `format_decimal`), so the web view and the PDF agree.

The intervals describe chance variation among those who answered. They say nothing about
those who did not answer, who may differ from those who did (non-response bias).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95
# Fewer pairs than this and the report says the interval is wide, and why.
FEW_PAIRS = 10

_EPSILON = 1e-15
_TINY = 1e-300
_MAX_ITERATIONS = 10_000


# --- distributions --------------------------------------------------------------------------

def normal_quantile(p: float) -> float:
    """The standard normal quantile: normal_quantile(0.975) = 1.959963984540054."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must lie strictly between 0 and 1")
    if p < 0.5:
        return -normal_quantile(1.0 - p)

    def upper_tail(x: float) -> float:
        return 0.5 * math.erfc(x / math.sqrt(2.0))

    return _bisect_upper_tail(upper_tail, 1.0 - p)


def regularized_incomplete_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), by the continued fraction (in the form that converges fast for x)."""
    if a <= 0 or b <= 0:
        raise ValueError("a and b must be positive")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(x, a, b) / a
    return 1.0 - front * _beta_continued_fraction(1.0 - x, b, a) / b


def _beta_continued_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of I_x(a, b), by the modified Lentz method."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_ITERATIONS):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                          -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPSILON:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for x={x}, a={a}, b={b}")


def t_upper_tail(t: float, df: float) -> float:
    """P(T > t) for Student's t with `df` degrees of freedom (df may be fractional)."""
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    tail = 0.5 * regularized_incomplete_beta(df / (df + t * t), df / 2.0, 0.5)
    return tail if t >= 0 else 1.0 - tail


def t_quantile(p: float, df: float) -> float:
    """The Student t quantile: t_quantile(0.975, 10) = 2.2281388519649385."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must lie strictly between 0 and 1")
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    return _bisect_upper_tail(lambda t: t_upper_tail(t, df), 1.0 - p)


def _bisect_upper_tail(upper_tail, target: float) -> float:
    """The x >= 0 where a decreasing upper tail equals `target` (< 0.5), to full precision."""
    low, high = 0.0, 1.0
    while upper_tail(high) > target:
        low, high = high, high * 2.0
        if high > 1e300:
            raise ArithmeticError("quantile out of range")
    for _ in range(2000):
        middle = (low + high) / 2.0
        if middle in (low, high):
            break
        if upper_tail(middle) > target:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0


# --- a share --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval:
    """The Wilson score interval of successes/n, as proportions (0-1).

    >>> wilson_interval(27, 28)  # 96 %; 82-99 %
    Interval(low=0.8228..., high=0.9936...)
    """
    if n <= 0:
        raise ValueError("an interval for a share of nothing is undefined")
    if not 0 <= successes <= n:
        raise ValueError("successes must lie between 0 and n")
    z = normal_quantile(0.5 + confidence / 2.0)
    p = successes / n
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low, high)


# --- paired and unpaired changes ------------------------------------------------------------

@dataclass(frozen=True)
class PairedChange:
    """The mean of each person's own change, with its t-interval and effect size."""

    n: int  # pairs
    mean: float
    sd: float  # of the differences, n - 1 in the denominator
    df: int
    low: float
    high: float
    improved: int  # pairs whose difference is above 0
    effect_size: float | None  # d_z = mean / sd; None when sd is 0

    @property
    def few(self) -> bool:
        """Fewer than FEW_PAIRS pairs: the interval is wide."""
        return self.n < FEW_PAIRS


def paired_change(differences: Sequence[float], confidence: float = CONFIDENCE
                  ) -> PairedChange | None:
    """Each pair's after minus before -> mean, t-interval, share improved, d_z.

    None for fewer than two pairs (no spread, so no interval)."""
    n = len(differences)
    if n < 2:
        return None
    mean = math.fsum(differences) / n
    sd = _sd(differences, mean)
    df = n - 1
    margin = t_quantile(0.5 + confidence / 2.0, df) * sd / math.sqrt(n)
    return PairedChange(n, mean, sd, df, mean - margin, mean + margin,
                        sum(1 for d in differences if d > 0),
                        mean / sd if sd > 0 else None)


@dataclass(frozen=True)
class UnpairedChange:
    """The difference of two independent means (after minus before), with Welch's interval."""

    before_n: int
    after_n: int
    difference: float
    df: float | None  # Welch-Satterthwaite; None when neither group varies
    low: float
    high: float


def welch_difference(before: Sequence[float], after: Sequence[float],
                     confidence: float = CONFIDENCE) -> UnpairedChange | None:
    """mean(after) - mean(before) with Welch's t-interval; None unless each has two values."""
    n1, n2 = len(before), len(after)
    if n1 < 2 or n2 < 2:
        return None
    m1, m2 = math.fsum(before) / n1, math.fsum(after) / n2
    v1, v2 = _sd(before, m1) ** 2 / n1, _sd(after, m2) ** 2 / n2
    difference = m2 - m1
    se2 = v1 + v2
    if se2 == 0:
        return UnpairedChange(n1, n2, difference, None, difference, difference)
    df = se2 * se2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    margin = t_quantile(0.5 + confidence / 2.0, df) * math.sqrt(se2)
    return UnpairedChange(n1, n2, difference, df, difference - margin, difference + margin)


def _sd(values: Sequence[float], mean: float) -> float:
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))
