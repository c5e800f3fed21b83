"""The statistics module against published worked examples and against scipy.

scipy is a test dependency only; the module itself uses nothing but `math`.
"""

from __future__ import annotations

import math
import warnings

import pytest
import scipy.stats
from hypothesis import example, given
from hypothesis import strategies as st

from cohort.core.statistics import (
    FEW_PAIRS,
    normal_quantile,
    paired_change,
    t_quantile,
    welch_difference,
    wilson_interval,
)
from cohort.core.survey_results import format_percent_interval
from tests.fixtures.properties import property_settings

# Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison of
# seven methods", Statistics in Medicine 17:857-872, Table II, method 3 (Wilson score).
NEWCOMBE = [((81, 263), (0.2553, 0.3662)), ((15, 148), (0.0624, 0.1605)),
            ((0, 20), (0.0, 0.1611)), ((1, 29), (0.0061, 0.1718))]
# Student t table (two-sided 95 %: the 0.975 quantile), as printed in any textbook.
T_TABLE = {1: 12.706, 2: 4.303, 5: 2.571, 10: 2.228, 20: 2.086, 29: 2.045, 120: 1.980}


@pytest.mark.parametrize("counts, expected", NEWCOMBE)
def test_wilson_matches_newcombes_worked_examples(counts, expected):
    interval = wilson_interval(*counts)
    assert (round(interval.low, 4), round(interval.high, 4)) == expected


def test_wilson_27_of_28_is_82_to_99_percent_by_the_one_rounding_rule():
    interval = wilson_interval(27, 28)
    assert interval.low == pytest.approx(0.82288, abs=1e-5)
    assert interval.high == pytest.approx(0.99367, abs=1e-5)
    assert format_percent_interval(interval.low, interval.high, "da") == "82\u201399 %"
    assert format_percent_interval(interval.low, interval.high, "en") == "82\u201399%"


def test_wilson_edges_stay_inside_0_and_1():
    assert wilson_interval(0, 5).low == 0.0 and wilson_interval(5, 5).high == 1.0
    with pytest.raises(ValueError):
        wilson_interval(1, 0)
    with pytest.raises(ValueError):
        wilson_interval(6, 5)


@pytest.mark.parametrize("df, expected", sorted(T_TABLE.items()))
def test_t_quantile_matches_the_printed_table(df, expected):
    assert round(t_quantile(0.975, df), 3) == expected


def test_normal_quantile():
    assert normal_quantile(0.975) == pytest.approx(1.959963984540054, abs=1e-14)
    assert normal_quantile(0.5) == pytest.approx(0.0, abs=1e-15)
    assert normal_quantile(0.025) == pytest.approx(-1.959963984540054, abs=1e-14)


@property_settings(300)
@given(p=st.floats(0.501, 0.9995), df=st.floats(1.0, 2000.0))
@example(p=0.975, df=1.0)
@example(p=0.975, df=1.5)
@example(p=0.975, df=17.0)
@example(p=0.501, df=368.0)
def test_t_quantile_agrees_with_scipy(p, df):
    assert t_quantile(p, df) == pytest.approx(scipy.stats.t.ppf(p, df), rel=1e-9, abs=1e-10)
    assert t_quantile(1 - p, df) == pytest.approx(scipy.stats.t.ppf(1 - p, df), rel=1e-9,
                                                  abs=1e-10)


@property_settings(300)
@given(n=st.integers(1, 500), data=st.data())
@example(n=28, data=None)
def test_wilson_agrees_with_scipy(n, data):
    successes = 27 if data is None else data.draw(st.integers(0, n))
    mine = wilson_interval(successes, n)
    theirs = scipy.stats.binomtest(successes, n).proportion_ci(0.95, method="wilson")
    assert mine.low == pytest.approx(theirs.low, abs=1e-12)
    assert mine.high == pytest.approx(theirs.high, abs=1e-12)
    # and by the formula written out independently of the module
    z, p = 1.959963984540054, successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert mine.low == pytest.approx(max(0.0, centre - half), abs=1e-12)
    assert mine.high == pytest.approx(min(1.0, centre + half), abs=1e-12)


ratings = st.integers(1, 5)


@property_settings(200)
@given(pairs=st.lists(st.tuples(ratings, ratings), min_size=2, max_size=60))
@example(pairs=[(2, 3), (2, 4), (3, 3), (1, 3), (2, 2)])
def test_paired_change_agrees_with_scipy_ttest_rel(pairs):
    before, after = [b for b, _ in pairs], [a for _, a in pairs]
    differences = [a - b for b, a in pairs]
    change = paired_change(differences)
    assert change.n == len(pairs) and change.df == len(pairs) - 1
    assert change.mean == pytest.approx(sum(differences) / len(pairs))
    assert change.improved == sum(1 for d in differences if d > 0)
    assert change.few == (len(pairs) < FEW_PAIRS)
    if change.sd == 0:  # scipy gives nan; the interval is the point itself
        assert change.low == change.high == change.mean and change.effect_size is None
        return
    with warnings.catch_warnings():  # scipy warns about nearly equal values
        warnings.simplefilter("ignore", RuntimeWarning)
        result = scipy.stats.ttest_rel(after, before)
    interval = result.confidence_interval(0.95)
    assert change.low == pytest.approx(interval.low, rel=1e-9, abs=1e-12)
    assert change.high == pytest.approx(interval.high, rel=1e-9, abs=1e-12)
    # d_z = t / sqrt(n): the effect size and the t statistic say the same thing
    assert change.effect_size == pytest.approx(result.statistic / math.sqrt(len(pairs)))


@property_settings(200)
@given(before=st.lists(ratings, min_size=2, max_size=60),
       after=st.lists(ratings, min_size=2, max_size=60))
@example(before=[2, 2, 3, 2, 1, 2], after=[3, 4, 4, 3, 5, 4, 4])
@example(before=[1, 1], after=[1, 2])
def test_welch_difference_agrees_with_scipy_ttest_ind(before, after):
    change = welch_difference(before, after)
    assert change.difference == pytest.approx(sum(after) / len(after)
                                               - sum(before) / len(before))
    assert (change.before_n, change.after_n) == (len(before), len(after))
    if change.df is None:  # neither group varies
        assert len(set(before)) == len(set(after)) == 1
        assert change.low == change.high == change.difference
        return
    with warnings.catch_warnings():  # scipy warns when one group does not vary
        warnings.simplefilter("ignore", RuntimeWarning)
        result = scipy.stats.ttest_ind(after, before, equal_var=False)
    interval = result.confidence_interval(0.95)
    assert change.df == pytest.approx(result.df, rel=1e-9)
    assert change.low == pytest.approx(interval.low, rel=1e-9, abs=1e-12)
    assert change.high == pytest.approx(interval.high, rel=1e-9, abs=1e-12)


def test_welch_textbook_example():
    """Welch's df by hand: s² = 1 and 4, n = 10 and 20 -> v = 0.1 + 0.2, ν = 0.09 /
    (0.01/9 + 0.04/19) = 27.96..."""
    before = [1.0, 3.0] * 5  # mean 2, variance 10/9
    after = [0.0, 4.0] * 10  # mean 2, variance 80/19
    change = welch_difference(before, after)
    v1, v2 = (10 / 9) / 10, (80 / 19) / 20
    assert change.df == pytest.approx((v1 + v2) ** 2 / (v1 ** 2 / 9 + v2 ** 2 / 19))
    assert change.difference == 0.0 and change.low == pytest.approx(-change.high)


def test_too_little_data_gives_no_interval():
    assert paired_change([1]) is None and paired_change([]) is None
    assert welch_difference([1], [2, 3]) is None
