"""Survey questions as participants answer them: choices, answer validation and scores.

One answer format is used everywhere (web form, paper-answer import, storage, results), so a
value means the same wherever it comes from. Stored answers are a JSON object keyed by
question id; unanswered questions are simply absent:

    likert5          int 1-5 (1 = disagree most; 4 and 5 count as agreeing)
    single_choice    int, the option's position counted from 1
    multiple_choice  sorted list of option positions, e.g. [1, 3]
    rating           int 0-10
    text             str, trimmed, without control characters
    self_assessment  {area id: int 1..len(scale)}
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .programme import (
    RATING_VALUES,
    Likert5Question,
    MultipleChoiceQuestion,
    Programme,
    Question,
    RatingQuestion,
    SelfAssessmentQuestion,
    SingleChoiceQuestion,
    Survey,
    TextQuestion,
)

# Default labels in the three languages of the product, lowest first.
LIKERT_LABELS: dict[str, tuple[str, ...]] = {
    "da": ("Helt uenig", "Delvis uenig", "Hverken enig eller uenig", "Delvis enig", "Helt enig"),
    "nb": ("Helt uenig", "Delvis uenig", "Verken enig eller uenig", "Delvis enig", "Helt enig"),
    "en": ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree",
           "Strongly agree"),
}
SCALE_LABELS: dict[str, tuple[str, ...]] = {
    "da": ("I meget lav grad", "I lav grad", "I nogen grad", "I høj grad", "I meget høj grad"),
    "nb": ("I svært liten grad", "I liten grad", "I noen grad", "I stor grad",
           "I svært stor grad"),
    "en": ("Very low", "Low", "Moderate", "High", "Very high"),
}
AGREE_VALUES = frozenset({4, 5})
MULTIPLE_SEPARATOR = "|"
AREA_SEPARATOR = "."


@dataclass(frozen=True)
class Choice:
    value: int
    label: str


@dataclass(frozen=True)
class SurveySpec:
    """A survey template as the participant answers it, in one language."""

    key: str
    title: str
    kind: str
    mode: str
    language: str
    intro: str
    breakdown: str
    compare_with: str | None
    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    @property
    def anonymous(self) -> bool:
        return self.mode == "anonymous"


def spec_from_survey(survey: Survey, language: str) -> SurveySpec:
    return SurveySpec(
        key=survey.key, title=survey.title, kind=survey.kind, mode=survey.mode,
        language=language, intro=survey.intro, breakdown=survey.breakdown,
        compare_with=survey.compare_with, questions=tuple(survey.questions),
    )


def survey_spec(programme: Programme, template_key: str) -> SurveySpec:
    """The survey `template_key` of a programme; labels in the programme's language."""
    return spec_from_survey(programme.survey(template_key), programme.language)


def choices(question: Question, language: str) -> tuple[Choice, ...]:
    """The values a closed question accepts, with their labels (self-assessment: its scale)."""
    if isinstance(question, Likert5Question):
        labels = question.labels or LIKERT_LABELS.get(language, LIKERT_LABELS["en"])
        return tuple(Choice(i, label) for i, label in enumerate(labels, start=1))
    if isinstance(question, SingleChoiceQuestion | MultipleChoiceQuestion):
        return tuple(Choice(i, label) for i, label in enumerate(question.options, start=1))
    if isinstance(question, RatingQuestion):
        return tuple(Choice(v, str(v)) for v in RATING_VALUES)
    if isinstance(question, SelfAssessmentQuestion):
        labels = question.scale or SCALE_LABELS.get(language, SCALE_LABELS["en"])
        return tuple(Choice(i, label) for i, label in enumerate(labels, start=1))
    return ()


def label_of(question: Question, value: int, language: str) -> str:
    for choice in choices(question, language):
        if choice.value == value:
            return choice.label
    raise KeyError(value)


@dataclass(frozen=True)
class Column:
    """One column of a flat table of answers: a question, or one area of a self-assessment."""

    name: str
    question: Question
    area: str | None = None


def answer_columns(spec: SurveySpec) -> list[Column]:
    """Columns for exports and paper-answer imports: `id`, or `id.area` per area."""
    columns = []
    for question in spec.questions:
        if isinstance(question, SelfAssessmentQuestion):
            columns.extend(Column(f"{question.id}{AREA_SEPARATOR}{area.id}", question, area.id)
                           for area in question.areas)
        else:
            columns.append(Column(question.id, question))
    return columns


@dataclass(frozen=True)
class AnswerError:
    question_id: str
    message: str
    area: str | None = None

    @property
    def column(self) -> str:
        return f"{self.question_id}{AREA_SEPARATOR}{self.area}" if self.area else self.question_id

    def __str__(self) -> str:
        return f"{self.column}: {self.message}"


class AnswersInvalid(ValueError):
    """Answers that cannot be stored; `errors` name every bad question (and area)."""

    def __init__(self, errors: list[AnswerError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def normalise_answers(
    spec: SurveySpec, raw: Mapping[str, Any], enforce_required: bool = True
) -> dict[str, Any]:
    """Raw answers (form data, CSV cells or JSON) -> stored answers, or AnswersInvalid.

    Accepts numbers, digit strings or labels (case-insensitive) for closed questions, lists
    or `|`-separated strings for multiple choice, and `{area: value}` for self-assessments.
    `enforce_required=False` is for paper answers, where a skipped question is a fact.
    """
    known = {q.id for q in spec.questions}
    errors = [AnswerError(str(key), "no such question in this survey")
              for key in raw if key not in known]
    answers: dict[str, Any] = {}
    for question in spec.questions:
        value, problems = normalise_answer(question, raw.get(question.id), spec.language,
                                           enforce_required)
        errors.extend(problems)
        if value is not None and not problems:
            answers[question.id] = value
    if errors:
        raise AnswersInvalid(errors)
    return answers


def normalise_answer(
    question: Question, value: Any, language: str, enforce_required: bool = True
) -> tuple[Any, list[AnswerError]]:
    """One question's raw answer -> (stored value or None, errors)."""
    required = question.required and enforce_required
    if isinstance(question, SelfAssessmentQuestion):
        return _self_assessment(question, value, language, required)
    if _is_blank(value):
        return None, ([AnswerError(question.id, "an answer is required")] if required else [])
    try:
        if isinstance(question, TextQuestion):
            return _text(question, value), []
        if isinstance(question, MultipleChoiceQuestion):
            return _multiple(question, value, language), []
        return _one_of(choices(question, language), value), []
    except ValueError as exc:
        return None, [AnswerError(question.id, str(exc))]


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not clean_text(value)
    if isinstance(value, list | tuple | set | frozenset | dict):
        return all(_is_blank(v) for v in value) if not isinstance(value, dict) else not value
    return False


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Trimmed, Unicode NFC, Windows line ends made plain, control characters removed."""
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL.sub("", text).strip()


def _text(question: TextQuestion, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected text")
    text = clean_text(value)
    if len(text) > question.max_length:
        raise ValueError(f"is {len(text)} characters long; at most {question.max_length}")
    return text


def _one_of(options: Iterable[Choice], value: Any) -> int:
    options = tuple(options)
    if isinstance(value, bool):
        return _unknown(options, value)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = clean_text(value)
        by_label = {c.label.casefold(): c.value for c in options}
        if text.casefold() in by_label and not text.lstrip("-").isdigit():
            return by_label[text.casefold()]
        if not re.fullmatch(r"-?\d+", text):
            return _unknown(options, value)
        number = int(text)
    else:
        return _unknown(options, value)
    if number not in {c.value for c in options}:
        return _unknown(options, value)
    return number


def _unknown(options: tuple[Choice, ...], value: Any) -> int:
    low, high = options[0].value, options[-1].value
    raise ValueError(f"'{value}' is not one of the choices ({low}-{high} or a label)")


def _multiple(question: MultipleChoiceQuestion, value: Any, language: str) -> list[int]:
    if isinstance(value, str):
        parts = [p for p in (clean_text(v) for v in value.split(MULTIPLE_SEPARATOR)) if p]
        if len(parts) == 1 and re.fullmatch(r"\d+(\s*,\s*\d+)+", parts[0]):
            parts = [p.strip() for p in parts[0].split(",")]
    elif isinstance(value, list | tuple | set | frozenset):
        parts = [v for v in value if not _is_blank(v)]
    else:
        parts = [value]
    options = choices(question, language)
    picked = sorted({_one_of(options, part) for part in parts})
    if question.max_choices is not None and len(picked) > question.max_choices:
        raise ValueError(f"{len(picked)} options chosen; at most {question.max_choices}")
    return picked


def _self_assessment(
    question: SelfAssessmentQuestion, value: Any, language: str, required: bool
) -> tuple[dict[str, int] | None, list[AnswerError]]:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        return None, [AnswerError(question.id, "expected a rating for each area")]
    area_ids = [a.id for a in question.areas]
    errors = [AnswerError(question.id, "no such area in this question", str(key))
              for key in value if key not in area_ids]
    scale = choices(question, language)
    rated: dict[str, int] = {}
    for area in area_ids:
        raw = value.get(area)
        if _is_blank(raw):
            if required:
                errors.append(AnswerError(question.id, "an answer is required", area))
            continue
        try:
            rated[area] = _one_of(scale, raw)
        except ValueError as exc:
            errors.append(AnswerError(question.id, str(exc), area))
    return (rated or None), errors


# --- scores -------------------------------------------------------------------------------

def agrees(question: Question, value: Any) -> bool:
    """A likert5 answer of 4 or 5 agrees with the statement."""
    return isinstance(question, Likert5Question) and value in AGREE_VALUES


def numeric_value(question: Question, value: Any) -> int | None:
    """The number a mean is taken of: likert5 and rating answers; else None."""
    if isinstance(question, Likert5Question | RatingQuestion) and isinstance(value, int):
        return value
    return None


def scale_percent(mean: float, points: int) -> float:
    """A mean on a 1..points scale as a share of the way from lowest to highest (0-100)."""
    return (mean - 1) / (points - 1) * 100
