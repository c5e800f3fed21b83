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


class CohortForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _CatalogTranslations()


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


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as SelectField choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]
