"""Figures from answers: n, distributions, means, agree-shares, free text, suppression."""

from __future__ import annotations

import random

import pytest

from cohort.core.programme import parse_programme
from cohort.core.survey_results import (
    agree_statement,
    compare_self_assessment,
    format_decimal,
    format_percent,
    percent,
    round_half_up,
    summarise,
    summarise_by_group,
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


def test_pre_post_change_per_area_paired_and_unpaired(spec):
    question = spec.question("competences")
    pre = [answer(strategy=2, ethics=3) for _ in range(6)]
    post = [answer(strategy=4, ethics=3) for _ in range(5)]
    changes = compare_self_assessment(question, pre, post, list(zip(pre, post, strict=False)),
                                      5)
    strategy = changes[0]
    assert (strategy.pre_n, strategy.post_n, strategy.paired_n) == (6, 5, 5)
    assert strategy.change == 2.0 and strategy.paired_change == 2.0
    few = compare_self_assessment(question, pre, post[:4], list(zip(pre, post[:4],
                                                                    strict=False)), 5)
    assert few[0].post_mean is None and few[0].paired_change is None and few[0].change is None
