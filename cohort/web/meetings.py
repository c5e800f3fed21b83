"""Reschedule, cancel or restore one meeting: preview everything that moves, then confirm."""

from __future__ import annotations

import hashlib
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, StringField, SubmitField, TimeField
from wtforms.validators import DataRequired, InputRequired, Optional

from .. import services
from ..models import Role
from ..services import meetings as meeting_service
from ..services.meeting_records import MeetingChangeRefused
from .access import requires
from .common import actor, now, read_session, transaction
from .forms import CohortForm, DateWindow, SingleLine, WebLink, strip

bp = Blueprint("meetings", __name__, url_prefix="/cohorts/<int:cohort_id>/meetings")


class RescheduleForm(CohortForm):
    day = DateField(_l("New date"), validators=[InputRequired(), DateWindow()])
    clock = TimeField(_l("New start time"), validators=[InputRequired()])
    location = StringField(_l("Location"), validators=[Optional(), SingleLine(300)])
    online_url = StringField(_l("Online link"), validators=[Optional(), WebLink()],
                             filters=[strip])
    previewed = HiddenField()
    preview = SubmitField(_l("Preview the changes"))
    confirm = SubmitField(_l("Confirm the new time"))

    def fingerprint(self) -> str:
        """What the preview was computed for; confirming other values shows a new preview."""
        text = f"{self.day.data}|{self.clock.data}|{self.location.data}|{self.online_url.data}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class CancelForm(CohortForm):
    confirm_cancel = BooleanField(_l("Yes, cancel this meeting"), validators=[DataRequired()])
    submit = SubmitField(_l("Cancel the meeting"))


class RestoreForm(CohortForm):
    confirm_restore = BooleanField(_l("Yes, restore this meeting"), validators=[DataRequired()])
    submit = SubmitField(_l("Restore the meeting"))


def _load(session, cohort_id: int, meeting_key: str):
    cohort = services.get_cohort(session, cohort_id)
    meeting = meeting_service.get_meeting(session, cohort_id, meeting_key)
    return cohort, meeting


@bp.route("/<meeting_key>/reschedule", methods=["GET", "POST"])
@requires(Role.FACILITATOR, cohort_access=True)
def reschedule(cohort_id: int, meeting_key: str):
    with read_session() as session:
        cohort, meeting = _load(session, cohort_id, meeting_key)
    zone = ZoneInfo(cohort.timezone)
    form = RescheduleForm()
    if request.method == "GET":
        local = meeting.starts_at.astimezone(zone)
        form.day.data, form.clock.data = local.date(), time(local.hour, local.minute)
        form.location.data, form.online_url.data = meeting.location, meeting.online_url
    if meeting.status == "cancelled":
        flash(_("This meeting is cancelled and cannot be moved."), "error")
        return redirect(url_for("cohorts.show", cohort_id=cohort_id))
    if request.method == "GET" or not form.validate():
        status = 200 if request.method == "GET" else 400
        return render_template("meetings/reschedule.html", cohort=cohort, meeting=meeting,
                               form=form, preview=None), status
    starts_at = datetime.combine(form.day.data, form.clock.data, tzinfo=zone)
    location = (form.location.data or "").strip()
    online_url = (form.online_url.data or "").strip()
    if form.confirm.data and form.previewed.data == form.fingerprint():
        try:
            with transaction() as session:
                meeting_service.reschedule(
                    session, cohort_id, meeting_key, starts_at, actor(), now(),
                    location=_changed(location, meeting.location),
                    online_url=_changed(online_url, meeting.online_url))
        except MeetingChangeRefused:  # recorded since the preview: it shows the new preview
            flash(_("Attendance or survey answers were recorded for %(meeting)s since the "
                    "preview; it can no longer be moved.", meeting=meeting.title), "error")
        else:
            flash(_("%(meeting)s was moved; everything anchored to it moved along.",
                    meeting=meeting.title), "success")
            return redirect(url_for("cohorts.plan", cohort_id=cohort_id,
                                    _anchor=f"meeting-{meeting_key}"))
    with read_session() as session:
        preview = meeting_service.preview_reschedule(
            session, cohort, meeting_key, starts_at, now(),
            location=_changed(location, meeting.location),
            online_url=_changed(online_url, meeting.online_url))
    form.previewed.data = form.fingerprint()
    return render_template("meetings/reschedule.html", cohort=cohort, meeting=meeting,
                           form=form, preview=preview, now=now())


def _changed(new: str, old: str | None) -> str | None:
    """None when unchanged, so a meeting keeps following its template's place."""
    return None if new == (old or "") else new


@bp.route("/<meeting_key>/cancel", methods=["GET", "POST"])
@requires(Role.FACILITATOR, cohort_access=True)
def cancel(cohort_id: int, meeting_key: str):
    """Not a meeting held, nor one whose survey answers it would delete (the preview says
    which; services/meeting_records.py says why)."""
    return _change_status(
        cohort_id, meeting_key, CancelForm, "meetings/cancel.html", from_cancelled=False,
        unchanged=lambda: _("This meeting is already cancelled."),
        preview=meeting_service.preview_cancel, apply=meeting_service.cancel_meeting,
        done=lambda title: _("%(meeting)s was cancelled.", meeting=title))


@bp.route("/<meeting_key>/restore", methods=["GET", "POST"])
@requires(Role.FACILITATOR, cohort_access=True)
def restore(cohort_id: int, meeting_key: str):
    """Undo a cancellation, with the same preview as any other change."""
    return _change_status(
        cohort_id, meeting_key, RestoreForm, "meetings/restore.html", from_cancelled=True,
        unchanged=lambda: _("This meeting is not cancelled."),
        preview=meeting_service.preview_restore, apply=meeting_service.restore_meeting,
        done=lambda title: _("%(meeting)s is back in the plan.", meeting=title))


def _change_status(cohort_id: int, meeting_key: str, form_class, template: str, *,
                   from_cancelled: bool, unchanged, preview, apply, done):
    """Cancel or restore: preview on GET, confirm on POST; a meeting already in the wanted
    state sends the facilitator back to the overview."""
    with read_session() as session:
        cohort, meeting = _load(session, cohort_id, meeting_key)
        if (meeting.status == "cancelled") != from_cancelled:
            flash(unchanged(), "info")
            return redirect(url_for("cohorts.show", cohort_id=cohort_id))
        changes = preview(session, cohort, meeting_key, now())
    form = form_class()
    if request.method == "POST" and changes.at_stake.refused:
        status = 409  # the page says why, and offers no form
    elif request.method == "POST":
        if form.validate():
            try:
                with transaction() as session:
                    apply(session, cohort_id, meeting_key, actor(), now())
            except MeetingChangeRefused:  # recorded between the preview and now
                return redirect(url_for(request.endpoint, cohort_id=cohort_id,
                                        meeting_key=meeting_key))
            flash(done(meeting.title), "success")
            return redirect(url_for("cohorts.show", cohort_id=cohort_id))
        status = 400
    else:
        status = 200
    return render_template(template, cohort=cohort, meeting=meeting, form=form,
                           preview=changes, now=now()), status
