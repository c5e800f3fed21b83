"""Programme templates: the YAML a facilitator writes, loaded into validated models.

Every error names the file, the line and the field (``programmes/x.yaml:42: meetings[3].kind:
...``) because the people who write these files are course designers, not programmers.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .anonymity import DEFAULT_MIN_GROUP_SIZE, MIN_GROUP_SIZE_FLOOR
from .links import WebLink
from .timeexpr import (
    POSITION_REFS,
    RELATIVE_REFS,
    RESERVED_REFS,
    Anchor,
    parse_anchor,
    parse_clock,
    parse_day_offset,
    parse_duration,
    parse_relative,
)
from .yamlsource import LocatedError, SourceMap, YamlSourceError, load_yaml

MeetingKind = Literal["kickoff", "webinar", "workshop", "module", "kickout"]
MEETING_KINDS: tuple[str, ...] = MeetingKind.__args__  # type: ignore[attr-defined]
Language = Literal["da", "nb", "en"]
LANGUAGES: tuple[str, ...] = Language.__args__  # type: ignore[attr-defined]
TaskKind = Literal[
    "reflection", "case_work", "buddy_exchange", "reading", "try_with_staff", "checklist",
    "project_work", "other",
]
Repeat = Literal["once", "each-meeting"]
Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
DayOffset = Annotated[int, BeforeValidator(parse_day_offset)]
Clock = Annotated[time, BeforeValidator(parse_clock)]
AnchorField = Annotated[Anchor, BeforeValidator(parse_anchor)]
RelativeField = Annotated[tuple[timedelta, time | None], BeforeValidator(parse_relative)]


def _text_list(value: Any) -> Any:
    """Allow a single string where a list of strings is expected."""
    return [value] if isinstance(value, str) else value


TextList = Annotated[list[str], BeforeValidator(_text_list)]


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not vanish silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class MeetingDefaults(Strict):
    start: Clock = time(13, 0)
    duration: Duration = timedelta(hours=2)
    format: Literal["online", "in_person"] = "online"


class Meeting(Strict):
    key: Key
    kind: MeetingKind
    title: str = Field(min_length=1)
    offset: DayOffset = Field(description="days from the cohort start")
    format: Literal["online", "in_person"] | None = None
    start: Clock | None = None
    duration: Duration | None = None
    location: str | None = None
    online_url: WebLink | None = None
    description: str = ""
    themes: TextList = []
    content: TextList = []
    question: str = ""

    @field_validator("duration")
    @classmethod
    def _possible_duration(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and not timedelta(minutes=5) <= value <= timedelta(hours=12):
            raise ValueError(f"{_human(value)} is impossible: a meeting lasts 5 min to 12 h")
        return value


class RepeatedItem(Strict):
    """Fields shared by tasks, prompts and surveys that may repeat for each meeting."""

    key: Key
    repeat: Repeat = "once"
    kinds: list[MeetingKind] = Field(
        default_factory=list, description="with repeat: each-meeting, only these meeting kinds"
    )


class Task(RepeatedItem):
    kind: TaskKind
    title: str = Field(min_length=1)
    description: str = ""
    checklist: TextList = []
    release: AnchorField
    due: AnchorField | None = None
    reminder: RelativeField | None = Field(
        default=None, description="relative to the due time, e.g. -2d 08:00"
    )


class Prompt(RepeatedItem):
    question: str = ""
    use_leading_question: bool = False
    send: AnchorField


class Grouping(Strict):
    key: Key
    kind: Literal["buddy", "team"]
    title: str = ""
    size: tuple[int, int]
    rotations: int = Field(default=1, ge=1, le=12)
    mix: list[str] = []
    balance: list[str] = []
    roles: list[str] = Field(default_factory=list, description="roles each team should include")

    @field_validator("size", mode="before")
    @classmethod
    def _size_range(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return (value, value)
        if isinstance(value, str) and "-" in value:
            low, _, high = value.partition("-")
            try:
                return (int(low), int(high))
            except ValueError:
                raise ValueError(f"'{value}' is not a size such as 2, 2-3 or 4-7") from None
        return value

    @field_validator("size")
    @classmethod
    def _sane_size(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if low < 2 or high < low:
            raise ValueError(f"{low}-{high} is not a group size: at least 2, smallest first")
        return value


QuestionType = Literal[
    "likert5", "single_choice", "multiple_choice", "rating", "text", "self_assessment",
]
QUESTION_TYPES: tuple[str, ...] = QuestionType.__args__  # type: ignore[attr-defined]
KirkpatrickLevel = Literal["reaction", "learning", "behaviour", "results"]
SurveyKind = Literal["meeting", "pre", "post", "final", "follow_up"]
SURVEY_KINDS: tuple[str, ...] = SurveyKind.__args__  # type: ignore[attr-defined]
SurveyMode = Literal["anonymous", "identified"]
Breakdown = Literal["none", "organisation", "role"]
RATING_VALUES = tuple(range(0, 11))


class QuestionBase(Strict):
    """What every question has; `level` tags it for the report (Kirkpatrick's four levels)."""

    id: Key
    text: str = Field(min_length=1)
    help: str = ""
    required: bool = True
    level: KirkpatrickLevel | None = None


def _distinct(value: list[str], what: str) -> list[str]:
    seen: set[str] = set()
    for item in value:
        if item in seen:
            raise ValueError(f"{what} '{item}' is listed twice")
        seen.add(item)
    return value


class Likert5Question(QuestionBase):
    """Agreement on a five-point scale; 4 and 5 count as agreeing."""

    type: Literal["likert5"]
    labels: list[str] | None = Field(
        default=None, description="five labels, disagree first; default in the survey language"
    )
    report: str | None = Field(
        default=None, min_length=1,
        description="how the report says who agreed: '28 af 31 (90 %) <report>'",
    )

    @field_validator("labels")
    @classmethod
    def _five_labels(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(value) != 5:
            raise ValueError(f"a likert5 question has 5 labels, not {len(value)}")
        return value


class SingleChoiceQuestion(QuestionBase):
    type: Literal["single_choice"]
    options: list[str] = Field(min_length=2, max_length=30)

    @field_validator("options")
    @classmethod
    def _distinct_options(cls, value: list[str]) -> list[str]:
        return _distinct(value, "option")


class MultipleChoiceQuestion(QuestionBase):
    type: Literal["multiple_choice"]
    options: list[str] = Field(min_length=2, max_length=30)
    max_choices: int | None = Field(default=None, ge=1)

    @field_validator("options")
    @classmethod
    def _distinct_options(cls, value: list[str]) -> list[str]:
        return _distinct(value, "option")


class RatingQuestion(QuestionBase):
    """0 to 10, e.g. 'How likely is it that you would recommend ...'."""

    type: Literal["rating"]
    low_label: str = ""
    high_label: str = ""


class TextQuestion(QuestionBase):
    type: Literal["text"]
    max_length: int = Field(default=2000, ge=1, le=20000)


class Area(Strict):
    id: Key
    text: str = Field(min_length=1)
    description: str = ""


class SelfAssessmentQuestion(QuestionBase):
    """A competence self-assessment: each area rated on one scale (1 = lowest)."""

    type: Literal["self_assessment"]
    areas: list[Area] = Field(min_length=1, max_length=30)
    scale: list[str] | None = Field(
        default=None, description="labels from lowest to highest; default five, in the language"
    )

    @field_validator("scale")
    @classmethod
    def _scale_size(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not 2 <= len(value) <= 10:
            raise ValueError(f"a scale has 2 to 10 labels, not {len(value)}")
        return value


Question = Annotated[
    Likert5Question | SingleChoiceQuestion | MultipleChoiceQuestion | RatingQuestion
    | TextQuestion | SelfAssessmentQuestion,
    Field(discriminator="type"),
]


class Survey(RepeatedItem):
    title: str = Field(min_length=1)
    kind: SurveyKind = Field(description="default: meeting if repeated per meeting, else final")
    mode: SurveyMode = "anonymous"
    intro: str = ""
    open: AnchorField
    close: RelativeField = (timedelta(days=14), None)
    reminders: list[RelativeField] = []
    breakdown: Breakdown = Field(
        default="none", description="anonymous surveys: the one attribute kept for breakdowns"
    )
    compare_with: Key | None = Field(
        default=None, description="post/follow-up: the survey whose answers this one is set against"
    )
    questions: list[Question] = []

    @model_validator(mode="before")
    @classmethod
    def _default_kind(cls, data: Any) -> Any:
        if isinstance(data, dict) and "kind" not in data:
            return {**data, "kind": "meeting" if data.get("repeat") == "each-meeting" else "final"}
        return data

    def question(self, question_id: str):
        return next(q for q in self.questions if q.id == question_id)


class GuideSection(Strict):
    heading: str = Field(min_length=1)
    questions: TextList = []


class Guide(Strict):
    """An observation or interview guide: the headings an evaluator's notes follow."""

    key: Key
    kind: Literal["observation", "interview"]
    title: str = Field(min_length=1)
    intro: str = ""
    sections: list[GuideSection] = Field(min_length=1)


class Evaluation(Strict):
    min_group_size: int = Field(
        default=DEFAULT_MIN_GROUP_SIZE,
        description="no figure is shown for fewer answers than this (at least 3)",
    )
    themes: TextList = Field(default_factory=list, description="codes for quotes")
    guides: list[Guide] = []

    @field_validator("min_group_size")
    @classmethod
    def _not_below_floor(cls, value: int) -> int:
        if value < MIN_GROUP_SIZE_FLOOR:
            raise ValueError(
                f"{value} is too small: figures for fewer than {MIN_GROUP_SIZE_FLOOR} answers "
                "can identify people"
            )
        if value > 100:
            raise ValueError(f"{value} is too large: at most 100")
        return value

    @field_validator("themes")
    @classmethod
    def _distinct_themes(cls, value: list[str]) -> list[str]:
        return _distinct(value, "theme")

    def guide(self, key: str) -> Guide:
        return next(g for g in self.guides if g.key == key)


class Programme(Strict):
    id: Key
    title: str = Field(min_length=1)
    language: Language
    timezone: str = "Europe/Copenhagen"
    description: str = ""
    audience: str = ""
    defaults: MeetingDefaults = MeetingDefaults()
    meetings: list[Meeting] = Field(min_length=1)
    tasks: list[Task] = []
    prompts: list[Prompt] = []
    groupings: list[Grouping] = []
    surveys: list[Survey] = []
    evaluation: Evaluation = Evaluation()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone such as Europe/Copenhagen") from None
        return value

    def meeting(self, key: str) -> Meeting:
        return next(m for m in self.meetings if m.key == key)

    def meeting_start(self, meeting: Meeting) -> time:
        return meeting.start or self.defaults.start

    def meeting_duration(self, meeting: Meeting) -> timedelta:
        return meeting.duration or self.defaults.duration

    def meeting_format(self, meeting: Meeting) -> str:
        return meeting.format or self.defaults.format

    def survey(self, key: str) -> Survey:
        return next(s for s in self.surveys if s.key == key)


class ProgrammeError(ValueError):
    """A template that cannot be used; `errors` are each located at file, line and field."""

    def __init__(self, errors: list[LocatedError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def load_programme_file(path: Path | str, display_name: str | None = None) -> Programme:
    path = Path(path)
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProgrammeError([LocatedError(name, None, (), f"not UTF-8 text: {exc}")]) from None
    return parse_programme(text, name)


def parse_programme(text: str, filename: str) -> Programme:
    """YAML text -> Programme, or ProgrammeError listing every located problem found."""
    try:
        data, source_map = load_yaml(text, filename)
    except YamlSourceError as exc:
        raise ProgrammeError(exc.errors) from None
    if not isinstance(data, dict):
        raise ProgrammeError([LocatedError(filename, 1, (), "a programme is a YAML mapping")])
    try:
        programme = Programme.model_validate(data)
    except ValidationError as exc:
        raise ProgrammeError(_locate(exc, data, source_map, filename)) from None
    problems = list(check_consistency(programme))
    if problems:
        raise ProgrammeError(
            [LocatedError(filename, source_map.line_of(p), p, m) for p, m in problems]
        )
    return programme


def _locate(exc: ValidationError, data: dict, smap: SourceMap, filename: str) -> list:
    errors = []
    for error in exc.errors():
        path = _field_path(error["loc"])
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            path = (*path, "type")
        errors.append(LocatedError(filename, smap.line_of(path), path, _message(error, data)))
    return errors


def _field_path(loc: tuple) -> tuple:
    """Drop the parts pydantic adds inside unions: type names and discriminator tags."""
    path: list = []
    for part in loc:
        if _is_union_tag(part):
            continue
        if part in QUESTION_TYPES and len(path) >= 2 and path[-2] == "questions":
            continue
        path.append(part)
    return tuple(path)


def _is_union_tag(part: object) -> bool:
    """Pydantic adds type names such as 'tuple[int,int]' to locations inside unions."""
    return isinstance(part, str) and ("[" in part or part in ("function-before",))


def _message(error: dict, data: dict) -> str:
    kind, given = error["type"], error.get("input")
    if kind == "union_tag_invalid":
        return f"'{error['ctx']['tag']}' is not one of {', '.join(QUESTION_TYPES)}"
    if kind == "union_tag_not_found":
        return f"required field is missing: the question type, one of {', '.join(QUESTION_TYPES)}"
    if kind == "literal_error":
        expected = error["ctx"]["expected"].replace("'", "").replace(" or ", ", ")
        return f"'{given}' is not one of {expected}"
    if kind == "missing":
        return "required field is missing"
    if kind == "too_short":
        return (f"needs at least {error['ctx']['min_length']} item(s), "
                f"has {error['ctx']['actual_length']}")
    if kind == "extra_forbidden":
        field_name = error["loc"][-1]
        known = _known_fields(error["loc"][:-1], data)
        close = difflib.get_close_matches(str(field_name), known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown field '{field_name}'{hint}"
    if kind == "string_pattern_mismatch":
        return f"'{given}' is not a valid key: use lower-case letters, digits and hyphens"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return error["msg"].replace("Value error, ", "")


def _known_fields(parent_loc: tuple, data: dict) -> list[str]:
    """The field names allowed where an unknown one was found (walks models and data)."""
    candidates: list[type[BaseModel]] = [Programme]
    node: Any = data
    for part in _field_path(parent_loc):
        node = _child(node, part)
        if not isinstance(part, int):
            annotation = candidates[0].model_fields[part].annotation
            candidates = [a for a in _flatten_types(annotation)
                          if isinstance(a, type) and issubclass(a, BaseModel)] or candidates
        if len(candidates) > 1 and isinstance(node, dict):  # a question: choose by its type
            candidates = [c for c in candidates
                          if node.get("type") in _literal_values(c, "type")] or candidates[:1]
    return list(candidates[0].model_fields)


def _child(node: Any, part: Any) -> Any:
    try:
        return node[part]
    except (KeyError, IndexError, TypeError):
        return None


def _flatten_types(annotation: Any) -> list:
    """list[A | B] -> [A, B]; Annotated[...] unwrapped."""
    args = getattr(annotation, "__args__", None)
    if getattr(annotation, "__metadata__", None) is not None:
        return _flatten_types(annotation.__origin__)
    if not args:
        return [annotation]
    return [t for arg in args for t in _flatten_types(arg)]


def _literal_values(model: type[BaseModel], field_name: str) -> tuple:
    field = model.model_fields.get(field_name)
    return getattr(field.annotation, "__args__", ()) if field else ()


def _human(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def check_consistency(programme: Programme) -> Iterable[tuple[tuple, str]]:
    """Cross-field rules the per-field models cannot see: keys, anchors, order of dates."""
    meeting_keys: set[str] = set()
    previous_offset = -1
    for index, meeting in enumerate(programme.meetings):
        path = ("meetings", index)
        if meeting.key in RESERVED_REFS:
            yield (*path, "key"), f"'{meeting.key}' is a reserved word in anchors; choose another"
        if meeting.key in meeting_keys:
            yield (*path, "key"), f"duplicate meeting key '{meeting.key}'"
        meeting_keys.add(meeting.key)
        if meeting.offset < previous_offset:
            yield (*path, "offset"), "meetings must be listed in date order"
        previous_offset = meeting.offset
    for section in ("tasks", "prompts", "groupings", "surveys"):
        seen: set[str] = set()
        for index, item in enumerate(getattr(programme, section)):
            if item.key in seen:
                yield (section, index, "key"), f"duplicate key '{item.key}' in {section}"
            seen.add(item.key)
    for section, fields in (("tasks", ("release", "due")), ("prompts", ("send",)),
                            ("surveys", ("open",))):
        for index, item in enumerate(getattr(programme, section)):
            for field_name in fields:
                anchor = getattr(item, field_name)
                if anchor is not None:
                    problem = _anchor_problem(anchor, item.repeat, meeting_keys)
                    if problem:
                        yield (section, index, field_name), problem
    yield from _check_due_after_release(programme, meeting_keys)
    yield from _check_surveys(programme)
    yield from _check_guides(programme)


def _check_surveys(programme: Programme) -> Iterable[tuple[tuple, str]]:
    """Question and area ids are column names in exports: unique within their survey."""
    survey_keys = [s.key for s in programme.surveys]
    for index, survey in enumerate(programme.surveys):
        path = ("surveys", index)
        seen: set[str] = set()
        for q_index, question in enumerate(survey.questions):
            if question.id in seen:
                yield (*path, "questions", q_index, "id"), (
                    f"duplicate question id '{question.id}' in survey '{survey.key}'")
            seen.add(question.id)
            areas: set[str] = set()
            for a_index, area in enumerate(getattr(question, "areas", ())):
                if area.id in areas:
                    yield (*path, "questions", q_index, "areas", a_index, "id"), (
                        f"duplicate area id '{area.id}' in question '{question.id}'")
                areas.add(area.id)
            max_choices = getattr(question, "max_choices", None)
            if max_choices is not None and max_choices > len(question.options):
                yield (*path, "questions", q_index, "max_choices"), (
                    f"max_choices {max_choices} is more than the {len(question.options)} options")
        if survey.compare_with is not None:
            if survey.compare_with == survey.key:
                yield (*path, "compare_with"), "a survey cannot be compared with itself"
            elif survey.compare_with not in survey_keys:
                close = difflib.get_close_matches(survey.compare_with, survey_keys, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                yield (*path, "compare_with"), (
                    f"no survey '{survey.compare_with}'{hint}; surveys: {', '.join(survey_keys)}")


def _check_guides(programme: Programme) -> Iterable[tuple[tuple, str]]:
    seen: set[str] = set()
    for index, guide in enumerate(programme.evaluation.guides):
        if guide.key in seen:
            yield ("evaluation", "guides", index, "key"), f"duplicate guide key '{guide.key}'"
        seen.add(guide.key)


def _anchor_problem(anchor: Anchor, repeat: str, meeting_keys: set[str]) -> str | None:
    if anchor.ref in RELATIVE_REFS:
        if repeat != "each-meeting":
            return f"'{anchor.ref}' only works with repeat: each-meeting; name a meeting key"
        return None
    if anchor.ref in POSITION_REFS or anchor.ref in meeting_keys:
        return None
    close = difflib.get_close_matches(anchor.ref, sorted(meeting_keys), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    known = ", ".join(sorted(meeting_keys))
    return f"anchor '{anchor}' names unknown meeting '{anchor.ref}'{hint}; meetings: {known}"


def _check_due_after_release(programme: Programme, meeting_keys: set[str]):
    """Plan once from a reference date and compare: offsets make order date-independent."""
    from .planning import plan_tasks  # planning imports this module

    for index, task in enumerate(programme.tasks):
        if task.due is None:
            continue
        refs = {task.release.ref, task.due.ref} - set(RESERVED_REFS)
        if not refs <= meeting_keys:
            continue
        for planned in plan_tasks(programme, date(2025, 1, 6), programme.timezone, {}, task):
            if planned.due_at is not None and planned.due_at < planned.release_at:
                yield ("tasks", index, "due"), (
                    f"due '{task.due}' comes before release '{task.release}'"
                    + (f" (for meeting '{planned.meeting_key}')" if task.repeat != "once" else "")
                )
                break


@dataclass(frozen=True)
class Library:
    """The templates of a folder: usable ones by id (with their source text), broken by file."""

    programmes: dict[str, Programme]
    sources: dict[str, str]
    broken: dict[str, ProgrammeError]


def load_library(directory: Path | str) -> Library:
    """Every *.yaml in a folder; a broken file is listed with its errors, never hidden."""
    directory = Path(directory)
    library = Library({}, {}, {})
    for path in sorted(directory.glob("*.y*ml")):
        display = f"{directory.name}/{path.name}"
        try:
            programme = load_programme_file(path, display)
        except ProgrammeError as exc:
            library.broken[display] = exc
            continue
        if programme.id in library.programmes:
            library.broken[display] = ProgrammeError(
                [LocatedError(display, 1, ("id",), f"id '{programme.id}' is used by another file")]
            )
            continue
        library.programmes[programme.id] = programme
        library.sources[programme.id] = path.read_text(encoding="utf-8-sig")
    return library
