"""Buddy check-ins in the core: a pair's status from its members' answers, a round's counts,
and the report's share of pairs who met per round (Wilson interval against scipy, the
publication rule's minimum group size)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

from cohort.core.buddy_check_ins import ANSWERS, count_round, pair_status
from cohort.core.reporting import SUPPRESSED_BUDDY, BuddyRoundFacts, build_report
from tests.core.test_reporting import NOW, facts
from tests.fixtures.properties import property_settings


def test_one_yes_is_enough_and_silence_is_no_answer():
    assert pair_status(["met", "not_yet"]) == "met"
    assert pair_status(["could_not", "not_yet"]) == "could_not"
    assert pair_status(["not_yet"]) == "not_yet"
    assert pair_status([]) == "no_answer"


pairs_and_answers = st.lists(st.integers(1, 3), min_size=0, max_size=12).flatmap(
    lambda sizes: st.tuples(
        st.just([list(range(sum(sizes[:i]), sum(sizes[:i + 1]))) for i in range(len(sizes))]),
        st.dictionaries(st.integers(0, max(sum(sizes) - 1, 0)), st.sampled_from(ANSWERS))))


@property_settings(200)
@given(pairs_and_answers)
def test_a_round_counts_each_pair_once(case):
    pairs, answers = case
    count = count_round("r", pairs, answers)
    real = [p for p in pairs if len(p) >= 2]  # a group of one has nobody to meet
    said = [[answers[m] for m in p if m in answers] for p in real]
    assert count.pairs == len(real)
    assert count.answered == sum(1 for s in said if s)
    assert count.met == sum(1 for s in said if "met" in s)
    assert count.could_not == sum(1 for s in said if s and "met" not in s and "could_not" in s)
    assert count.not_yet == sum(1 for s in said if s and set(s) == {"not_yet"})
    assert count.met + count.could_not + count.not_yet == count.answered <= count.pairs


def _wilson_percent(part: int, whole: int) -> tuple[int, int]:
    interval = scipy.stats.binomtest(part, whole).proportion_ci(0.95, method="wilson")
    return math.floor(interval.low * 100 + 0.5), math.floor(interval.high * 100 + 0.5)


def test_the_report_shows_the_pairs_who_met_per_round_from_k_pairs():
    released = datetime(2025, 4, 18, 6, 0, tzinfo=UTC)
    rounds = (BuddyRoundFacts("buddy-exchange@workshop-1", "Workshop 1", released, 14, 12, 9),
              BuddyRoundFacts("buddy-exchange@webinar-1", "Webinar 1",
                              released + timedelta(days=28), 14, 4, 4),
              BuddyRoundFacts("buddy-exchange@webinar-2", "Webinar 2",
                              released + timedelta(days=56), 14, 0, 0))
    report = build_report(replace(facts(), buddy_rounds=rounds), "da", NOW)
    first, small, none = report.behaviour.buddy_rounds
    assert (first.met.part, first.met.whole, first.met.text) == (9, 12, "75 %")
    assert (first.met.low, first.met.high) == _wilson_percent(9, 12) == (47, 91)
    assert first.met.interval == "47\u201391 %" and first.response.text == "86 %"
    assert str(first.day) == "2025-04-18"
    # Four pairs answered (k = 5): hidden, and listed in the method chapter; none answered:
    # nothing to hide, nothing to show.
    assert small.met is None and small.suppressed and small.answered == 4
    assert none.met is None and none.answered == 0
    hidden = [s for s in report.method.suppressed if s.kind == SUPPRESSED_BUDDY]
    assert [(s.subject, s.n) for s in hidden] == [("Webinar 1", 4)]


def test_the_comparison_sets_rounds_and_agree_shares_side_by_side_with_intervals():
    from cohort.core.report_comparison import compare_reports
    from tests.fixtures.report import final_answers

    released = datetime(2025, 4, 18, 6, 0, tzinfo=UTC)
    first = build_report(replace(facts(final=final_answers()), buddy_rounds=(
        BuddyRoundFacts("buddy-exchange@workshop-1", "Workshop 1", released, 14, 12, 9),)),
        "da", NOW)
    second = build_report(replace(facts(), buddy_rounds=(
        BuddyRoundFacts("buddy-exchange@workshop-1", "Workshop 1", released, 15, 10, 10),)),
        "da", NOW)
    sections = {s.key: s for s in compare_reports(first, second).sections}
    (row,) = sections["buddy"].rows
    assert (row.first.text, row.first.detail, row.first.interval) == ("75 %", "9/12",
                                                                      "47\u201391 %")
    low, high = _wilson_percent(10, 10)
    assert (row.second.text, row.second.interval) == ("100 %", f"{low}\u2013{high} %")
    new_tools = next(r for r in sections["final"].rows if r.label.startswith("Jeg har anvendt"))
    assert (new_tools.first.detail, new_tools.first.interval) == ("25/40", "47\u201376 %")
    assert new_tools.second.text is None and new_tools.second.interval == ""
