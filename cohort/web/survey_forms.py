"""WTForms forms built from a survey definition, for the participant's answering page.

`build_survey_form(spec)` returns a Form class with one field per question (a self-assessment
is a sub-form with one radio group per area). Every field validates its own answer; the
answers the form collects are then normalised by the same core function the services use
(`answers_from_form`), so a web answer and a paper answer are stored alike.

Field names are `q-<question id>` (and `q-<id>.<area id>` inside a self-assessment), so no
question id can collide with a Form attribute such as `data` or `errors`.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, FormField, RadioField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.programme import (
    Likert5Question,
    MultipleChoiceQuestion,
    Question,
    RatingQuestion,
    SelfAssessmentQuestion,
    SingleChoiceQuestion,
    TextQuestion,
)
from ..core.surveys import AREA_SEPARATOR, SurveySpec, choices, clean_text, normalise_answers

FIELD_PREFIX = "q-"


def field_name(question_id: str) -> str:
    return f"{FIELD_PREFIX}{question_id}"


class MultiCheckboxField(SelectMultipleField):
    """Several options as checkboxes (a multi-select list is unusable on a phone)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def survey_form(spec: SurveySpec) -> type[Form]:
    """The web's Form class (FlaskForm: CSRF) for `spec`, built once per spec object and
    kept: the services hand out one SurveySpec per programme text and survey
    (`_lookup.survey_spec_of_digest`), so the page and every answer to a survey share one
    class instead of building its fields again per request. A class holds nothing of a
    request (labels are the programme's text, messages lazy strings); a form is an instance."""
    found = _FORMS.get(id(spec))
    if found is None or found[0] is not spec:  # the id of a spec no longer kept
        found = (spec, build_survey_form(spec, FlaskForm))
        if len(_FORMS) >= _FORMS_MAX:
            _FORMS.pop(next(iter(_FORMS)), None)
        _FORMS[id(spec)] = found  # the spec is kept with its class, so its id stays its own
    return found[1]


_FORMS: dict[int, tuple[SurveySpec, type[Form]]] = {}
_FORMS_MAX = 256


def build_survey_form(spec: SurveySpec, base: type[Form] = FlaskForm) -> type[Form]:
    """A Form class for `spec`; `base` is FlaskForm (CSRF) on the web."""
    attributes: dict[str, Any] = {"survey_spec": spec}
    for question in spec.questions:
        attributes[field_name(question.id)] = _field(question, spec.language)
    return type(f"SurveyForm[{spec.key}]", (base,), attributes)


def answers_from_form(spec: SurveySpec, form: Form) -> dict[str, Any]:
    """The validated form's answers in the stored format (see core.surveys)."""
    raw: dict[str, Any] = {}
    for question in spec.questions:
        value = form[field_name(question.id)].data
        if isinstance(question, SelfAssessmentQuestion):
            value = {area: v for area, v in (value or {}).items() if v is not None}
        raw[question.id] = value
    return normalise_answers(spec, raw)


def _field(question: Question, language: str):
    label, description = question.text, question.help
    if isinstance(question, SelfAssessmentQuestion):
        return FormField(_self_assessment_form(question, language), label=label,
                         description=description, separator=AREA_SEPARATOR)
    required = _required(question)
    if isinstance(question, TextQuestion):
        presence = _text_required() if question.required else Optional()
        return TextAreaField(label, [presence, _clean_length(question.max_length)],
                             description=description)
    options = [SelectChoice(c.value, c.label) for c in choices(question, language)]
    if isinstance(question, MultipleChoiceQuestion):
        validators = [required]
        if question.max_choices is not None:
            validators.append(_at_most(question.max_choices))
        return MultiCheckboxField(label, validators, choices=options, coerce=int,
                                  description=description)
    if isinstance(question, Likert5Question | SingleChoiceQuestion | RatingQuestion):
        return RadioField(label, [required], choices=options, coerce=int,
                          description=description)
    raise TypeError(f"no form field for question type {question.type}")


def _required(question: Question):
    if question.required:
        return InputRequired(message=_l("Please answer this question."))
    return Optional()


def _self_assessment_form(question: SelfAssessmentQuestion, language: str) -> type[Form]:
    scale = [SelectChoice(c.value, c.label) for c in choices(question, language)]
    fields = {
        area.id: RadioField(area.text, [_required(question)], choices=scale, coerce=int,
                            description=area.description)
        for area in question.areas
    }
    return type(f"SelfAssessment[{question.id}]", (Form,), fields)


def _at_most(limit: int):
    def check(form: Form, field) -> None:
        if field.data and len(set(field.data)) > limit:
            raise ValidationError(_l("Choose at most %(limit)d options.", limit=limit))
    return check


def _text_required():
    """Required text judged after cleaning: only spaces or control characters is no answer."""
    def check(form: Form, field) -> None:
        if not field.data or not clean_text(field.data):
            field.errors[:] = []
            raise StopValidation(_l("Please answer this question."))
    return check


def _clean_length(limit: int):
    """Length after the same cleaning the stored answer gets (trim, no control characters)."""
    def check(form: Form, field) -> None:
        if field.data and len(clean_text(field.data)) > limit:
            raise ValidationError(_l("Please keep the answer under %(limit)d characters.",
                                     limit=limit))
    return check
