"""Forms of the evaluator's workspace: a note from a guide, a quote, a quote's themes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional

from ..core.programme import Guide
from .forms import CohortForm, SingleLine, TextBox, options
from .survey_forms import MultiCheckboxField

ENTRY_PREFIX = "entry_"


class NoteFormBase(CohortForm):
    """What every note has; `note_form_for(guide)` adds one text box per guide heading."""

    title = StringField(_l("Title"), validators=[Optional(), SingleLine(200)])
    meeting_key = SelectField(_l("Meeting"), validators=[Optional()])
    held_on = DateField(_l("Date"), validators=[Optional()])
    organisation = SelectField(_l("Organisation"), validators=[Optional()])
    group_label = SelectField(_l("Group"), validators=[Optional()])
    submit = SubmitField(_l("Save the note"))

    guide: Guide

    def entry_fields(self):
        """(guide section, text field) in the guide's order."""
        return [(section, self[f"{ENTRY_PREFIX}{index}"])
                for index, section in enumerate(self.guide.sections)]

    def entries(self) -> dict[str, str]:
        return {section.heading: field.data or "" for section, field in self.entry_fields()}


def note_form_for(guide: Guide) -> type[NoteFormBase]:
    """A form class with the guide's headings as text boxes (`entry_0`, `entry_1`, ...)."""
    fields = {f"{ENTRY_PREFIX}{index}": TextAreaField(section.heading,
                                                      validators=[TextBox(20000)])
              for index, section in enumerate(guide.sections)}
    return type(f"NoteForm[{guide.key}]", (NoteFormBase,), {"guide": guide, **fields})


def meeting_choices(meetings) -> list:
    return options([("", "—"), *((m.key, m.title) for m in meetings)])


class QuoteForm(CohortForm):
    # The ids start with "quote-": the form shares a page with the note's form.
    text = TextAreaField(_l("Quote"), validators=[DataRequired(), TextBox(5000)],
                         id="quote-text")
    organisation = SelectField(_l("Organisation"), validators=[DataRequired()],
                               id="quote-organisation")
    group_label = SelectField(_l("Group"), validators=[Optional()], id="quote-group_label")
    themes = MultiCheckboxField(_l("Themes"), validate_choice=False, id="quote-themes")
    new_themes = StringField(_l("New themes (separated by semicolons)"),
                             validators=[Optional(), SingleLine(500)], id="quote-new_themes")
    note_id = HiddenField()
    submit = SubmitField(_l("Add the quote"), id="quote-submit")

    def chosen_themes(self) -> list[str]:
        return [*(self.themes.data or []), *split_themes(self.new_themes.data)]


def attribution_options(form, organisations: list[str], groups: list[str],
                        stored: tuple[str, str] = ("", "")) -> None:
    """Organisation and group picked from the cohort's data (services.attribution_choices),
    plus the values `stored` on the note or quote being edited if they are no longer among
    them (an older quote keeps its attribution); nothing typed in is accepted."""
    for field, values, current in ((form.organisation, organisations, stored[0]),
                                   (form.group_label, groups, stored[1])):
        shown = [*values, *([current] if current and current not in values else [])]
        field.choices = options([("", "—"), *((v, v) for v in shown)])


class EditQuoteForm(QuoteForm):
    submit = SubmitField(_l("Save the quote"), id="quote-submit")


class DeleteForm(CohortForm):
    """Deleting a note or a quote: the box must be ticked (one wrong click deletes nothing)."""

    # Own ids: the form shares its page with the note's or the quote's form.
    confirm = BooleanField(_l("Yes, delete it"), validators=[DataRequired()],
                           id="delete-confirm")
    submit = SubmitField(_l("Delete"), id="delete-submit")


class ThemesForm(CohortForm):
    """A quote's themes; one per quote on the page, told apart by the form prefix."""

    themes = MultiCheckboxField(_l("Themes"), validate_choice=False)
    new_themes = StringField(_l("New themes (separated by semicolons)"),
                             validators=[Optional(), SingleLine(500)])
    submit = SubmitField(_l("Save the themes"))

    def chosen_themes(self) -> list[str]:
        return [*(self.themes.data or []), *split_themes(self.new_themes.data)]


def themes_prefix(quote_id: int) -> str:
    return f"quote{quote_id}"


def split_themes(text: str | None) -> list[str]:
    return [part for part in (text or "").split(";") if part.strip()]
