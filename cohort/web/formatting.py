"""How things read on a page: dates in the viewer's language and the cohort's time zone, and
the words for codes the core and services use (kinds, fields, warnings, import errors).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_decimal
from flask import Flask, g
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import pass_context
from markupsafe import Markup, escape

from ..core.date_warnings import HOLIDAY, PAST, WEEKEND, DateWarning
from ..core.holidays_calendar import HOLIDAY_LANGUAGES, holiday_country, public_holidays
from ..core.participants import RowError
from ..core.survey_results import format_change, format_percent, format_percent_interval
from ..core.survey_results import format_decimal as figure_decimal

MEETING_KINDS = {"kickoff": _l("Kick-off"), "webinar": _l("Webinar"),
                 "workshop": _l("Workshop"), "module": _l("Module"), "kickout": _l("Kick-out")}
FORMATS = {"online": _l("Online"), "in_person": _l("In person")}
ROLES = {"admin": _l("Administrator"), "facilitator": _l("Facilitator"),
         "evaluator": _l("Evaluator"), "participant": _l("Participant")}
COHORT_ROLES = {"owner": _l("Owner"), "co_facilitator": _l("Co-facilitator"),
                "evaluator": _l("Evaluator")}
DELIVERY_KINDS = {
    "welcome": _l("Welcome email"), "meeting_invitation": _l("Meeting invitation"),
    "task_released": _l("Task email"), "task_reminder": _l("Task reminder"),
    "prompt": _l("Reflection question"), "survey_invitation": _l("Survey invitation"),
    "survey_reminder": _l("Survey reminder"), "meeting_update": _l("Meeting update"),
    "meeting_cancellation": _l("Meeting cancellation"),
    "facilitator_digest": _l("Facilitator digest"), "catch_up": _l("Catch-up after absence"),
    "groups_changed": _l("New buddy or group"),
    "announcement": _l("Announcement"), "progress_reminder": _l("Reminder from the progress grid"),
    "bundle": _l("Combined email"),
}
DELIVERY_STATES = {"pending": _l("Pending"), "claimed": _l("Sending"), "sending": _l("Sending"),
                   "sent": _l("Sent"),
                   "failed": _l("Failed"), "needs_review": _l("Needs review"),
                   "cancelled": _l("Cancelled"), "skipped": _l("Skipped")}
ITEMS = {"meeting": _l("Meeting"), "task": _l("Task"), "prompt": _l("Reflection question"),
         "survey": _l("Survey")}
FIELDS = {"starts_at": _l("starts"), "ends_at": _l("ends"), "release_at": _l("sent out"),
          "due_at": _l("due"), "reminder_at": _l("reminder"), "send_at": _l("sent out"),
          "opens_at": _l("opens"), "closes_at": _l("closes")}
TASK_KINDS = {"reflection": _l("Reflection"), "case_work": _l("Case work"),
              "buddy_exchange": _l("Buddy exchange"), "reading": _l("Reading"),
              "try_with_staff": _l("Try with staff"), "checklist": _l("Checklist"),
              "project_work": _l("Project work"), "other": _l("Other")}
GROUPING_KINDS = {"buddy": _l("Buddy groups"), "team": _l("Project teams")}
SURVEY_MODES = {"anonymous": _l("anonymous"), "identified": _l("identified")}
CSV_COLUMNS = {"name": _l("name"), "email": _l("email"), "organisation": _l("organisation"),
               "role": _l("role"), "language": _l("language"), "-": "-"}
LANGUAGE_NAMES = {"da": "Dansk", "nb": "Norsk bokmål", "en": "English"}


def locale_code() -> str:
    return str(get_locale() or "da")


# The one place pages format dates and times. One 24-hour clock for every language ("13:00",
# as the participant page, the emails and the calendar files write it), never seconds or a
# zone's long name; English dates in British style (en_GB: "Tue, 8 Apr 2025"), as Nordic
# readers expect, not American ("Apr 8, 2025 1:00 PM").
CLOCK = "HH:mm"
_FORMAT_LOCALES = {"en": "en_GB"}


def format_locale() -> str:
    """The locale dates and times are written in: the page's, English as en_GB."""
    code = locale_code()
    return _FORMAT_LOCALES.get(code, code)


def localtime(value: datetime | None, timezone: str, fmt: str = "medium") -> str:
    """`fmt`: "time" (13:00), "day" (tirs. 8. apr. 2025 13:00), "full" (tirsdag den 8. april
    2025 13:00), anything else the medium date and the clock (8. apr. 2025 13:00)."""
    if value is None:
        return ""
    return _formatted(value, timezone, fmt, format_locale())


# Babel takes tens of microseconds per date, and the pages of a cohort show the same few dozen
# times (its meetings, tasks and surveys) to every reader in one or two languages: the texts
# are kept, least recently used dropped first (lru_cache is thread-safe). The key is all the
# text depends on: the moment (aware datetimes compare and hash by the instant, so a moment
# kept in UTC and the same one in local time share an entry, as they share the text), the
# zone it is shown in, the format and the locale.
FORMATTED_DATES = 4096


@lru_cache(maxsize=FORMATTED_DATES)
def _formatted(value: datetime, timezone: str, fmt: str, locale: str) -> str:
    local = value.astimezone(ZoneInfo(timezone))
    clock = format_time(local, CLOCK, locale=locale)
    if fmt == "time":
        return clock
    if fmt == "day":
        return f"{format_skeleton('yMMMEd', local.date(), locale=locale)} {clock}"
    if fmt == "full":
        return f"{format_date(local.date(), 'full', locale=locale)} {clock}"
    return f"{format_date(local.date(), 'medium', locale=locale)} {clock}"


def localdate(value: date | datetime | None, fmt: str = "long",
              timezone: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone:
        value = value.astimezone(ZoneInfo(timezone)).date()
    if fmt == "weekday":  # "tirsdag den 8. april 2025"
        return format_date(value, "full", locale=format_locale())
    return format_date(value, fmt, locale=format_locale())


def _holiday_name(country: str | None, day: date, fallback: str) -> str:
    """The holiday on `day` in the reader's language (the package's name if it has none)."""
    if not country:
        return fallback
    names = public_holidays(country, [day.year], HOLIDAY_LANGUAGES.get(locale_code(), "en_US"))
    return names.get(day) or fallback


def warning_text(warning: DateWarning, timezone: str, language: str) -> str:
    """A meeting's weekend or holiday warning in the reader's language, beside the meeting
    (the new-cohort preview); `date_warning_text` says which item it is about."""
    when = localdate(warning.day, "weekday")
    if warning.code == WEEKEND:
        return _("%(date)s is a weekend day.", date=when)
    name = _holiday_name(holiday_country(timezone, language), warning.day, warning.holiday)
    return _("%(date)s is a public holiday: %(name)s.", date=when, name=name)


def date_warning_text(warning: DateWarning, timezone: str, language: str) -> str:
    """'Task “Choose your case”, due Sat, Apr 12, 2025 12:00: a weekend day.' and the like,
    in the reader's language (core.date_warnings)."""
    what = _("%(item)s “%(title)s”", item=label(ITEMS, warning.item),
             title=_shorten(warning.title))
    when = localtime(warning.at, timezone, "day")
    verb = label(FIELDS, warning.field)
    if warning.code == PAST:
        return _("%(what)s, %(field)s %(when)s: already past.", what=what,
                 field=verb, when=when)
    if warning.code == HOLIDAY:
        name = _holiday_name(holiday_country(timezone, language), warning.day, warning.holiday)
        return _("%(what)s, %(field)s %(when)s: a public holiday (%(name)s).", what=what,
                 field=verb, when=when, name=name)
    return _("%(what)s, %(field)s %(when)s: a weekend day.", what=what, field=verb, when=when)


def _shorten(text: str, length: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length - 1].rstrip() + "…"


ROW_ERRORS = {
    "empty_file": _l("the file is empty"),
    "not_utf8": _l("the file is not UTF-8 text; in Excel choose 'CSV UTF-8' when saving"),
    # A participant list uploaded as a workbook (core/workbooks.py).
    "unreadable_workbook": _l("the file cannot be read as an Excel workbook (.xlsx); save it "
                              "again from Excel, or save it as 'CSV UTF-8'"),
    "old_excel": _l("the file is in the old Excel format (.xls); save it from Excel as an "
                    "Excel workbook (.xlsx) or as 'CSV UTF-8'"),
    "missing_column": _l("there is no '%(column)s' column; the first row needs the column "
                         "names: name, email, organisation, role, language"),
    "name_missing": _l("the name is missing"),
    "email_missing": _l("the email address is missing"),
    "email_invalid": _l("'%(value)s' is not a valid email address"),
    "email_duplicate": _l("'%(value)s' appears twice (also %(where)s)"),
    "language_invalid": _l("'%(value)s' is not a language we know (da, nb or en)"),
    "control_character": _l("contains a line break or another control character; "
                            "write it on one line"),
    "too_long": _l("is longer than %(max)s characters"),
    # Any uploaded table (core/textfiles.py), and the Teams report's durations.
    "nul": _l("contains a NUL byte; is it a binary file rather than a CSV file?"),
    "cell_too_long": _l("the cell is longer than %(max)s characters"),
    "too_many_columns": _l("the row has %(count)s columns; at most %(max)s"),
    "too_many_rows": _l("the file has more than %(max)s rows; split it into files of at most "
                        "%(max)s rows"),
    "duplicate_column": _l("the column appears twice in the first row"),
    "too_few_after_close": _l("the survey has closed and its figures are shown: a file "
                              "imported now must hold at least %(min)s answers (it has "
                              "%(count)s), or the change in the figures would show them; "
                              "import them together with others"),
    "duration_too_long": _l("the duration is longer than %(max)s hours, the longest a Teams "
                            "meeting lasts"),
    # The Teams attendance report (core/teams_attendance.py).
    "xlsx_report": _l("this is an Excel workbook (.xlsx); download the attendance report from "
                      "Teams as .csv and import that file"),
    "pdf_report": _l("this is a PDF; import the .csv attendance report from Teams"),
    "report_encoding": _l("the file claims to be %(encoding)s but is not (byte %(byte)s); "
                          "download it again from Teams"),
    "not_a_report": _l("this does not look like a Teams attendance report: expected “1. "
                       "Summary” followed by “2. Participants” with the header %(header)s, or "
                       "the older header %(flat)s; found “%(found)s”"),
    "name_empty": _l("the name is empty"),
    "no_participants_section": _l("the report has no participants section: expected a line "
                                  "“2. Participants” followed by the header %(header)s"),
    "participants_section_empty": _l("the participants section is empty: expected the header "
                                     "%(header)s"),
    "participants_header_expected": _l("expected the participants header %(header)s; found "
                                       "“%(found)s”"),
    "participant_row_expected": _l("expected a participant row with the columns of line "
                                   "%(line)s (%(header)s); found “%(found)s”"),
    "action_expected": _l("expected the action Joined, Joined before or Left; found "
                          "“%(found)s”"),
    "timestamp_empty": _l("the timestamp is empty"),
    "no_attendees": _l("no attendees under the header %(header)s"),
    "duration_unreadable": _l("“%(value)s” is not a duration such as 1h 2m 3s or 58m 12s"),
    "date_unreadable": _l("“%(value)s” is not a date and time such as 15/11/25, 09:30:17, "
                          "11/15/25, 9:30:17 AM or 2025-11-15 09:30:17"),
    # core/teams_times.py stamp_or_error: one sentence for each time of the report.
    "start_time_unreadable": _l("the start time “%(value)s” is not a date and time such as "
                                "15/11/25, 09:30:17"),
    "end_time_unreadable": _l("the end time “%(value)s” is not a date and time such as "
                              "15/11/25, 09:30:17"),
    "join_time_unreadable": _l("the join time “%(value)s” is not a date and time such as "
                               "15/11/25, 09:30:17"),
    "leave_time_unreadable": _l("the leave time “%(value)s” is not a date and time such as "
                                "15/11/25, 09:30:17"),
    "timestamp_unreadable": _l("the timestamp “%(value)s” is not a date and time such as "
                               "15/11/25, 09:30:17"),
}


def coded_text(code: str, params: dict, english: str) -> str:
    """A core error's message in the reader's language (unknown codes keep the English)."""
    template = ROW_ERRORS.get(code)
    return template % params if template is not None else english


def row_error_text(error: RowError) -> str:
    """'Row 3, column email: ...' in the reader's language; unknown codes keep the English."""
    params = dict(error.params)
    if error.code == "email_duplicate":
        params["where"] = (_("in row %(row)s", row=params["first_row"]) if params.get("first_row")
                           else _("in this cohort already"))
    message = coded_text(error.code, params, error.message)
    return _("Row %(row)s, column %(column)s: %(message)s", row=error.row,
             column=CSV_COLUMNS.get(error.column, error.column), message=message)


# Why a row was not sent or failed, from the English the dispatcher and planner store
# (core/sending.py skip_reason, core/mailpolicy.py, services): the first match wins.
DELIVERY_REASONS = (
    ("already done", _l("Not needed: already done")),
    ("too late", _l("Skipped: too late to be useful")),
    ("when they joined", _l("Skipped: already past when they joined")),  # services/overdue.py
    ("overdue", _l("Skipped: overdue when the outbox ran again")),
    ("first email was not sent", _l("Skipped: the first email was not sent")),
    ("no allowed time", _l("Skipped: no allowed sending time before it stops being useful")),
    ("superseded", _l("Replaced by a later change to the meeting")),
    ("no longer in the plan", _l("Cancelled: no longer in the plan")),
    ("left the cohort", _l("Cancelled: the participant left the cohort")),
    ("cancelled by", _l("Cancelled by a facilitator")),
    ("interrupted while sending", _l("Interrupted while sending: check with the recipient, "
                                     "then resend or mark as reviewed")),
)


def delivery_reason(text: str | None, code: int | None = None) -> str:
    """A stored reason in the reader's language; a mail server's answer (with its code) is
    shown as the server wrote it, since it is the server's words, not ours."""
    if not text and not code:
        return ""
    lowered = (text or "").lower()
    for needle, words in DELIVERY_REASONS:
        if needle in lowered:
            return str(words)
    if code:
        return _("Mail server answered %(code)s: %(text)s", code=code, text=text or "")
    return _("Not sent")


def label(mapping: dict, code: str | None) -> str:
    return str(mapping.get(code, code or ""))


def nl2br(value: str) -> Markup:
    return Markup("<br>").join(escape(value).split("\n"))


def filesize(size: int) -> str:
    """A file's size for people: '840 kB', '2,4 MB' (the decimal comma where the page's
    language has one)."""
    locale = locale_code()
    if size < 1000 * 1000:
        return f"{format_decimal(max(1, round(size / 1000)), locale=locale)} kB"
    return f"{format_decimal(round(size / 1000 / 1000, 1), locale=locale)} MB"


KEPT_TEXTS = 20_000  # three languages of the templates' ~1,500 strings, twice over


def _install_gettext(app: Flask) -> None:
    """The templates' `_` and `ngettext` as Flask-Babel installs them, but finding the
    catalog by the locale alone: Flask-Babel looks up the domain and the locale and spells
    the locale out (`str(locale)`) on every call, which was a fifth of the overview's time
    (77 strings) and an eighth of /me's. The catalogs themselves are Flask-Babel's, loaded
    once per language (`force_locale` changes the locale and so the catalog found).

    `_` and `gettext` are Jinja's newstyle gettext (the text is a format string for the
    call's variables, autoescaped as Markup), called directly rather than through Jinja's
    two wrappers (`_` resolved `gettext`, which called the function): about 11 µs a string,
    80 on /me. A string without variables comes out the same every time in a language, so
    its text is kept per locale, autoescaping and string: the templates' literal strings,
    bounded by the catalogs; KEPT_TEXTS more caps it should a template ever translate text
    it computed."""
    catalogs: dict = {}
    texts: dict = {}

    def current_locale():
        # Where Flask-Babel keeps the request's locale (force_locale sets it there too);
        # get_locale() reads it the same way through three lookups of `g`, and picks it when
        # it has not been picked yet.
        state = g.get("_flask_babel")
        return getattr(state, "babel_locale", None) or get_locale()

    def catalog(locale=None):
        locale = locale or current_locale()
        found = catalogs.get(locale)
        if found is None:
            found = get_translations()
            if locale is not None:
                catalogs[locale] = found
        return found

    @pass_context
    def gettext(context, string: str, /, **variables):
        autoescape = context.eval_ctx.autoescape
        if not variables:
            locale = current_locale()
            key = (locale, autoescape, string)
            found = texts.get(key)
            if found is None:
                found = catalog(locale).ugettext(string)
                found = (Markup(found) if autoescape else found) % {}
                if locale is not None and len(texts) < KEPT_TEXTS:
                    texts[key] = found
            return found
        text = catalog().ugettext(string)
        return (Markup(text) if autoescape else text) % variables

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: catalog().ugettext(s),
        ngettext=lambda s, p, n: catalog().ungettext(s, p, n),
        pgettext=lambda c, s: catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalog().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals.update(gettext=gettext, _=gettext)


def percent(part: int, whole: int) -> str:
    """'90 %' (da, nb) or '90%' (en), by the one rounding rule of core.survey_results."""
    return format_percent(part, whole, locale_code())


def percent_interval(interval) -> str:
    """A share's Wilson interval (`core.statistics.Interval`) as '82–99 %' / '82–99%'."""
    return format_percent_interval(interval.low, interval.high, locale_code())


def signed(value: float) -> str | None:
    """A change as '+0.6', '−0.3' or '0.0', as the report writes it (`format_change`)."""
    return format_change(value, locale_code())


def init_formatting(app: Flask) -> None:
    _install_gettext(app)
    app.add_template_filter(filesize, "filesize")
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(localdate, "localdate")
    app.add_template_filter(
        lambda value, timezone, fmt="medium": localtime(
            datetime.fromisoformat(value) if value else None, timezone, fmt), "isolocal")
    app.add_template_filter(nl2br, "nl2br")
    # The evaluation pages' figures, written as the report writes them.
    app.add_template_filter(percent, "pct")
    app.add_template_filter(percent_interval, "pct_interval")
    app.add_template_filter(lambda value: figure_decimal(value, locale_code()), "decimal")
    app.add_template_filter(signed, "signed")
    app.add_template_filter(delivery_reason, "delivery_reason")
    app.add_template_filter(row_error_text, "row_error")
    app.add_template_filter(
        lambda warning, cohort: date_warning_text(warning, cohort.timezone, cohort.language),
        "date_warning")
    app.add_template_global(locale_code, "current_locale")
    for name, mapping in (("meeting_kind", MEETING_KINDS), ("meeting_format", FORMATS),
                          ("role_name", ROLES), ("cohort_role", COHORT_ROLES),
                          ("delivery_kind", DELIVERY_KINDS), ("delivery_state", DELIVERY_STATES),
                          ("item_name", ITEMS), ("field_name", FIELDS),
                          ("task_kind", TASK_KINDS), ("grouping_kind", GROUPING_KINDS),
                          ("survey_mode", SURVEY_MODES), ("language_name", LANGUAGE_NAMES)):
        app.add_template_filter(lambda code, m=mapping: label(m, code), name)
