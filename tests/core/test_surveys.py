"""Answer validation and normalisation: one format from web forms, paper answers and storage."""

from __future__ import annotations

from datetime import date

import pytest

from cohort.core.planning import plan_cohort
from cohort.core.programme import parse_programme
from cohort.core.surveys import (
    AnswersInvalid,
    answer_columns,
    choices,
    clean_text,
    normalise_answers,
    survey_spec,
)
from tests.fixtures.programmes import WITH_QUESTIONS


@pytest.fixture(scope="module")
def spec():
    return survey_spec(parse_programme(WITH_QUESTIONS, "x.yaml"), "evaluation")


def errors(spec, raw, **kwargs) -> list[str]:
    with pytest.raises(AnswersInvalid) as caught:
        normalise_answers(spec, raw, **kwargs)
    return [str(e) for e in caught.value.errors]


COMPLETE = {"relevant": "4", "format": "Workshop", "tools": ["1", "3"], "recommend": "0",
            "comments": "  Godt møde\r\nTak ", "competences": {"strategy": "2", "ethics": 5}}


def test_complete_answers_are_normalised(spec):
    assert normalise_answers(spec, COMPLETE) == {
        "relevant": 4, "format": 2, "tools": [1, 3], "recommend": 0,
        "comments": "Godt møde\nTak", "competences": {"strategy": 2, "ethics": 5}}


def test_labels_are_accepted_case_insensitively(spec):
    answers = normalise_answers(spec, {**COMPLETE, "relevant": "helt enig", "tools":
                                       "Brugerrejse | teknologiradaren",
                                       "competences": {"strategy": "I høj grad", "ethics": 1}})
    assert answers["relevant"] == 5 and answers["tools"] == [1, 2]
    assert answers["competences"] == {"strategy": 4, "ethics": 1}


def test_optional_questions_may_be_left_out(spec):
    answers = normalise_answers(spec, {**COMPLETE, "tools": [], "comments": "   "})
    assert "tools" not in answers and "comments" not in answers


def test_every_problem_is_reported_by_question_and_area(spec):
    raw = {"relevant": "6", "format": "", "tools": "1|2|3", "recommend": "11",
           "comments": "x" * 2001, "competences": {"strategy": "9", "ethic": 2},
           "extra": "1"}
    assert errors(spec, raw) == [
        "extra: no such question in this survey",
        "relevant: '6' is not one of the choices (1-5 or a label)",
        "format: an answer is required",
        "tools: 3 options chosen; at most 2",
        "recommend: '11' is not one of the choices (0-10 or a label)",
        "comments: is 2001 characters long; at most 2000",
        "competences.ethic: no such area in this question",
        "competences.strategy: '9' is not one of the choices (1-5 or a label)",
        "competences.ethics: an answer is required",
    ]


def test_required_is_not_enforced_for_paper_answers(spec):
    assert normalise_answers(spec, {"relevant": 3}, enforce_required=False) == {"relevant": 3}


def test_booleans_and_garbage_are_not_numbers(spec):
    assert errors(spec, {**COMPLETE, "relevant": True}) == [
        "relevant: 'True' is not one of the choices (1-5 or a label)"]
    assert errors(spec, {**COMPLETE, "recommend": "7.5"}) == [
        "recommend: '7.5' is not one of the choices (0-10 or a label)"]


def test_control_characters_are_removed_from_text():
    assert clean_text("a\x00b\x1bc\td\n") == "abc\td"


def test_default_labels_follow_the_language():
    programme = parse_programme(WITH_QUESTIONS, "x.yaml")
    likert = programme.survey("evaluation").question("relevant")
    assert [c.label for c in choices(likert, "da")][0] == "Helt uenig"
    assert [c.label for c in choices(likert, "nb")][2] == "Verken enig eller uenig"
    assert [c.label for c in choices(likert, "en")][4] == "Strongly agree"
    assert [c.value for c in choices(programme.survey("evaluation").question("recommend"),
                                     "da")] == list(range(11))


def test_columns_name_questions_and_areas(spec):
    assert [c.name for c in answer_columns(spec)] == [
        "relevant", "format", "tools", "recommend", "comments", "competences.strategy",
        "competences.ethics"]


# --- the shipped programmes carry the seeds' instruments -------------------------------------

def test_reference_final_survey_asks_the_seed_headline_behaviour_items(library):
    final = library.programmes["digital-lederskab"].survey("final")
    assert final.kind == "final" and final.mode == "anonymous"
    reports = {q.id: q.report for q in final.questions if q.type == "likert5"}
    assert reports["new-tools"] == "anvendte nye værktøjer og metoder i deres daglige arbejde"
    assert reports["network"] == "opbyggede værdifulde netværk"
    assert reports["passed-on"] == "formidlede viden, erfaringer og værktøjer i egen organisation"
    assert "medarbejdernes engagement" in reports["staff-engagement"]
    assert "potentialer og begrænsninger" in reports["judge-technology"]
    levels = {q.id: q.level for q in final.questions}
    assert levels["new-tools"] == levels["network"] == levels["passed-on"] == "behaviour"


def test_reference_pre_and_post_self_assessments_pair_up(library):
    programme = library.programmes["digital-lederskab"]
    pre, post = programme.survey("self-assessment-pre"), programme.survey("self-assessment-post")
    assert (pre.kind, pre.mode, post.kind, post.mode) == ("pre", "identified", "post",
                                                          "identified")
    assert post.compare_with == "self-assessment-pre"
    assert pre.question("competences").areas == post.question("competences").areas
    assert len(pre.question("competences").areas) >= 8
    plan = plan_cohort(programme, date(2025, 4, 8))
    planned = {s.key: s for s in plan.surveys}
    kickoff = plan.meeting("kickoff")
    assert planned["self-assessment-pre"].opens_at < planned["self-assessment-pre"].closes_at
    assert planned["self-assessment-pre"].closes_at <= kickoff.starts_at
    assert planned["self-assessment-post"].opens_at > plan.meetings[-1].ends_at


def test_every_meeting_evaluation_has_questions(library):
    for programme in library.programmes.values():
        for survey in programme.surveys:
            assert survey.questions, f"{programme.id}: {survey.key} has no questions"
    evaluation = library.programmes["digital-lederskab"].survey("meeting-evaluation")
    assert evaluation.repeat == "each-meeting" and evaluation.kind == "meeting"


def test_norwegian_programme_assesses_the_four_aspects(library):
    programme = library.programmes["digital-helsekompetanse"]
    areas = [a.text for a in programme.survey("egenvurdering-for").question("kompetanse").areas]
    assert areas == ["teknologisk kompetanse", "mestringskompetanse", "pedagogisk kompetanse",
                     "innovasjons- og implementeringskompetanse"]
    guide = next(g for g in programme.evaluation.guides if g.kind == "interview")
    assert "digital helsekompetanse" in guide.sections[0].questions[0]
