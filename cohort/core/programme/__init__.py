"""Programme templates: the YAML a facilitator writes, loaded into validated models.

Every error names the file, the line and the field (``programmes/x.yaml:42: meetings[3].kind:
...``) because the people who write these files are course designers, not programmers.

- `schema`: the models, i.e. what a template may say, field by field;
- `errors`: pydantic's validation errors as located, readable ones (`ProgrammeError`);
- `checks`: the rules across fields (unique keys, anchors, the order of dates);
- `loading`: text, a file or a folder of templates -> `Programme`s (`Library`).

The names below are the package's public face; import them from here.
"""

from .checks import check_consistency
from .errors import ProgrammeError
from .loading import Library, load_library, load_programme_file, parse_programme
from .schema import (
    LANGUAGES,
    MEETING_KINDS,
    QUESTION_TYPES,
    RATING_VALUES,
    SURVEY_KINDS,
    AnchorField,
    Area,
    Breakdown,
    Clock,
    DayOffset,
    Duration,
    Evaluation,
    Grouping,
    Guide,
    GuideSection,
    Key,
    KirkpatrickLevel,
    Language,
    Likert5Question,
    MailSettings,
    Meeting,
    MeetingDefaults,
    MeetingKind,
    MultipleChoiceQuestion,
    Programme,
    Prompt,
    Question,
    QuestionBase,
    QuestionType,
    RatingQuestion,
    RelativeField,
    Repeat,
    RepeatedItem,
    SelfAssessmentQuestion,
    SingleChoiceQuestion,
    Strict,
    Survey,
    SurveyKind,
    SurveyMode,
    Task,
    TaskKind,
    TextList,
    TextQuestion,
)

__all__ = [
    "LANGUAGES", "MEETING_KINDS", "QUESTION_TYPES", "RATING_VALUES", "SURVEY_KINDS",
    "AnchorField", "Area", "Breakdown", "Clock", "DayOffset", "Duration", "Evaluation",
    "Grouping", "Guide", "GuideSection", "Key", "KirkpatrickLevel", "Language", "Library",
    "Likert5Question", "MailSettings", "Meeting", "MeetingDefaults", "MeetingKind",
    "MultipleChoiceQuestion",
    "Programme", "ProgrammeError", "Prompt", "Question", "QuestionBase", "QuestionType",
    "RatingQuestion", "RelativeField", "Repeat", "RepeatedItem", "SelfAssessmentQuestion",
    "SingleChoiceQuestion", "Strict", "Survey", "SurveyKind", "SurveyMode", "Task", "TaskKind",
    "TextList", "TextQuestion", "check_consistency", "load_library", "load_programme_file",
    "parse_programme",
]
