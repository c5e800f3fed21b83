"""Figures from answers: n, distributions, means, agree-shares, free text, suppression."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from cohort.core.programme import parse_programme
from cohort.core.survey_results import (
    AreaChange,
    agree_statement,
    compare_self_assessment,
    format_change,
    format_decimal,
    format_percent,
    percent,
    round_half_up,
    shown_change,
    summarise,
    summarise_by_group,
    summarise_copies,
)
from cohort.core.surveys import survey_spec
from tests.fixtures.programmes import WITH_QUESTIONS


@pytest.fixture(scope="module")
def spec():
    return survey_spec(parse_programme(WITH_QUESTIONS, "x.yaml"), "evaluation")


def answer(relevant=4, fmt=1, tools=(1,), recommend=8, comments=None, strategy=3, ethics=4):
    result = {"relevant": relevant, "format": fmt, "tools": list(tools), "recommend": recommend,
              "competences": {"strategy": strategy, "ethics": ethics}}
    if comments:
        result["comments"] = comments
    return result


@pytest.mark.parametrize("part, whole, expected", [
    (28, 31, 90), (1, 8, 13), (1, 200, 1), (1, 201, 0), (7, 8, 88), (0, 5, 0), (5, 5, 100),
    (1, 3, 33), (2, 3, 67), (5, 8, 63), (3, 8, 38),
])
def test_percentages_round_half_up(part, whole, expected):
    assert percent(part, whole) == expected


def test_means_round_half_up_not_to_even():
    assert str(round_half_up(3.25)) == "3.3" and str(round_half_up(2.35)) == "2.4"
    assert format_decimal(4.25, "da") == "4,3" and format_decimal(4.25, "en") == "4.3"


def test_agree_statements_in_three_languages():
    assert format_percent(28, 31, "da") == "90 %" and format_percent(28, 31, "en") == "90%"
    assert agree_statement(28, 31, "da", "anvendte nye værktøjer og metoder i deres daglige "
                           "arbejde") == ("28 af 31 (90 %) anvendte nye værktøjer og metoder i "
                                          "deres daglige arbejde")
    assert agree_statement(9, 10, "nb", "har tatt i bruk noe nytt") == (
        "9 av 10 (90 %) har tatt i bruk noe nytt")
    assert agree_statement(3, 4, "en", None, "The webinar was useful") == (
        "3 of 4 (75%) agree: “The webinar was useful”")
    assert agree_statement(3, 4, "da", None, "Mødet var nyttigt") == (
        "3 af 4 (75 %) er enige i: »Mødet var nyttigt«")


def test_summary_counts_distributions_means_and_agree_shares(spec):
    answers = [answer(relevant=v) for v in (5, 4, 4, 3, 2, 5)]
    summary = summarise(spec, answers, 5, random.Random(1))
    relevant = summary.questions[0]
    assert relevant.n == 6 and not relevant.suppressed
    assert [(c.value, c.count, c.percent) for c in relevant.distribution] == [
        (1, 0, 0), (2, 1, 17), (3, 1, 17), (4, 2, 33), (5, 2, 33)]
    assert relevant.mean == pytest.approx(23 / 6)
    assert relevant.agree.statement == "4 af 6 (67 %) fandt mødet relevant for deres arbejde"
    assert summary.agree_statements() == [relevant.agree.statement]
    tools = next(q for q in summary.questions if q.id == "tools")
    assert tools.distribution[0].count == 6 and tools.distribution[0].percent == 100
    competences = summary.questions[-1]
    assert [(a.area_id, a.n, a.mean) for a in competences.areas] == [
        ("strategy", 6, 3.0), ("ethics", 6, 4.0)]
    assert list(summary.by_level()) == ["reaction", None, "learning"]


def test_fewer_answers_than_the_minimum_give_no_figures(spec):
    summary = summarise(spec, [answer(comments="Meget godt")] * 4, 5)
    assert summary.suppressed
    for result in summary.questions:
        assert result.suppressed and not result.distribution and result.mean is None
        assert result.agree is None and not result.texts
        assert all(area.suppressed and area.mean is None for area in result.areas)


def test_free_text_only_above_threshold_and_in_random_order(spec):
    texts = [f"kommentar {i}" for i in range(6)]
    answers = [answer(comments=t) for t in texts]
    first = summarise(spec, answers, 5, random.Random(1)).questions[4].texts
    second = summarise(spec, answers, 5, random.Random(2)).questions[4].texts
    assert sorted(first) == sorted(texts) and first != second
    assert summarise(spec, answers[:4] + [answer()] * 3, 5).questions[4].texts == ()


def test_breakdown_suppresses_small_groups_and_a_second_one(spec):
    grouped = {"Vejle": [answer()] * 8, "Kolding": [answer()] * 6, "Odense": [answer()] * 3}
    breakdown = summarise_by_group(spec, grouped, "organisation", 5)
    by_label = {g.label: g for g in breakdown.groups}
    assert by_label["Vejle"].responses == 8
    assert by_label["Kolding"].responses is None and by_label["Odense"].responses is None
    assert not by_label["Vejle"].questions[0].suppressed
    assert by_label["Vejle"].questions[0].agree.agree == 8
    assert by_label["Kolding"].questions[0].suppressed
    assert by_label["Odense"].questions[0].distribution == ()
    # free text is never broken down
    assert all(q.texts == () for g in breakdown.groups for q in g.questions)


def test_breakdown_suppression_is_decided_per_question(spec):
    # Everyone in Vejle answers; only 4 in Kolding answer the optional 'tools' question.
    kolding = [answer() for _ in range(4)] + [answer() for _ in range(3)]
    for a in kolding[4:]:
        del a["tools"]
    grouped = {"Vejle": [answer()] * 8, "Kolding": kolding, "Odense": [answer()] * 6}
    breakdown = summarise_by_group(spec, grouped, "organisation", 5)
    tools = {g.label: next(q for q in g.questions if q.id == "tools") for g in breakdown.groups}
    assert tools["Kolding"].suppressed and tools["Odense"].suppressed
    assert not tools["Vejle"].suppressed
    relevant = {g.label: g.questions[0] for g in breakdown.groups}
    assert not any(r.suppressed for r in relevant.values())


def test_figures_over_copies_hide_while_a_small_copy_could_be_subtracted(spec):
    """Attack 1 in the core: six answer the kick-off, one answers workshop 1."""
    copies = {"kickoff": [answer(relevant=5, comments="Godt")] * 6,
              "workshop-1": [answer(relevant=1, comments="Den ensomme stemme")]}
    every = summarise_copies(spec, copies, 5, random.Random(1))
    assert every.responses == 7 and not every.suppressed
    for result in every.questions:
        assert result.suppressed and result.agree is None and not result.texts
        assert result.mean is None and not result.distribution
        assert all(area.suppressed for area in result.areas)
    # Two small copies holding five together may be pooled: neither can be recovered alone.
    copies["webinar-1"] = [answer(relevant=2)] * 4
    every = summarise_copies(spec, copies, 5, random.Random(1))
    relevant = every.questions[0]
    assert not relevant.suppressed and relevant.n == 11 and relevant.agree.agree == 6


def test_figures_over_copies_equal_the_pooled_figures_when_nothing_is_hidden(spec):
    copies = {"a": [answer(relevant=5, comments="x")] * 6, "b": [answer(relevant=2)] * 5,
              "c": []}
    pooled = [a for found in copies.values() for a in found]
    assert (summarise_copies(spec, copies, 5, random.Random(4))
            == summarise(spec, pooled, 5, random.Random(4)))


def test_figures_over_copies_are_decided_per_question(spec):
    # The optional 'tools' question: 2 at one meeting (hidden), 6 at the other.
    small = [answer() for _ in range(6)]
    for a in small[2:]:
        del a["tools"]
    every = summarise_copies(spec, {"a": small, "b": [answer()] * 6}, 5)
    by_id = {r.id: r for r in every.questions}
    assert by_id["tools"].suppressed and by_id["tools"].n == 8
    assert not by_id["relevant"].suppressed and by_id["relevant"].n == 12


def test_pre_post_change_per_area_paired_and_unpaired(spec):
    question = spec.question("competences")
    pre = [answer(strategy=2, ethics=3) for _ in range(6)]
    post = [answer(strategy=4, ethics=3) for _ in range(5)]
    changes = compare_self_assessment(question, pre, post, list(zip(pre, post, strict=False)),
                                      5)
    strategy = changes[0]
    assert (strategy.pre_n, strategy.post_n, strategy.paired_n) == (6, 5, 5)
    # One answered only before: 6 · mean before − (5 · mean after − 5 · paired change) would
    # be that one answer, so the paired change is hidden (the publication rule, rule 4).
    assert strategy.change == 2.0 and strategy.paired_change is None
    paired = compare_self_assessment(question, pre[:5], post, list(zip(pre, post,
                                                                       strict=False)), 5)
    assert paired[0].paired_change == 2.0 and paired[0].paired_n == 5
    few = compare_self_assessment(question, pre, post[:4], list(zip(pre, post[:4],
                                                                    strict=False)), 5)
    assert few[0].post_mean is None and few[0].paired_change is None and few[0].change is None


def test_the_shown_change_follows_one_rule_paired_or_not(spec):
    """Paired: the change per person or nothing (never the difference of the means in its
    place, which the evaluator's page showed where the report showed '–'); unpaired: the
    difference of the means."""
    question = spec.question("competences")
    pre = [answer(strategy=2, ethics=3) for _ in range(6)]
    post = [answer(strategy=4, ethics=3) for _ in range(5)]
    hidden = compare_self_assessment(question, pre, post, list(zip(pre, post, strict=False)),
                                     5)[0]
    assert hidden.change == 2.0 and hidden.paired_change is None
    assert shown_change(hidden, paired=True) is None
    unpaired = shown_change(hidden, paired=False)
    assert (unpaired.kind, unpaired.value, unpaired.n) == ("unpaired", 2.0, 0)
    paired = shown_change(compare_self_assessment(
        question, pre[:5], post, list(zip(pre, post, strict=False)), 5)[0], paired=True)
    assert (paired.kind, paired.value, paired.n, paired.off_shown_means) == (
        "paired", 2.0, 5, False)


@pytest.mark.parametrize(("pre", "post", "change", "off"), [
    (3.24, 3.36, 0.12, True),  # "3.2 -> 3.4" beside "+0.1"
    (3.16, 3.44, 0.28, True),  # "3.2 -> 3.4" beside "+0.3"
    (3.2, 3.4, 0.2, False),
    (3.46, 3.24, -0.22, True),  # "3.5 -> 3.2" beside "−0.2"
    (3.44, 3.16, -0.28, True),  # "3.4 -> 3.2" beside "−0.3"
    (3.41, 3.19, -0.22, False),  # "3.4 -> 3.2" beside "−0.2"

    (2.0, 3.8, 1.8, False),
])
def test_a_change_off_the_rounded_means_is_flagged_not_recomputed(pre, post, change, off):
    """The change stays computed from unrounded figures (not faked from the rounded means);
    where the two rounded means do not subtract to it as shown, it says so."""
    area = AreaChange("a", "A", 10, pre, 10, post, 0, None)
    shown = shown_change(area, paired=False)
    assert shown.value == pytest.approx(change)
    expected = (round_half_up(post) - round_half_up(pre)
                != Decimal(format_change(change, "en").replace("\u2212", "-")))
    assert shown.off_shown_means is off is expected


def test_format_change_takes_its_sign_from_the_rounded_value():
    assert [format_change(v, "da") for v in (0.6, -0.25, 0.04, -0.04, None)] == [
        "+0,6", "\u22120,3", "0,0", "0,0", None]
