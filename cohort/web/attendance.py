"""Attendance for the cohort's facilitators: the one-page list per meeting (fast on a tablet),
the check-in code shown in the room, importing a Teams report (preview, confirm, apply), the
cohort's attendance overview with who has missed twice or more, and CSV/XLSX downloads; and
for its evaluators as well, the counts per meeting behind the report's figures.

Thin: the rules (what may be marked when, catch-up emails, matching report rows, who counts as
present) live in `services.attendance` and the core; this module parses forms and renders.
"""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    SubmitField,
)
from wtforms.validators import AnyOf, InputRequired, NumberRange, Optional

from .. import services
from ..core.attendance import (
    NOTE_MAX,
    PRESENT,
    STATES,
    AttendanceError,
    CheckInPolicy,
    Mark,
    format_code,
)
from ..core.attendance_import import BY_HAND, BY_NAME, DEFAULT_MIN_PERCENT, ImportRefused
from ..core.spreadsheets import to_csv
from ..core.teams_attendance import TeamsReportError
from ..core.text import whole_number
from ..models import Role
from .access import requires
from .common import now, read_session, transaction
from .formatting import coded_text
from .forms import CohortForm, SingleLine, SubForm, options
from .survey_forms import MultiCheckboxField

bp = Blueprint("attendance", __name__, url_prefix="/cohorts/<int:cohort_id>")
STATE_LABELS = {"present": _l("Present"), "absent": _l("Absent"), "excused": _l("Excused")}
ASSIGN_PREFIX = "assign-"


class MarkRowForm(SubForm):
    participant_id = HiddenField()
    state = RadioField(choices=options(STATE_LABELS.items()), validate_choice=False,
                       validators=[Optional(), AnyOf(STATES)])
    note = StringField(_l("Note"), validators=[Optional(), SingleLine(NOTE_MAX)])


class SheetForm(CohortForm):
    rows = FieldList(FormField(MarkRowForm))
    rest_present = SubmitField(_l("Save; everyone not marked is present"))
    save = SubmitField(_l("Save"))


class CodeForm(CohortForm):
    make = SubmitField(_l("Show a check-in code"))
    renew = SubmitField(_l("Make a new code"))


class UploadForm(CohortForm):
    file = FileField(_l("Attendance report from Teams (.csv)"), validators=[FileRequired()])
    min_percent = IntegerField(_l("Present from this share of the meeting (%)"),
                               default=DEFAULT_MIN_PERCENT,
                               validators=[InputRequired(), NumberRange(0, 100)])
    preview = SubmitField(_l("Preview the import"))


class ConfirmForm(CohortForm):
    """Step two: the file travels back in a hidden field, so nothing is stored before Apply."""

    payload = HiddenField(validators=[InputRequired()])
    filename = HiddenField()
    min_percent = HiddenField()
    confirmed = MultiCheckboxField(_l("Same person"), coerce=int, validate_choice=False)
    allow_other_date = BooleanField(_l("Yes, this report belongs to this meeting"))
    update = SubmitField(_l("Update the preview"))
    apply = SubmitField(_l("Apply the import"))


def _meetings(session, cohort):
    return {m.key: m for m in services.current_plan(session, cohort).meetings}


# --- overview and downloads -----------------------------------------------------------------

@bp.get("/attendance")
@requires(Role.FACILITATOR, cohort_access=True)
def index(cohort_id: int):
    """Per meeting, per participant, and who has missed two meetings or more."""
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        summary = services.attendance_summary(session, cohort_id)
        meetings = _meetings(session, cohort)
    return render_template("attendance/index.html", cohort=cohort, summary=summary,
                           meetings=meetings, now=now(), labels=STATE_LABELS)


@bp.get("/attendance.<any(csv, xlsx):fmt>")
@requires(Role.FACILITATOR, cohort_access=True)
def export(cohort_id: int, fmt: str):
    with read_session() as session:
        services.get_cohort(session, cohort_id)
        if fmt == "csv":
            body = services.export_attendance_csv(session, cohort_id)
            mimetype = "text/csv; charset=utf-8"
        else:
            body = services.export_attendance_xlsx(session, cohort_id)
            mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment",
                         filename=f"cohort-{cohort_id}-attendance.{fmt}")
    response.cache_control.no_store = True
    return response


@bp.get("/attendance-per-meeting.csv")
@requires(Role.EVALUATOR, Role.FACILITATOR, cohort_access=True)
def export_per_meeting(cohort_id: int):
    """Attendance per meeting as counts (no names): the export behind the report's attendance
    figures, so the evaluators who write the report get it too (from the evaluation
    overview). Who was there, person by person, stays the facilitators' (`export`)."""
    with read_session() as session:
        body = to_csv(services.attendance_per_meeting(session, cohort_id))
    response = Response(body, mimetype="text/csv; charset=utf-8")
    response.headers.set("Content-Disposition", "attachment",
                         filename=f"cohort-{cohort_id}-attendance-per-meeting.csv")
    response.cache_control.no_store = True
    return response


# --- the one-page list ----------------------------------------------------------------------

@bp.route("/attendance/<meeting_key>", methods=["GET", "POST"])
@requires(Role.FACILITATOR, cohort_access=True)
def sheet(cohort_id: int, meeting_key: str):
    """Every participant with three big buttons and a note; one Save for the whole list."""
    with read_session() as session:
        current = services.meeting_sheet(session, cohort_id, meeting_key)
    if request.method == "GET":
        return _sheet_page(current, _filled_form(current))
    form = SheetForm()
    if not form.validate():
        return _sheet_page(current, form), 400
    marks = _changed_marks(form, current)
    try:
        with transaction() as session:
            result = services.set_marks(session, cohort_id, meeting_key, marks,
                                        recorded_by=current_user.email, now=now())
    except AttendanceError as exc:
        return _sheet_page(current, form, problem=str(exc)), 400
    flash(_saved_message(result), "success")
    return redirect(url_for("attendance.sheet", cohort_id=cohort_id, meeting_key=meeting_key))


def _filled_form(current) -> SheetForm:
    form = SheetForm(formdata=None)
    for row in current.rows:
        mark = row.attendance
        form.rows.append_entry({"participant_id": str(row.participant.id),
                                "state": mark.state if mark else None,
                                "note": mark.note if mark else ""})
    return form


def _changed_marks(form: SheetForm, current) -> dict[int, Mark]:
    """The rows whose state or note differ from what is recorded.

    Unchanged rows are left out, so saving the list does not turn an imported mark (with its
    minutes in the meeting) or a participant's own check-in into a facilitator's mark. With
    "everyone not marked is present", rows left blank count as present. Rows for people no
    longer in the cohort (removed while the page was open) are ignored.
    """
    recorded = {row.participant.id: row.attendance for row in current.rows}
    marks = {}
    for entry in form.rows:
        pid = whole_number(entry.participant_id.data)
        if pid not in recorded:
            continue
        state = entry.state.data or (PRESENT if form.rest_present.data else None)
        if state is None:
            continue
        note = (entry.note.data or "").strip()
        existing = recorded[pid]
        if existing is not None and (existing.state, existing.note) == (state, note):
            continue
        marks[pid] = Mark(state, note)
    return marks


def _saved_message(result) -> str:
    parts = [ngettext("%(num)d mark saved.", "%(num)d marks saved.", len(result.changed))]
    if result.catch_ups_created:
        parts.append(ngettext("%(num)d catch-up email queued.", "%(num)d catch-up emails queued.",
                              result.catch_ups_created))
    if result.catch_ups_cancelled:
        parts.append(ngettext("%(num)d catch-up email cancelled.",
                              "%(num)d catch-up emails cancelled.", result.catch_ups_cancelled))
    return " ".join(parts)


def _sheet_page(current, form: SheetForm, problem: str | None = None):
    people = {row.participant.id: row for row in current.rows}
    started = now() >= current.meeting.starts_at - CheckInPolicy().open_before
    return render_template("attendance/sheet.html", cohort=current.cohort,
                           meeting=current.meeting, form=form, people=people, problem=problem,
                           started=started, code=format_code(current.code) if current.code
                           else None)


# --- the code shown in the room -------------------------------------------------------------

@bp.route("/attendance/<meeting_key>/code", methods=["GET", "POST"])
@requires(Role.FACILITATOR, cohort_access=True)
def code(cohort_id: int, meeting_key: str):
    """The check-in code, large enough to read from the back of the room; made on request."""
    form = CodeForm()
    if request.method == "POST":
        if form.validate():
            with transaction() as session:
                services.check_in_code(session, cohort_id, meeting_key,
                                       created_by=current_user.email,
                                       renew=bool(form.renew.data), now=now())
            if form.renew.data:
                flash(_("A new code was made; the old one no longer works."), "success")
        return redirect(url_for("attendance.code", cohort_id=cohort_id,
                                meeting_key=meeting_key))
    with read_session() as session:
        current = services.meeting_sheet(session, cohort_id, meeting_key)
    policy = CheckInPolicy()
    return render_template(
        "attendance/code.html", cohort=current.cohort, meeting=current.meeting, form=form,
        code=format_code(current.code) if current.code else None,
        opens_at=current.meeting.starts_at - policy.open_before,
        closes_at=current.meeting.ends_at + policy.grace)


# --- importing a Teams report ---------------------------------------------------------------

@bp.route("/attendance/<meeting_key>/import", methods=["GET", "POST"])
@requires(Role.FACILITATOR, cohort_access=True)
def import_report(cohort_id: int, meeting_key: str):
    """Upload, preview (name matches to confirm, unmatched rows to assign), then apply."""
    with read_session() as session:
        current = services.meeting_sheet(session, cohort_id, meeting_key)
    if request.method == "GET":
        return _upload_page(current, UploadForm(formdata=None))
    if "payload" not in request.form:
        return _first_preview(current)
    form = ConfirmForm()
    data = _payload(form)
    if data is None:
        upload = UploadForm(formdata=None)
        return _upload_page(current, upload, _("The file did not come back intact; please "
                                               "upload it again.")), 400
    min_percent = _percent(form.min_percent.data)
    confirmed = form.confirmed.data or []
    assignments = _assignments(request.form, {row.participant.id for row in current.rows})
    try:
        with read_session() as session:
            preview = services.preview_teams_import(session, cohort_id, meeting_key, data,
                                                    min_percent, confirmed, assignments)
    except (TeamsReportError, ImportRefused) as exc:
        return _upload_page(current, UploadForm(formdata=None), _problem(exc)), 400
    if not form.apply.data:
        return _preview_page(current, form, preview, assignments)
    try:
        with transaction() as session:
            outcome = services.apply_teams_import(
                session, cohort_id, meeting_key, data, filename=form.filename.data or "",
                min_percent=min_percent, confirmed_lines=confirmed, assignments=assignments,
                allow_other_date=form.allow_other_date.data,
                recorded_by=current_user.email, now=now())
    except (TeamsReportError, ImportRefused, AttendanceError) as exc:
        return _preview_page(current, form, preview, assignments, _problem(exc)), 400
    flash(_imported_message(outcome), "success")
    return redirect(url_for("attendance.sheet", cohort_id=cohort_id, meeting_key=meeting_key))


def _first_preview(current):
    upload = UploadForm()
    if not upload.validate():
        return _upload_page(current, upload), 400
    data = upload.file.data.read()
    try:
        with read_session() as session:
            preview = services.preview_teams_import(session, current.cohort.id,
                                                    current.meeting.key, data,
                                                    upload.min_percent.data)
    except (TeamsReportError, ImportRefused) as exc:
        return _upload_page(current, upload, _problem(exc)), 400
    form = ConfirmForm(formdata=None, payload=base64.b64encode(data).decode("ascii"),
                       filename=upload.file.data.filename or "",
                       min_percent=str(upload.min_percent.data))
    return _preview_page(current, form, preview, {})


def _payload(form: ConfirmForm) -> bytes | None:
    if not form.validate():
        return None
    try:
        return base64.b64decode(form.payload.data, validate=True)
    except (binascii.Error, ValueError):
        return None


def _percent(value: str | None) -> float:
    try:
        return float(value) if value not in (None, "") else DEFAULT_MIN_PERCENT
    except ValueError:
        return DEFAULT_MIN_PERCENT


def _assignments(formdata, known: set[int]) -> dict[int, int]:
    """Report lines the facilitator assigned to a participant by hand (`assign-<line>`)."""
    chosen = {}
    for name, value in formdata.items():
        line, person = whole_number(name.removeprefix(ASSIGN_PREFIX)), whole_number(value)
        if name.startswith(ASSIGN_PREFIX) and line is not None and person in known:
            chosen[line] = person
    return chosen


def _problem(exc: Exception) -> str:
    if isinstance(exc, TeamsReportError):
        where = _("line %(line)s: ", line=exc.line) if exc.line else ""
        if exc.line and exc.column:
            where = _("line %(line)s, column %(column)s: ", line=exc.line, column=exc.column)
        return _("The file could not be read (%(where)s%(problem)s). Nothing was saved.",
                 where=where, problem=coded_text(exc.code, dict(exc.params), exc.message))
    return _("The report was not imported: %(problem)s. Nothing was saved.", problem=str(exc))


def _imported_message(outcome) -> str:
    unmatched = len(outcome.preview.plan.unmatched) + len(outcome.preview.plan.to_confirm)
    text = ngettext("%(num)d mark recorded from the report.",
                    "%(num)d marks recorded from the report.", len(outcome.result.changed))
    if unmatched:
        text += " " + ngettext("%(num)d row matched no one and was not used.",
                               "%(num)d rows matched no one and were not used.", unmatched)
    return text


def _upload_page(current, form: UploadForm, problem: str | None = None):
    return render_template("attendance/import.html", cohort=current.cohort,
                           meeting=current.meeting, upload=form, problem=problem, preview=None)


def _preview_page(current, form: ConfirmForm, preview, assignments: dict[int, int],
                  problem: str | None = None):
    plan = preview.plan
    name_matches = [m for m in plan.matches if m.matched_by == BY_NAME]
    form.confirmed.choices = options((m.line, preview.participants[m.participant_id].name)
                                     for m in name_matches)
    form.confirmed.data = [m.line for m in name_matches if m.confirmed]
    by_hand = [m for m in plan.matches if m.participant_id is None or m.matched_by == BY_HAND]
    people = sorted(preview.participants.values(), key=lambda p: (p.name, p.id))
    return render_template(
        "attendance/import.html", cohort=current.cohort, meeting=current.meeting,
        preview=preview, plan=plan, form=form, name_matches=name_matches, by_hand=by_hand,
        people=people, assignments=assignments, problem=problem, labels=STATE_LABELS,
        assign_prefix=ASSIGN_PREFIX)
