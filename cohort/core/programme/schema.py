"""The template schema: what a programme's YAML may say, as validated pydantic models.

Each model checks its own fields (a key's pattern, a duration's range, a size such as 2-3);
unknown keys are errors, so a typo cannot vanish. Rules that span fields (unique keys, anchors
naming real meetings) are in `checks`; turning pydantic's errors into located messages is
`errors`; reading files is `loading`.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from ..anonymity import DEFAULT_MIN_GROUP_SIZE, MIN_GROUP_SIZE_FLOOR
from ..links import WebLink
from ..timeexpr import (
    Anchor,
    parse_anchor,
    parse_clock,
    parse_day_offset,
    parse_duration,
    parse_relative,
)

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
        default="none", description="the one attribute results are broken down by (anonymous "
        "surveys keep only it; identified surveys default to organisation)"
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


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = Weekday.__args__  # type: ignore[attr-defined]


class MailSettings(Strict):
    """When participants get email (programmes/README.md, "Mail policy"). The defaults are the
    policy: one email per day at most, on working days within working hours."""

    bundle: Literal["daily", "weekly", "off"] = Field(
        default="daily", description="daily: what falls due the same day is one email; weekly: "
        "reminders and prompts may also come up to six days early to join another email")
    hours: tuple[Clock, Clock] | None = Field(
        default=(time(8, 0), time(17, 0)), description="'08:00-17:00', or off")
    days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    holidays: Literal["DK", "NO", "none"] | None = Field(
        default=None, description="whose public holidays are days off; default from the "
        "cohort's time zone or language (DK, NO)")
    gather: Duration = Field(default=timedelta(days=3), description="how many working days "
                             "earlier a reminder or prompt may go to join another email")

    @field_validator("hours", mode="before")
    @classmethod
    def _span(cls, value: Any) -> Any:
        if value is None or value is False or value == "off":
            return None
        if isinstance(value, str):
            start, dash, end = value.partition("-")
            if not dash:
                raise ValueError(f"'{value}' is not a span of hours such as 08:00-17:00")
            value = (start.strip(), end.strip())
        return value

    @field_validator("holidays", mode="before")
    @classmethod
    def _norway_is_not_false(cls, value: Any) -> Any:
        """YAML 1.1 reads a bare NO as false: `holidays: NO` means Norway."""
        return "NO" if value is False else value

    @field_validator("hours")
    @classmethod
    def _ordered(cls, value: tuple[time, time] | None) -> tuple[time, time] | None:
        if value is not None and value[1] <= value[0]:
            raise ValueError("working hours end before they start")
        return value

    @field_validator("days")
    @classmethod
    def _some_days(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one day of the week must allow email")
        return _distinct(value, "day")

    @field_validator("gather")
    @classmethod
    def _sane_gather(cls, value: timedelta) -> timedelta:
        if not timedelta(0) <= value <= timedelta(days=6):
            raise ValueError(f"gather is {_human(value)}; it may be 0 to 6 days")
        return value


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
    mail: MailSettings = MailSettings()

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


def _human(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
