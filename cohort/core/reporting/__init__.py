"""Evaluation data -> the final report, organised by Kirkpatrick's four levels, as plain data.

The report an evaluator signs ("96 % vurderede, at de anvendte nye værktøjer og metoder i
deres daglige arbejde") is built here from facts the service has loaded: the cohort and its
meetings, who took part, each survey's figures (already computed by `survey_results` with the
minimum group size applied), the pre/post self-assessment change, attendance, and the
evaluators' coded quotes. Nothing here reads the database, formats a page or knows Flask.

Sections: summary (the final survey's agree-share statements), about the programme, reaction,
learning, behaviour, results and voices, and method. Every percentage comes from
`survey_results.percent`/`format_percent` (half up to a whole percent) and every mean from
`format_decimal`, so the web view, the PDF and the exports show the same figures.

Every agree-share carries its 95 % Wilson interval (`Share.interval`, and the statement with
it after the share, `QuestionFigure.statement_with_interval`); every pre/post area its change's
interval (paired: t-interval, share improved, d_z; anonymous: Welch, unpaired), all from
`core.statistics` and rounded by the same rule.

What is not shown, and why, is collected as `Suppressed` entries for the method section: a
survey, question or area answered by fewer than the minimum group size; figures over all
meetings that a hidden meeting could be subtracted from (the publication rule,
`core.publication`); participants'
organisations and roles shared by too few (shown together as "other"); attendance figures about
too few people; free-text questions with too few answers.

- `facts`: what the report is made from (`ReportFacts`);
- `report`: what it says, as plain data (`Report`, its chapters, `Share`, `Suppressed`);
- `figures`: a question's figures and a survey's block of them, shared by the chapters;
- `chapters`: `build_report`, facts -> report, chapter by chapter; `survey_chapters` the
  two made of surveys side by side (reaction, learning).

Two reports side by side are `core.report_comparison`. Import the names below from here.
"""

from .chapters import (
    DEFAULT_QUOTES_PER_THEME,
    DEFAULT_TEXTS_PER_QUESTION,
    build_report,
)
from .facts import (
    BuddyRoundFacts,
    CohortFacts,
    MeetingFacts,
    ParticipantFacts,
    PrePostFacts,
    QuoteFacts,
    ReportFacts,
    SurveyFacts,
    TemplateFacts,
)
from .figures import DEFAULT_LEVEL, LEVELS, level_of, question_figure, survey_status
from .report import (
    SUPPRESSED_AGGREGATE,
    SUPPRESSED_AGGREGATE_OPEN,
    SUPPRESSED_AREA,
    SUPPRESSED_ATTENDANCE,
    SUPPRESSED_BUDDY,
    SUPPRESSED_DISTRIBUTION,
    SUPPRESSED_OPEN,
    SUPPRESSED_ORGANISATIONS,
    SUPPRESSED_PAIRED,
    SUPPRESSED_PARTICIPANTS,
    SUPPRESSED_QUESTION,
    SUPPRESSED_ROLES,
    SUPPRESSED_SURVEY,
    SUPPRESSED_TEXT,
    About,
    AreaFigure,
    AttendanceFigures,
    AttendanceRow,
    Behaviour,
    BuddyRound,
    ChoiceRow,
    FollowUp,
    FollowUpRow,
    FreeText,
    GroupCount,
    Learning,
    MatrixRow,
    MeetingColumn,
    MeetingMatrix,
    MeetingRow,
    Method,
    NotComparable,
    PrePostFigure,
    QuestionFigure,
    QuoteRow,
    RateRow,
    Reaction,
    Report,
    Results,
    Share,
    SourceRow,
    Suppressed,
    SurveyBlock,
    Theme,
    agree_share,
    share,
    signed_decimal,
    signed_interval,
)
from .survey_chapters import TOP_LEVELS

__all__ = [
    "DEFAULT_LEVEL", "DEFAULT_QUOTES_PER_THEME", "DEFAULT_TEXTS_PER_QUESTION", "LEVELS",
    "SUPPRESSED_AGGREGATE", "SUPPRESSED_AGGREGATE_OPEN", "SUPPRESSED_AREA",
    "SUPPRESSED_ATTENDANCE", "SUPPRESSED_BUDDY",
    "SUPPRESSED_DISTRIBUTION", "BuddyRound", "BuddyRoundFacts",
    "SUPPRESSED_ORGANISATIONS", "SUPPRESSED_PAIRED", "SUPPRESSED_PARTICIPANTS",
    "SUPPRESSED_OPEN", "SUPPRESSED_QUESTION",
    "SUPPRESSED_ROLES", "SUPPRESSED_SURVEY", "SUPPRESSED_TEXT",
    "TOP_LEVELS", "About", "AreaFigure", "AttendanceFigures", "AttendanceRow", "Behaviour",
    "ChoiceRow", "CohortFacts", "FollowUp", "FollowUpRow", "FreeText", "GroupCount", "Learning",
    "MatrixRow", "MeetingColumn", "MeetingFacts", "MeetingMatrix", "MeetingRow", "Method",
    "NotComparable", "ParticipantFacts", "PrePostFacts", "PrePostFigure", "QuestionFigure",
    "QuoteFacts", "QuoteRow", "RateRow", "Reaction", "Report", "ReportFacts", "Results", "Share",
    "SourceRow", "Suppressed", "SurveyBlock", "SurveyFacts", "TemplateFacts", "Theme",
    "agree_share", "build_report", "level_of", "question_figure", "share", "signed_decimal",
    "signed_interval",
    "survey_status",
]
