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

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

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
    online_url: str | None = None
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


class Survey(RepeatedItem):
    title: str = Field(min_length=1)
    mode: Literal["anonymous", "identified"] = "anonymous"
    open: AnchorField
    close: RelativeField = (timedelta(days=14), None)
    reminders: list[RelativeField] = []


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
        path = tuple(part for part in error["loc"] if not _is_union_tag(part))
        errors.append(LocatedError(filename, smap.line_of(path), path, _message(error, data)))
    return errors


def _is_union_tag(part: object) -> bool:
    """Pydantic adds type names such as 'tuple[int,int]' to locations inside unions."""
    return isinstance(part, str) and ("[" in part or part in ("function-before",))


def _message(error: dict, data: dict) -> str:
    kind, given = error["type"], error.get("input")
    if kind == "literal_error":
        expected = error["ctx"]["expected"].replace("'", "").replace(" or ", ", ")
        return f"'{given}' is not one of {expected}"
    if kind == "missing":
        return "required field is missing"
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
    model: type[BaseModel] = Programme
    for part in parent_loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            model = inner
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    return list(model.model_fields)


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
