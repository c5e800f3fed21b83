"""The base for every form: CSRF (Flask-WTF) and WTForms' own messages in our catalogs.

WTForms ships no Danish catalog, so its messages ("This field is required.") are listed below
for extraction and translated in cohort/translations like every other string.
"""

from __future__ import annotations

import flask_babel
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import Form, SelectChoice
from wtforms.validators import ValidationError

from ..core.cohort_fields import YEARS_AHEAD, YEARS_BACK, date_window
from ..core.links import MAX_LINK, web_link_problem
from ..core.text import (
    CONTROL_CHARACTER,
    SINGLE_LINE_MAX,
    TOO_LONG,
    multi_line_problem,
    single_line_problem,
)


class _CatalogTranslations:
    """WTForms' translations object: the message from our catalogs, not yet formatted.

    WTForms fills in the placeholders itself (`message % dict(min=..., max=...)`);
    flask_babel.ngettext would format with only `num` and fail on `%(max)d` (a KeyError, a 500
    on every over-long field).
    """

    def gettext(self, string: str) -> str:
        return flask_babel.get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return flask_babel.get_translations().ungettext(singular, plural, n)


_HIDDEN_FIELD_TYPES = frozenset({"HiddenField", "CSRFTokenField"})


class CohortForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _CatalogTranslations()

        def render_field(self, field, render_kw):
            """Hidden inputs carry no id: no label points at them, and a page with several
            forms (the header's language form is on every page) would repeat it."""
            if field.type in _HIDDEN_FIELD_TYPES:
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)


class SubForm(Form):
    """A form nested in a CohortForm (FieldList/FormField); the outer form carries CSRF."""

    class Meta:
        def get_translations(self, form):
            return _CatalogTranslations()


# The WTForms messages our forms can show, so that extraction puts them in the catalogs.
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Not a valid date value."),
    _l("Not a valid time value."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Invalid input."),
    _l("Field must be equal to %(other_name)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    lazy_ngettext("Field must be at least %(min)d character long.",
                  "Field must be at least %(min)d characters long.", 1),
    lazy_ngettext("Field cannot be longer than %(max)d character.",
                  "Field cannot be longer than %(max)d characters.", 1),
)


def _too_long(field, limit: int) -> ValidationError:
    return ValidationError(field.ngettext("Field cannot be longer than %(max)d character.",
                                          "Field cannot be longer than %(max)d characters.",
                                          limit) % {"max": limit})


class SingleLine:
    """A human-entered one-line text field (a name, title, place): at most `max` characters
    and no line break or other control character (`core.text.single_line_problem`)."""

    def __init__(self, max: int = SINGLE_LINE_MAX) -> None:  # noqa: A002 (as Length's)
        self.max = max

    def __call__(self, form, field) -> None:
        problem = single_line_problem(field.data or "", self.max)
        if problem == TOO_LONG:
            raise _too_long(field, self.max)
        if problem == CONTROL_CHARACTER:
            raise ValidationError(_l("%(field)s must be one line of text, without line breaks "
                                     "or other control characters.", field=field.label.text))


class TextBox(SingleLine):
    """A text box: as SingleLine, but line breaks and tabs are allowed."""

    def __call__(self, form, field) -> None:
        problem = multi_line_problem(field.data or "", self.max)
        if problem == TOO_LONG:
            raise _too_long(field, self.max)
        if problem == CONTROL_CHARACTER:
            raise ValidationError(_l("%(field)s contains a control character that is not text.",
                                     field=field.label.text))


class WebLink:
    """A link shown to participants: http(s) only, no spaces or control characters."""

    def __init__(self, max: int = MAX_LINK) -> None:  # noqa: A002
        self.max = max

    def __call__(self, form, field) -> None:
        problem = web_link_problem(field.data or "", self.max)
        if problem == TOO_LONG:
            raise _too_long(field, self.max)
        if problem:
            raise ValidationError(_l("%(field)s must be a web address starting with https:// "
                                     "(or http://), without spaces.", field=field.label.text))


class DateWindow:
    """A date to plan with: from `years_back` years ago to `years_ahead` years ahead of today.

    Nobody plans a cohort for the year 1 or 9999, and the planning's arithmetic (weeks added,
    time zones applied) runs off the calendar's ends there (a 500).
    """

    def __init__(self, years_back: int = YEARS_BACK, years_ahead: int = YEARS_AHEAD) -> None:
        self.back, self.ahead = years_back, years_ahead

    def __call__(self, form, field) -> None:
        from .common import now

        if field.data is None:
            return
        today = now().date()
        first, last = date_window(today, self.back, self.ahead)
        if not first <= field.data <= last:
            raise ValidationError(flask_babel.gettext(
                "Choose a date between %(first)s and %(last)s.",
                first=flask_babel.format_date(first), last=flask_babel.format_date(last)))


def strip(value):
    """A WTForms filter: surrounding spaces removed (pasted text often has some)."""
    return value.strip() if isinstance(value, str) else value


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as SelectField choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]
