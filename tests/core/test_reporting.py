"""Report data from plain facts, without a database: levels, rounding, suppression."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import scipy.stats

from cohort.core.attendance import MeetingInfo, PersonInfo
from cohort.core.attendance import summarise as summarise_attendance
from cohort.core.programme import load_programme_file
from cohort.core.report_comparison import compare_reports
from cohort.core.reporting import (
    CohortFacts,
    MeetingFacts,
    NotComparable,
    ParticipantFacts,
    PrePostFacts,
    QuoteFacts,
    ReportFacts,
    SurveyFacts,
    TemplateFacts,
    build_report,
    share,
    signed_decimal,
)
from cohort.core.survey_results import compare_self_assessment, format_decimal, summarise
from cohort.core.surveys import survey_spec
from tests.fixtures.paths import PROGRAMMES
from tests.fixtures.report import STATEMENTS, final_answers

PROGRAMME = load_programme_file(PROGRAMMES / "digital-lederskab.yaml")
NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
OPENS = datetime(2025, 10, 3, 7, 0, tzinfo=UTC)


def facts(participants=(), final=None, attendance=None, k=5, programme_id=None) -> ReportFacts:
    surveys, templates = [], []
    if final is not None:
        spec = survey_spec(PROGRAMME, "final")
        summary = summarise(spec, final, k, random.Random(1))
        surveys.append(SurveyFacts("final", "final", spec.title, "final", "anonymous", "last",
                                   OPENS, OPENS + timedelta(days=21), 40, len(final), None))
        templates.append(TemplateFacts("final", spec.title, "final", "anonymous", summary))
    meetings = tuple(MeetingFacts(m.key, m.title, m.kind, "online",
                                  datetime(2025, 4, 8, 11, tzinfo=UTC) + timedelta(m.offset),
                                  datetime(2025, 4, 8, 13, tzinfo=UTC) + timedelta(m.offset))
                     for m in PROGRAMME.meetings)
    return ReportFacts(
        cohort=CohortFacts(1, "Hold 1", programme_id or PROGRAMME.id, PROGRAMME.title, "da",
                           "Europe/Copenhagen", date(2025, 4, 8)),
        meetings=meetings, participants=tuple(participants), surveys=tuple(surveys),
        templates=tuple(templates), pre_post=(), attendance=attendance, quotes=(),
        themes=(), observations=0, interviews=0, min_group_size=k)


def test_share_and_signed_changes_use_the_one_rounding_rule():
    assert share(25, 40, "da").text == "63 %" and share(25, 40, "en").text == "63%"
    assert share(1, 8, "nb").percent == 13
    assert share(3, 0, "da") is None
    assert signed_decimal(0.25, "da") == "+0,3"
    assert signed_decimal(-0.25, "en") == "\u22120.3"
    assert signed_decimal(0.04, "da") == "0,0"
    assert signed_decimal(None, "da") is None


def test_final_statements_from_known_answers():
    report = build_report(facts(final=final_answers()), "da", NOW)
    statements = {s.id: s.statement for s in report.headline.statements}
    for question_id, expected in STATEMENTS.items():
        assert statements[question_id] == expected
    assert statements["passed-on"] is None  # 4 answers, fewer than 5


def test_a_larger_minimum_group_suppresses_more():
    report = build_report(facts(final=final_answers(), k=10), "da", NOW)
    statements = {s.id: s for s in report.headline.statements}
    assert statements["network"].suppressed and statements["network"].n == 8
    assert statements["new-tools"].statement.startswith("25 af 40 (63 %)")


def test_a_final_survey_with_too_few_answers_has_no_headline():
    report = build_report(facts(final=final_answers()[:4]), "da", NOW)
    assert report.headline is None
    assert [(s.kind, s.n) for s in report.method.suppressed] == [("survey", 4)]


def test_too_few_participants_show_no_breakdown():
    people = [ParticipantFacts("Lier kommune", "Leder")] * 4
    report = build_report(facts(people), "nb", NOW)
    assert report.about.organisations is None and report.about.roles is None
    assert [s.kind for s in report.method.suppressed] == ["participants"]


def test_attendance_figures_about_few_people_are_hidden():
    meetings = [MeetingInfo("kickoff", "Kick-off", "kickoff", datetime(2025, 4, 8, tzinfo=UTC)),
                MeetingInfo("workshop-1", "Workshop 1", "workshop",
                            datetime(2025, 4, 17, tzinfo=UTC))]
    people = [PersonInfo(i, f"P{i}", f"p{i}@x.org") for i in range(6)]
    marks = {("kickoff", i): "present" if i < 5 else "absent" for i in range(6)}
    marks |= {("workshop-1", i): "present" for i in range(6)}
    summary = summarise_attendance(meetings, people, marks, min_group=5)
    attendance = build_report(facts(attendance=summary), "da", NOW).about.attendance
    assert [r.share.text for r in attendance.meetings] == ["83 %", "100 %"]
    assert [(row.label, row.count) for row in attendance.distribution] == [
        ("0", 0), ("1", 1), ("2", 5)]
    assert attendance.overall.text == "92 %"  # 11 of 12
    hidden = summarise_attendance(meetings, people[:4], marks, min_group=5)
    attendance = build_report(facts(attendance=hidden), "da", NOW).about.attendance
    assert [r.share for r in attendance.meetings] == [None, None]
    assert attendance.overall is None and attendance.distribution is None


def test_meetings_are_held_planned_or_cancelled_relative_to_now():
    data = facts()
    data = replace(data, meetings=tuple(replace(m, cancelled=m.key == "webinar-2")
                                        for m in data.meetings))
    about = build_report(data, "da", datetime(2025, 5, 20, tzinfo=UTC)).about
    assert (about.held, about.planned, about.cancelled) == (3, 3, 1)
    assert about.first_day == date(2025, 4, 8)


def test_nothing_to_report_yet_still_builds():
    report = build_report(facts(), "en", NOW)
    assert report.headline is None and report.reaction.matrices == ()
    assert report.learning.pre_post == () and report.results.free_text == ()
    assert report.method.sources == () and report.about.attendance is None


def test_comparison_refuses_different_programmes_and_matches_by_question():
    first = build_report(facts(final=final_answers()), "da", NOW)
    second = build_report(facts(final=final_answers()[:30]), "da", NOW)
    other = build_report(facts(programme_id="ledelse-i-digitalisering"), "da", NOW)
    with pytest.raises(NotComparable):
        compare_reports(first, other)
    final = next(s for s in compare_reports(first, second).sections if s.key == "final")
    rows = {r.label: r for r in final.rows}
    new_tools = rows["Jeg har anvendt nye værktøjer og metoder fra forløbet i mit daglige "
                     "arbejde"]
    assert (new_tools.first.text, new_tools.second.text) == ("63 %", "83 %")  # 25/30
    assert new_tools.second.detail == "25/30"


def test_anonymous_pre_post_shows_the_distribution_shift_without_pairs():
    """Anonymous self-assessments cannot be paired: means and the share in the top two steps
    before and after, each with its n."""
    pre_spec = survey_spec(PROGRAMME, "self-assessment-pre")
    post_spec = survey_spec(PROGRAMME, "self-assessment-post")
    question = post_spec.question("competences")
    areas = [a.id for a in question.areas]
    pre = [{"competences": {a: 2 for a in areas}} for _ in range(10)]
    post = ([{"competences": {a: 4 for a in areas}} for _ in range(6)]
            + [{"competences": {a: 3 for a in areas}} for _ in range(2)])
    templates = (
        TemplateFacts("self-assessment-pre", pre_spec.title, "pre", "anonymous",
                      summarise(pre_spec, pre, 5)),
        TemplateFacts("self-assessment-post", post_spec.title, "post", "anonymous",
                      summarise(post_spec, post, 5)),
    )
    changes = compare_self_assessment(question, pre, post, (), 5)
    data = replace(facts(), templates=templates, pre_post=(PrePostFacts(
        "competences", "self-assessment-pre", "self-assessment-post", False, changes),))
    (figure,) = build_report(data, "da", NOW).learning.pre_post
    area = figure.areas[0]
    assert not figure.paired and (figure.pre_responses, figure.post_responses) == (10, 8)
    assert (area.pre_mean, area.post_mean, area.change) == ("2,0", "3,8", "+1,8")
    assert area.paired_change is None and area.paired_n == 0
    assert (area.pre_high.text, area.post_high.text) == ("0 %", "75 %")  # 6 of 8
    assert (area.pre_n, area.post_n) == (10, 8)


# --- uncertainty ----------------------------------------------------------------------------

def _wilson_percent(part: int, whole: int) -> tuple[int, int]:
    """scipy's Wilson interval in whole percent, rounded half up (independent of the core)."""
    interval = scipy.stats.binomtest(part, whole).proportion_ci(0.95, method="wilson")
    return math.floor(interval.low * 100 + 0.5), math.floor(interval.high * 100 + 0.5)


def test_27_of_28_keeps_its_headline_and_gets_its_interval_beside_it():
    answers = [dict(row, **{"new-tools": 4 if i < 27 else 2})
               for i, row in enumerate(final_answers()[:28])]
    report = build_report(facts(final=answers), "da", NOW)
    new_tools = next(s for s in report.headline.statements if s.id == "new-tools")
    phrase = "anvendte nye værktøjer og metoder i deres daglige arbejde"
    assert new_tools.statement == f"27 af 28 (96 %) {phrase}"  # the familiar form
    assert new_tools.statement_with_interval == f"27 af 28 (96 %; 82\u201399 %) {phrase}"
    assert (new_tools.agree.text, new_tools.agree.interval) == ("96 %", "82\u201399 %")
    assert (new_tools.agree.low, new_tools.agree.high) == (82, 99) == _wilson_percent(27, 28)


def test_every_agree_share_has_scipys_wilson_interval():
    report = build_report(facts(final=final_answers()), "en", NOW)
    statements = [s for s in report.headline.statements if not s.suppressed]
    assert len(statements) == 5
    for s in statements:
        assert (s.agree.low, s.agree.high) == _wilson_percent(s.agree.part, s.agree.whole)
        assert s.agree.interval == f"{s.agree.low}\u2013{s.agree.high}%"
    new_tools = statements[0]
    assert new_tools.statement == STATEMENTS["new-tools"]  # programme's language: Danish
    assert new_tools.statement_with_interval.startswith("25 af 40 (63 %; 47\u201376 %) ")
    assert report.headline.response.text == "100%"  # 40 of 40 invited answered


def _pre_post_facts(pre, post, pairs, mode):
    pre_spec = survey_spec(PROGRAMME, "self-assessment-pre")
    post_spec = survey_spec(PROGRAMME, "self-assessment-post")
    question = post_spec.question("competences")
    templates = (
        TemplateFacts("self-assessment-pre", pre_spec.title, "pre", mode,
                      summarise(pre_spec, pre, 5)),
        TemplateFacts("self-assessment-post", post_spec.title, "post", mode,
                      summarise(post_spec, post, 5)),
    )
    changes = compare_self_assessment(question, pre, post, pairs, 5)
    return replace(facts(), templates=templates, pre_post=(PrePostFacts(
        "competences", "self-assessment-pre", "self-assessment-post", bool(pairs), changes),))


def test_anonymous_pre_post_gets_welchs_unpaired_interval():
    rng = random.Random(3)
    areas = [a.id for a in survey_spec(PROGRAMME, "self-assessment-post")
             .question("competences").areas]
    pre = [{"competences": {a: rng.randint(1, 4) for a in areas}} for _ in range(12)]
    post = [{"competences": {a: rng.randint(2, 5) for a in areas}} for _ in range(9)]
    (figure,) = build_report(_pre_post_facts(pre, post, (), "anonymous"), "da", NOW
                             ).learning.pre_post
    assert not figure.paired and not figure.few_pairs
    for area in figure.areas:
        before = [r["competences"][area.id] for r in pre]
        after = [r["competences"][area.id] for r in post]
        result = scipy.stats.ttest_ind(after, before, equal_var=False)
        interval = result.confidence_interval(0.95)
        assert area.interval_kind == "unpaired"
        assert area.low_value == pytest.approx(interval.low)
        assert area.high_value == pytest.approx(interval.high)
        assert area.interval == (f"{signed_decimal(float(interval.low), 'da')} til "
                                 f"{signed_decimal(float(interval.high), 'da')}")
        assert area.df == format_decimal(float(result.df), "da")
        assert area.improved is None and area.effect_size is None  # not known unpaired


def test_paired_pre_post_gets_the_t_interval_share_improved_and_d_z():
    rng = random.Random(5)
    areas = [a.id for a in survey_spec(PROGRAMME, "self-assessment-post")
             .question("competences").areas]
    pre = [{"competences": {a: rng.randint(1, 4) for a in areas}} for _ in range(7)]
    post = [{"competences": {a: min(5, v + rng.choice([-1, 0, 1, 1, 2]))
                             for a, v in p["competences"].items()}} for p in pre]
    data = _pre_post_facts(pre, post, list(zip(pre, post, strict=True)), "identified")
    (figure,) = build_report(data, "nb", NOW).learning.pre_post
    assert figure.paired and figure.few_pairs  # 7 pairs: the report says it is wide
    for area in figure.areas:
        before = [r["competences"][area.id] for r in pre]
        after = [r["competences"][area.id] for r in post]
        differences = [a - b for a, b in zip(after, before, strict=True)]
        assert area.interval_kind == "paired" and area.paired_n == 7 and area.few_pairs
        assert area.improved.part == sum(1 for d in differences if d > 0)
        assert area.improved.whole == 7
        if len(set(differences)) == 1:
            assert area.effect_size is None and area.low_value == area.high_value
            continue
        result = scipy.stats.ttest_rel(after, before)
        interval = result.confidence_interval(0.95)
        assert area.low_value == pytest.approx(interval.low)
        assert area.high_value == pytest.approx(interval.high)
        assert area.effect_size_value == pytest.approx(result.statistic / math.sqrt(7))
        assert area.effect_size == format_decimal(area.effect_size_value, "nb").replace(
            "-", "\u2212")


def test_the_facilitators_report_has_the_figures_but_no_words():
    data = replace(facts(final=final_answers()), quotes=(QuoteFacts(
        "Vi mangler tid.", "Vejle Kommune", "buddygruppe 2", ("Tid og ressourcer",)),),
        themes=("Tid og ressourcer",))
    full = build_report(data, "da", NOW)
    figures = build_report(data, "da", NOW, words=False)
    assert full.words and full.results.themes and full.results.free_text
    assert not figures.words
    assert (figures.results.themes, figures.results.free_text) == ((), ())
    assert figures.headline == full.headline and figures.about == full.about
    assert figures.method == full.method


def test_free_text_comes_from_anonymous_surveys_only():
    """The method chapter promises that identified answers (the self-assessments) are reported
    only as figures for the group: their written answers stay on the evaluators' pages."""
    spec = survey_spec(PROGRAMME, "self-assessment-pre")
    written = [{"hopes": f"Identificeret svar {i}"} for i in range(6)]
    identified = TemplateFacts("self-assessment-pre", spec.title, "pre", "identified",
                               summarise(spec, written, 5, random.Random(1)))
    data = facts(final=final_answers())
    data = replace(data, templates=(*data.templates, identified))
    report = build_report(data, "da", NOW)
    assert report.results.free_text  # the final survey's
    assert {t.survey_title for t in report.results.free_text} == {data.templates[0].title}
    assert not any("Identificeret" in text for t in report.results.free_text
                   for text in t.texts)


def _final_blocks(report):
    return [b for level in (report.reaction, report.learning, report.behaviour, report.results)
            for b in level.blocks if b.key == "final"]


def test_a_survey_not_yet_open_or_still_open_is_not_called_too_small():
    """A survey nobody could answer yet said "fewer than 5 answered" under every question,
    and one still open (its figures wait until it closes) "fewer than 5 answers" in the
    method's list, whatever its count. Each now says which; too few answers keep their
    wording."""
    answers = final_answers()[:8]
    before = build_report(facts(final=[]), "da", OPENS - timedelta(days=2))
    blocks = _final_blocks(before)
    assert blocks and {(b.status, b.day) for b in blocks} == {("not_open", date(2025, 10, 3))}
    assert before.method.suppressed == ()

    data = facts(final=answers)
    open_now = OPENS + timedelta(days=1)
    withheld = replace(data, templates=tuple(
        replace(t, summary=summarise(survey_spec(PROGRAMME, "final"), answers, 5,
                                     random.Random(1), withheld=True))
        for t in data.templates))
    during = build_report(withheld, "da", open_now)
    assert {(b.status, b.day) for b in _final_blocks(during)} == {("open", date(2025, 10, 24))}
    assert [(s.kind, s.n) for s in during.method.suppressed
            if s.subject == withheld.templates[0].title] == [("open", 8)]

    few = build_report(facts(final=answers[:3]), "da", NOW)
    assert {b.status for b in _final_blocks(few)} == {""}
    assert [s.kind for s in few.method.suppressed] == ["survey"]
