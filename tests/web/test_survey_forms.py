"""Survey forms built from definitions: every question type renders and validates.

Hypothesis generates survey definitions (all six question types, required or not, custom
labels, limits) and submissions (valid, missing, out of range, garbage, too many choices, too
long, control characters) and checks the form against an independent expectation of which
answers are acceptable and what is stored.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask_babel import Babel
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from cohort.core.programme import QUESTION_TYPES, Survey
from cohort.core.surveys import clean_text, spec_from_survey
from cohort.web.survey_forms import answers_from_form, build_survey_form, field_name
from tests.fixtures.properties import property_settings

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INVALID = object()
ABSENT = object()


@pytest.fixture(scope="module")
def app():
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=True)
    Babel(app)
    return app


# --- definitions ----------------------------------------------------------------------------

labels = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
                 min_size=1, max_size=15).map(str.strip).filter(bool)
keys = st.from_regex(r"[a-z][a-z0-9-]{0,6}", fullmatch=True)


@st.composite
def question_dicts(draw, qid: str) -> dict:
    kind = draw(st.sampled_from(QUESTION_TYPES))
    question = {"id": qid, "type": kind, "text": draw(labels), "required": draw(st.booleans())}
    if kind == "likert5" and draw(st.booleans()):
        question["labels"] = draw(st.lists(labels, min_size=5, max_size=5, unique=True))
    if kind in ("single_choice", "multiple_choice"):
        question["options"] = draw(st.lists(labels, min_size=2, max_size=6, unique=True))
    if kind == "multiple_choice" and draw(st.booleans()):
        question["max_choices"] = draw(st.integers(1, len(question["options"])))
    if kind == "rating":
        question["low_label"] = draw(st.one_of(st.just(""), labels))
    if kind == "text":
        question["max_length"] = draw(st.integers(1, 40))
    if kind == "self_assessment":
        area_ids = draw(st.lists(keys, min_size=1, max_size=4, unique=True))
        question["areas"] = [{"id": a, "text": draw(labels)} for a in area_ids]
        if draw(st.booleans()):
            question["scale"] = draw(st.lists(labels, min_size=2, max_size=7, unique=True))
    return question


@st.composite
def specs(draw):
    ids = draw(st.lists(keys, min_size=1, max_size=6, unique=True))
    survey = Survey.model_validate({
        "key": "s", "title": "Survey", "open": "first",
        "questions": [draw(question_dicts(qid)) for qid in ids],
    })
    return spec_from_survey(survey, draw(st.sampled_from(["da", "nb", "en"])))


# --- submissions with their expected outcome ------------------------------------------------

def values_of(question) -> list[int]:
    if question.type == "likert5":
        return [1, 2, 3, 4, 5]
    if question.type == "rating":
        return list(range(11))
    if question.type == "self_assessment":
        return list(range(1, len(question.scale or range(5)) + 1))
    return list(range(1, len(question.options) + 1))


@st.composite
def one_choice(draw, name: str, values: list[int], required: bool):
    """Entries for a radio group and the expected stored value (or ABSENT / INVALID)."""
    how = draw(st.sampled_from(["valid", "omit", "empty", "out_of_range", "garbage"]))
    if how == "valid":
        value = draw(st.sampled_from(values))
        return [(name, str(value))], value
    if how in ("omit", "empty"):
        entries = [] if how == "omit" else [(name, "")]
        return entries, INVALID if required else ABSENT
    if how == "out_of_range":
        bad = draw(st.one_of(st.integers(max_value=min(values) - 1),
                             st.integers(min_value=max(values) + 1)))
        return [(name, str(bad))], INVALID
    return [(name, draw(st.text(string.ascii_letters, min_size=1, max_size=5)))], INVALID


@st.composite
def submissions(draw, spec):
    entries: list[tuple[str, str]] = []
    expected: dict[str, object] = {}
    for q in spec.questions:
        name = field_name(q.id)
        if q.type == "text":
            how = draw(st.sampled_from(["text", "omit", "blank"]))
            if how == "omit":
                value = None
            elif how == "blank":
                value = draw(st.sampled_from(["", "   ", "\x00", " \t\r\n"]))
            else:
                value = draw(st.text(max_size=q.max_length + 5))
            if value is not None:
                entries.append((name, value))
            cleaned = clean_text(value or "")
            if not cleaned:
                expected[q.id] = INVALID if q.required else ABSENT
            else:
                expected[q.id] = INVALID if len(cleaned) > q.max_length else cleaned
        elif q.type == "multiple_choice":
            values = values_of(q)
            picked = draw(st.lists(st.sampled_from(values), max_size=len(values) + 1))
            bad = draw(st.booleans()) and draw(st.sampled_from(["0", str(len(values) + 1), "x"]))
            entries += [(name, str(v)) for v in picked] + ([(name, bad)] if bad else [])
            if bad:
                expected[q.id] = INVALID
            elif not picked:
                expected[q.id] = INVALID if q.required else ABSENT
            elif q.max_choices and len(set(picked)) > q.max_choices:
                expected[q.id] = INVALID
            else:
                expected[q.id] = sorted(set(picked))
        elif q.type == "self_assessment":
            rated, invalid = {}, False
            for area in q.areas:
                area_entries, value = draw(one_choice(f"{name}.{area.id}", values_of(q),
                                                      q.required))
                entries += area_entries
                invalid |= value is INVALID
                if value not in (ABSENT, INVALID):
                    rated[area.id] = value
            expected[q.id] = INVALID if invalid else (rated or ABSENT)
        else:
            question_entries, expected[q.id] = draw(one_choice(name, values_of(q), q.required))
            entries += question_entries
    return MultiDict(entries), expected


@st.composite
def specs_with_submissions(draw):
    spec = draw(specs())
    return spec, *draw(submissions(spec))


# --- the properties -------------------------------------------------------------------------

@property_settings(300)
@given(specs_with_submissions())
def test_form_accepts_exactly_the_valid_answers_and_stores_them_normalised(app, case):
    spec, formdata, expected = case
    with app.test_request_context():
        form = build_survey_form(spec)(formdata=formdata, meta={"csrf": False})
        valid = form.validate()
        wanted_invalid = {qid for qid, v in expected.items() if v is INVALID}
        assert valid == (not wanted_invalid), form.errors
        if valid:
            stored = {qid: v for qid, v in expected.items() if v is not ABSENT}
            assert answers_from_form(spec, form) == stored
        else:
            assert set(form.errors) == {field_name(q) for q in wanted_invalid}


@property_settings(100)
@given(specs())
def test_every_question_renders_with_its_choices(app, spec):
    with app.test_request_context():
        form = build_survey_form(spec)(formdata=None, meta={"csrf": False})
        html = render_template_string(
            '{% from "surveys/_form.html" import survey_fields %}{{ survey_fields(form) }}',
            form=form)
    for q in spec.questions:
        assert str(escape(q.text)) in html
        name = field_name(q.id)
        if q.type == "text":
            assert f'name="{name}"' in html and f'maxlength="{q.max_length}"' in html
        elif q.type == "self_assessment":
            for area in q.areas:
                assert len(re.findall(f'name="{re.escape(name)}.{re.escape(area.id)}"',
                                      html)) == len(values_of(q))
        else:
            kind = "checkbox" if q.type == "multiple_choice" else "radio"
            inputs = re.findall(f'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
            assert len(inputs) == len(values_of(q))
            assert all(f'type="{kind}"' in tag for tag in inputs)
        if q.type in ("single_choice", "multiple_choice"):
            for option in q.options:
                assert str(escape(option)) in html


def test_errors_are_shown_next_to_the_question(app):
    survey = Survey.model_validate({"key": "s", "title": "T", "open": "first", "questions": [
        {"id": "data", "type": "likert5", "text": "Nyttigt?"},
        {"id": "errors", "type": "text", "text": "Hvorfor?", "max_length": 5},
    ]})
    spec = spec_from_survey(survey, "da")
    with app.test_request_context():
        form = build_survey_form(spec)(formdata=MultiDict([("q-errors", "for langt svar")]),
                                       meta={"csrf": False})
        assert not form.validate()
        html = render_template_string(
            '{% from "surveys/_form.html" import survey_fields %}{{ survey_fields(form) }}',
            form=form)
    assert 'id="q-data-errors"' in html and "Please answer this question." in html
    assert "Please keep the answer under 5 characters." in html
    assert "Helt uenig" in html and "Helt enig" in html


def test_web_form_requires_a_csrf_token(app):
    survey = Survey.model_validate({"key": "s", "title": "T", "open": "first", "questions": [
        {"id": "useful", "type": "rating", "text": "Score?"}]})
    with app.test_request_context(method="POST"):
        form = build_survey_form(spec_from_survey(survey, "en"))(
            formdata=MultiDict([("q-useful", "7")]))
        assert not form.validate() and "csrf_token" in form.errors
