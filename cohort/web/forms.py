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
    def gettext(self, string: str) -> str:
        return flask_babel.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return flask_babel.ngettext(singular, plural, n)


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


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as SelectField choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]
