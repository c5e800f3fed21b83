"""Template loading: shipped programmes validate; broken ones get file:line: field: message."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohort.core.programme import ProgrammeError, load_library, parse_programme
from tests.fixtures.paths import PROGRAMMES
from tests.fixtures.programmes import VALID, WITH_QUESTIONS


def errors_of(text: str) -> list[str]:
    with pytest.raises(ProgrammeError) as caught:
        parse_programme(text, "programmes/x.yaml")
    return [str(e) for e in caught.value.errors]


def test_minimal_template_is_valid():
    programme = parse_programme(VALID, "programmes/x.yaml")
    assert [m.key for m in programme.meetings] == ["kickoff", "webinar-1"]


@pytest.mark.parametrize("programme_id", [
    "digital-lederskab", "ledelse-i-digitalisering", "digital-helsekompetanse",
])
def test_shipped_programmes_are_valid(programme_id):
    library = load_library(PROGRAMMES)
    assert not library.broken, "\n".join(str(e) for e in library.broken.values())
    assert programme_id in library.programmes


def test_shipped_programme_languages():
    programmes = load_library(PROGRAMMES).programmes
    assert programmes["digital-lederskab"].language == "da"
    assert programmes["ledelse-i-digitalisering"].language == "da"
    assert programmes["digital-helsekompetanse"].language == "nb"
    assert programmes["digital-helsekompetanse"].timezone == "Europe/Oslo"


BROKEN = [
    # (what is wrong, replace this, with this, the exact error expected)
    ("unknown meeting kind", "kind: webinar\n", "kind: webinaar\n",
     "programmes/x.yaml:10: meetings[1].kind: 'webinaar' is not one of kickoff, webinar, "
     "workshop, module, kickout"),
    ("typo in a field name", "    duration: 2h\n", "    duraton: 2h\n",
     "programmes/x.yaml:13: meetings[1].duraton: unknown field 'duraton' "
     "(did you mean 'duration'?)"),
    ("anchor to an unknown meeting", "due: next -1d 12:00", "due: webinar-9 -1d 12:00",
     "programmes/x.yaml:20: tasks[0].due: anchor 'webinar-9 -1d 12:00' names unknown meeting "
     "'webinar-9' (did you mean 'webinar-1'?); meetings: kickoff, webinar-1"),
    ("duplicate YAML key", "    title: Webinar 1\n", "    title: Webinar 1\n    title: Again\n",
     "programmes/x.yaml:12: meetings[1].title: duplicate key 'title'"),
    ("duplicate meeting key", "  - key: webinar-1\n", "  - key: kickoff\n",
     "programmes/x.yaml:9: meetings[1].key: duplicate meeting key 'kickoff'"),
    ("missing required field", "    title: Kick-off\n", "",
     "programmes/x.yaml:5: meetings[0].title: required field is missing"),
    ("impossible duration", "duration: 2h", "duration: 30h",
     "programmes/x.yaml:13: meetings[1].duration: 30 h 0 min is impossible: a meeting lasts "
     "5 min to 12 h"),
    ("unreadable duration", "duration: 2h", "duration: two hours",
     "programmes/x.yaml:13: meetings[1].duration: 'two hours' is not a duration such as 2h, "
     "90min or 3w 2d"),
    ("due before release", "due: next -1d 12:00", "due: meeting -1d 12:00",
     "programmes/x.yaml:20: tasks[0].due: due 'meeting -1d 12:00' comes before release "
     "'meeting end +1d 08:00' (for meeting 'kickoff')"),
    ("YAML syntax error", "title: Mini\n", "title: [Mini\n",
     "programmes/x.yaml:3: YAML syntax error: expected ',' or ']', but got ':'; "
     "text containing : ? [ ] { } , or # may need \"quotes\""),
    ("unknown language", "language: da", "language: sv",
     "programmes/x.yaml:3: language: 'sv' is not one of da, nb, en"),
    ("unknown time zone", "language: da\n", "language: da\ntimezone: Europe/Kobenhavn\n",
     "programmes/x.yaml:4: timezone: 'Europe/Kobenhavn' is not a time zone such as "
     "Europe/Copenhagen"),
    ("negative meeting offset", "offset: 9d", "offset: -3d",
     "programmes/x.yaml:12: meetings[1].offset: '-3d' is negative: meetings start on or after "
     "the cohort start"),
    ("relative anchor in a one-off item", "open: last end +0d 16:00", "open: next",
     "programmes/x.yaml:24: surveys[0].open: 'next' only works with repeat: each-meeting; "
     "name a meeting key"),
    ("unreadable anchor", "release: meeting end +1d 08:00", "release: meeting plus one day",
     "programmes/x.yaml:19: tasks[0].release: cannot read 'plus' in anchor 'meeting plus one "
     "day': expected start/end, an offset such as +1d or -2h, then a time such as 08:00"),
    ("bad start time", "    offset: 0d\n", "    offset: 0d\n    start: '25:00'\n",
     "programmes/x.yaml:9: meetings[0].start: '25:00' is not a time of day such as 08:00 or "
     "13:30"),
    ("reserved meeting key", "key: webinar-1\n", "key: next\n",
     "programmes/x.yaml:9: meetings[1].key: 'next' is a reserved word in anchors; choose another"),
]


@pytest.mark.parametrize("what, old, new, expected", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_template_error_names_file_line_and_field(what, old, new, expected):
    assert old in VALID
    assert expected in errors_of(VALID.replace(old, new, 1))


def test_every_error_is_reported_not_just_the_first():
    broken = VALID.replace("kind: webinar\n", "kind: webinaar\n").replace("language: da",
                                                                          "language: sv")
    assert len(errors_of(broken)) == 2


def test_meetings_out_of_order_are_rejected():
    broken = VALID.replace("offset: 0d", "offset: 20d")
    assert ("programmes/x.yaml:12: meetings[1].offset: meetings must be listed in date order"
            in errors_of(broken))


def test_broken_file_is_listed_in_library_not_hidden(tmp_path):
    (tmp_path / "good.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(VALID.replace("kind: webinar\n", "kind: x\n"),
                                       encoding="utf-8")
    library = load_library(tmp_path)
    assert list(library.programmes) == ["mini"]
    assert list(library.broken) == [f"{tmp_path.name}/bad.yaml"]


def test_a_folder_keeps_the_text_it_parsed_reading_each_file_once(tmp_path, monkeypatch):
    """The source kept beside a programme is the text that was parsed: a file rewritten
    between two reads must not give a programme with another file's text."""
    (tmp_path / "good.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("id: [", encoding="utf-8")
    reads = []
    read_text = Path.read_text

    def counted(path, *args, **kwargs):
        reads.append(path.name)
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counted)
    library = load_library(tmp_path)
    assert sorted(reads) == ["bad.yaml", "good.yaml"]
    assert library.sources == {"mini": VALID}


def test_unquoted_clock_times_are_read_as_text():
    text = VALID.replace("    offset: 0d\n", "    offset: 0d\n    start: 9:30\n")
    programme = parse_programme(text, "x.yaml")
    assert programme.meetings[0].start.hour == 9


def test_survey_questions_and_evaluation_are_read():
    programme = parse_programme(WITH_QUESTIONS, "programmes/x.yaml")
    survey = programme.survey("evaluation")
    assert survey.kind == "final" and survey.mode == "anonymous"
    assert [q.type for q in survey.questions] == [
        "likert5", "single_choice", "multiple_choice", "rating", "text", "self_assessment"]
    assert survey.question("relevant").report == "fandt mødet relevant for deres arbejde"
    assert survey.question("relevant").level == "reaction"
    assert survey.question("comments").required is False
    assert [a.id for a in survey.question("competences").areas] == ["strategy", "ethics"]
    assert programme.evaluation.min_group_size == 6
    assert programme.evaluation.guide("observation").sections[0].questions == [
        "Hvem taler?", "Hvem tier?"]


def test_survey_kind_defaults_follow_repeat():
    text = VALID.replace("    open: last end +0d 16:00\n",
                         "    open: meeting end +0d 16:00\n    repeat: each-meeting\n")
    assert parse_programme(text, "x.yaml").surveys[0].kind == "meeting"
    assert parse_programme(VALID, "x.yaml").surveys[0].kind == "final"
    assert parse_programme(VALID, "x.yaml").evaluation.min_group_size == 5


BROKEN_SURVEYS = [
    ("unknown question type", "type: rating\n", "type: stars\n",
     "programmes/x.yaml:42: surveys[0].questions[3].type: 'stars' is not one of likert5, "
     "single_choice, multiple_choice, rating, text, self_assessment"),
    ("question without type", "        type: rating\n", "",
     "programmes/x.yaml:41: surveys[0].questions[3].type: required field is missing: the "
     "question type, one of likert5, single_choice, multiple_choice, rating, text, "
     "self_assessment"),
    ("typo in a question field", "        required: false\n      - id: recommend",
     "        requird: false\n      - id: recommend",
     "programmes/x.yaml:40: surveys[0].questions[2].requird: unknown field 'requird' "
     "(did you mean 'required'?)"),
    ("report phrase on a non-likert question", "        high_label: I høj grad\n",
     "        high_label: I høj grad\n        report: anbefaler forløbet\n",
     "programmes/x.yaml:46: surveys[0].questions[3].report: unknown field 'report'"),
    ("unknown Kirkpatrick level", "level: reaction", "level: reactions",
     "programmes/x.yaml:29: surveys[0].questions[0].level: 'reactions' is not one of reaction, "
     "learning, behaviour, results"),
    ("single choice with one option", "options: [Webinar, Workshop]", "options: [Webinar]",
     "programmes/x.yaml:34: surveys[0].questions[1].options: needs at least 2 item(s), has 1"),
    ("duplicate option", "options: [Webinar, Workshop]", "options: [Webinar, Webinar]",
     "programmes/x.yaml:34: surveys[0].questions[1].options: option 'Webinar' is listed twice"),
    ("duplicate question id", "      - id: comments\n", "      - id: relevant\n",
     "programmes/x.yaml:46: surveys[0].questions[4].id: duplicate question id 'relevant' in "
     "survey 'evaluation'"),
    ("duplicate area id", "          - id: ethics\n", "          - id: strategy\n",
     "programmes/x.yaml:57: surveys[0].questions[5].areas[1].id: duplicate area id 'strategy' "
     "in question 'competences'"),
    ("bad question id", "      - id: format\n", "      - id: Format!\n",
     "programmes/x.yaml:31: surveys[0].questions[1].id: 'Format!' is not a valid key: use "
     "lower-case letters, digits and hyphens"),
    ("likert with four labels", "        level: reaction\n",
     "        level: reaction\n        labels: [a, b, c, d]\n",
     "programmes/x.yaml:30: surveys[0].questions[0].labels: a likert5 question has 5 labels, "
     "not 4"),
    ("self-assessment without areas",
     "        areas:\n          - id: strategy\n            text: Koble teknologi til strategi\n"
     "          - id: ethics\n            text: Etik og governance\n", "        areas: []\n",
     "programmes/x.yaml:54: surveys[0].questions[5].areas: needs at least 1 item(s), has 0"),
    ("max_choices above options", "max_choices: 2", "max_choices: 4",
     "programmes/x.yaml:39: surveys[0].questions[2].max_choices: max_choices 4 is more than "
     "the 3 options"),
    ("unknown survey kind", "    title: Evaluering\n", "    title: Evaluering\n    kind: exit\n",
     "programmes/x.yaml:24: surveys[0].kind: 'exit' is not one of meeting, pre, post, final, "
     "follow_up"),
    ("unknown survey mode", "    title: Evaluering\n",
     "    title: Evaluering\n    mode: anonymus\n",
     "programmes/x.yaml:24: surveys[0].mode: 'anonymus' is not one of anonymous, identified"),
    ("compare_with an unknown survey", "    title: Evaluering\n",
     "    title: Evaluering\n    compare_with: evalution\n",
     "programmes/x.yaml:24: surveys[0].compare_with: no survey 'evalution' (did you mean "
     "'evaluation'?); surveys: evaluation"),
    ("minimum group size below 3", "min_group_size: 6", "min_group_size: 2",
     "programmes/x.yaml:60: evaluation.min_group_size: 2 is too small: figures for fewer than "
     "3 answers can identify people"),
    ("unknown guide kind", "kind: observation", "kind: observasjon",
     "programmes/x.yaml:64: evaluation.guides[0].kind: 'observasjon' is not one of "
     "observation, interview"),
    ("typo in evaluation", "  themes: [", "  temes: [",
     "programmes/x.yaml:61: evaluation.temes: unknown field 'temes' (did you mean 'themes'?)"),
    ("duplicate theme", "[Tid til at lære, Ledelse]", "[Ledelse, Ledelse]",
     "programmes/x.yaml:61: evaluation.themes: theme 'Ledelse' is listed twice"),
]


@pytest.mark.parametrize("what, old, new, expected", BROKEN_SURVEYS,
                         ids=[b[0] for b in BROKEN_SURVEYS])
def test_broken_survey_error_names_file_line_and_field(what, old, new, expected):
    assert old in WITH_QUESTIONS
    assert expected in errors_of(WITH_QUESTIONS.replace(old, new, 1))


def test_shipped_survey_intros_leave_anonymity_to_the_survey_page():
    """The survey page says once whether the answers are anonymous and who sees them
    (templates/participant/survey.html, #survey-privacy); an intro that says it again repeats
    it, in the programme's own words that may drift from the page's."""
    repeating = [f"{programme.id}/{survey.key}: {survey.intro}"
                 for programme in load_library(PROGRAMMES).programmes.values()
                 for survey in programme.surveys
                 if "anonym" in survey.intro.lower() or "med navn" in survey.intro.lower()]
    assert repeating == []
