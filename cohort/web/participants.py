"""A cohort's participants: upload a list (Excel or CSV), add, edit and remove one person."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired

from .. import services
from ..core.participants import ParticipantImportError, ParticipantRow
from ..models import Role
from ..services import participants as participant_service
from ..services.participants import ParticipantError
from .access import requires
from .common import actor, now, read_session, transaction
from .formatting import LANGUAGE_NAMES
from .forms import CohortForm, SingleLine, options

bp = Blueprint("participants", __name__, url_prefix="/cohorts/<int:cohort_id>/participants")
PARTICIPANT_ERRORS = {
    "name_missing": _l("The name is missing."),
    "email_invalid": _l("That is not a valid email address."),
    "email_duplicate": _l("Someone in this cohort already has that email address."),
    "language_invalid": _l("Choose one of the languages."),
    "control_character": _l("Write it on one line, without line breaks or other control "
                            "characters."),
}


class ParticipantForm(CohortForm):
    name = StringField(_l("Name"), validators=[DataRequired(), SingleLine(200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), SingleLine(254)])
    organisation = StringField(_l("Organisation"), validators=[SingleLine(200)])
    role = StringField(_l("Role"), validators=[SingleLine(200)])
    language = SelectField(_l("Language"), choices=options(LANGUAGE_NAMES.items()))
    submit = SubmitField(_l("Save"))

    def row(self) -> ParticipantRow:
        return ParticipantRow(self.name.data or "", self.email.data or "",
                              self.organisation.data or "", self.role.data or "",
                              self.language.data)

    def show_error(self, error: ParticipantError) -> None:
        getattr(self, error.field).errors.append(str(PARTICIPANT_ERRORS.get(error.code, error)))


class UploadForm(CohortForm):
    file = FileField(_l("Excel or CSV file"), validators=[FileRequired()],
                     render_kw={"accept": ".xlsx,.csv,.txt"})
    # Asked only in a launched cohort, whose new people are emailed at once: a file of
    # hundreds is never mailed by one click the facilitator did not know would mail them.
    confirm_emails = BooleanField(_l("Yes, email everyone in the file now"))
    submit = SubmitField(_l("Upload"))


class RemoveForm(CohortForm):
    confirm = BooleanField(_l("Yes, remove this participant"), validators=[DataRequired()])
    submit = SubmitField(_l("Remove"))


def _page(cohort_id: int, status: int = 200, **forms):
    forms.setdefault("add_form", ParticipantForm(formdata=None))
    forms.setdefault("upload_form", UploadForm(formdata=None))
    forms.setdefault("import_errors", None)
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        if forms["add_form"].language.data is None:
            forms["add_form"].language.data = cohort.language
        people = participant_service.list_participants(session, cohort_id)
        repair = participant_service.groups_needing_repair(session, cohort)
    return render_template("participants/index.html", cohort=cohort, participants=people,
                           repair=repair, **forms), status


@bp.get("/")
@requires(Role.FACILITATOR, cohort_access=True)
def index(cohort_id: int):
    return _page(cohort_id)


def _overdue_limit() -> timedelta:
    """The outbox's: someone joining a running cohort has the emails it would skip as overdue
    skipped at once (services/overdue.py), not shown as pending until its next pass."""
    return timedelta(hours=current_app.config["OUTBOX_OVERDUE_LIMIT_HOURS"])


@bp.post("/upload")
@requires(Role.FACILITATOR, cohort_access=True)
def upload(cohort_id: int):
    """All rows or none: a file with any bad row is rejected with every problem listed."""
    form = UploadForm()
    if not form.validate():
        return _page(cohort_id, 400, upload_form=form)
    with read_session() as session:
        launched = services.get_cohort(session, cohort_id).launched_at is not None
    if launched and not form.confirm_emails.data:
        form.confirm_emails.errors = [_("The cohort has been launched: tick the box to confirm "
                                        "that everyone in the file is emailed.")]
        return _page(cohort_id, 400, upload_form=form)
    data = form.file.data.read()
    try:
        with transaction() as session:
            rows = participant_service.import_csv(session, cohort_id, data, actor(), now(),
                                                  overdue_limit=_overdue_limit())
    except ParticipantImportError as exc:
        return _page(cohort_id, 400, upload_form=form, import_errors=exc.errors,
                     upload_name=form.file.data.filename)
    flash(_("%(count)s participants were added.", count=len(rows)), "success")
    return redirect(url_for("participants.index", cohort_id=cohort_id))


@bp.post("/add")
@requires(Role.FACILITATOR, cohort_access=True)
def add(cohort_id: int):
    form = ParticipantForm()
    if form.validate():
        try:
            with transaction() as session:
                person = participant_service.add_participant(session, cohort_id, form.row(),
                                                             actor(), now(),
                                                             overdue_limit=_overdue_limit())
        except ParticipantError as error:
            form.show_error(error)
        else:
            flash(_("%(name)s was added.", name=person.name), "success")
            return redirect(url_for("participants.index", cohort_id=cohort_id))
    return _page(cohort_id, 400, add_form=form)


@bp.route("/<int:participant_id>/edit", methods=["GET", "POST"])
@requires(Role.FACILITATOR, cohort_access=True)
def edit(cohort_id: int, participant_id: int):
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        person = participant_service.get_participant(session, cohort_id, participant_id)
    form = ParticipantForm(obj=person if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                with transaction() as session:
                    participant_service.update_participant(
                        session, cohort_id, participant_id, form.row(), actor(), now())
            except ParticipantError as error:
                form.show_error(error)
            else:
                flash(_("The changes were saved."), "success")
                return redirect(url_for("participants.index", cohort_id=cohort_id))
        status = 400
    return render_template("participants/edit.html", cohort=cohort, person=person,
                           form=form), status


@bp.route("/<int:participant_id>/remove", methods=["GET", "POST"])
@requires(Role.FACILITATOR, cohort_access=True)
def remove(cohort_id: int, participant_id: int):
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        person = participant_service.get_participant(session, cohort_id, participant_id)
        groups = participant_service.participant_groups(session, participant_id)
        names = {g.key: g.title or g.key for g in services.groupings(session, cohort_id)}
        grouping_names = sorted({names.get(g.grouping_key, g.grouping_key) for g in groups})
        pending = participant_service.pending_deliveries(session, participant_id)
        answered = participant_service.surveys_answered(session, participant_id)
    form = RemoveForm()
    if request.method == "POST":
        if form.validate():
            with transaction() as session:
                removal = participant_service.remove_participant(session, cohort_id,
                                                                 participant_id, actor(), now())
            flash(_("%(name)s was removed; their pending emails were cancelled.",
                    name=person.name), "success")
            if removal.erased:
                flash(_("Their survey answers stay in the figures, without their name."),
                      "success")
            if removal.groups:
                flash(_("They were in a group: check the groups, which need repair."),
                      "warning")
            return redirect(url_for("participants.index", cohort_id=cohort_id))
        return render_template("participants/remove.html", cohort=cohort, person=person,
                               groups=grouping_names, pending=pending, answered=answered,
                               form=form), 400
    return render_template("participants/remove.html", cohort=cohort, person=person,
                           groups=grouping_names, pending=pending, answered=answered, form=form)
