"""Forms of the evaluator's workspace: a note from a guide, a quote, a quote's themes."""

from __future__ import annotations

import json

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

from ..core.attribution import text_of
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
    # One choice of (organisation, group) pairs, only those enough participants share
    # (services.quote_attributions), so no combination too narrow can be picked.
    attribution = SelectField(_l("Attribution"), id="quote-attribution")
    themes = MultiCheckboxField(_l("Themes"), validate_choice=False, id="quote-themes")
    new_themes = StringField(_l("New themes (separated by semicolons)"),
                             validators=[Optional(), SingleLine(500)], id="quote-new_themes")
    note_id = HiddenField()
    submit = SubmitField(_l("Add the quote"), id="quote-submit")

    def chosen_themes(self) -> list[str]:
        return [*(self.themes.data or []), *split_themes(self.new_themes.data)]

    def chosen_attribution(self) -> tuple[str, str]:
        """(organisation, group) of the chosen option (validated: one of the choices)."""
        organisation, group = json.loads(self.attribution.data or '["", ""]')
        return organisation, group


def attribution_value(organisation: str, group_label: str) -> str:
    """An attribution as one option value: the pair as JSON (names may hold any comma)."""
    return json.dumps([organisation, group_label], ensure_ascii=False)


def quote_attribution_options(form: QuoteForm, allowed: list[tuple[str, str]],
                              chosen: tuple[str, str] = ("", "")) -> None:
    """The attributions enough participants share, the generic one first; `chosen` (a note's
    or a quote's) is preselected as it may be published now."""
    form.attribution.choices = options(
        (attribution_value(*pair), text_of(*pair) or _l("A participant (no attribution)"))
        for pair in allowed)
    if form.attribution.data is None:
        form.attribution.data = attribution_value(*chosen)


def attribution_options(form, organisations: list[str], groups: list[str],
                        stored: tuple[str, str] = ("", "")) -> None:
    """A note's organisation and group picked from the cohort's data
    (services.attribution_choices), plus the values `stored` on the note being edited if they
    are no longer among them; nothing typed in is accepted. Notes are not published, so any
    of them may be chosen; a quote's attribution is `quote_attribution_options`."""
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


# Why a note or quote was refused (services.evaluation_notes.Problem), in the page's language.
NOTE_PROBLEMS = {
    "not_a_heading": _l("“%(heading)s” is not a heading of the guide"),
    "no_meeting": _l("the cohort has no meeting “%(meeting)s”"),
    "no_note": _l("the note the quote was taken from no longer exists"),
    "quote_empty": _l("the quote is empty"),
    "too_narrow": _l("“%(attribution)s” fits %(fit)s of the cohort's participants, fewer "
                     "than the minimum group size (%(k)s): attribute the quote more broadly "
                     "(only the organisation, or no attribution)"),
}
# A name in one of the fields, by the field (each its own sentence for the translators).
NAMES_PARTICIPANT = {
    "quote": _l("the quote names a participant (%(name)s); attribute quotes only by "
                "organisation and group"),
    "organisation": _l("the organisation names a participant (%(name)s); attribute quotes "
                       "only by organisation and group"),
    "group": _l("the group names a participant (%(name)s); attribute quotes only by "
                "organisation and group"),
    "title": _l("the title names a participant (%(name)s); attribute quotes only by "
                "organisation and group"),
}


def problem_text(problem: str) -> str:
    """A refusal's reason in the page's language; the English text for one without a code."""
    code, params = getattr(problem, "code", ""), getattr(problem, "params", {})
    wording = (NAMES_PARTICIPANT.get(params.get("field", "")) if code == "names_participant"
               else NOTE_PROBLEMS.get(code))
    return str(problem) if wording is None else str(wording) % params
