"""The progress grid and announcements, for the cohort's facilitators (owner, co-facilitators)
and admins. Evaluators do not see it: it names every participant's attendance and work, which
is follow-up for facilitators, not evaluation (evaluators get the figures, docs/anonymity.md).

Thin: filters and pages come from the query string (`services.progress.parse_grid_filters`),
the rows from `services.progress.progress_grid`, and "remind these" and announcements are
one service call each inside `transaction()`. An announcement is previewed first; confirming
needs the preview's fingerprint, so changed text or a changed audience shows a new preview.
"Remind everyone shown by the filters" is asked the same way: its first click shows how many
reminders would be queued and to whom, and only the confirmation (carrying that plan's
fingerprint) queues them. Reminding the people ticked one by one needs no second step: the
facilitator has chosen each of them on the page.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from .. import services
from ..core import progress as core
from ..core.spreadsheets import to_csv, to_xlsx
from ..core.text import whole_number
from ..models import Role
from ..services import announcements as announcing
from ..services import progress as grid_service
from .access import requires
from .common import actor, now, plain_query, read_session, transaction
from .forms import CohortForm, SingleLine, TextBox, options

bp = Blueprint("progress", __name__, url_prefix="/cohorts/<int:cohort_id>")

CELL_LABELS = {
    core.PRESENT: _l("Present"), core.ABSENT: _l("Absent"), core.EXCUSED: _l("Excused"),
    core.UNMARKED: _l("Not recorded"), core.UPCOMING: _l("Not held yet"),
    core.CANCELLED: _l("Cancelled"), core.DONE: _l("Done"), core.OPEN: _l("Open"),
    core.OVERDUE: _l("Overdue"), core.NOT_YET: _l("Not yet"), core.ANSWERED: _l("Answered"),
    core.NOT_ANSWERED: _l("Not answered"), core.CLOSED_UNANSWERED: _l("Not answered, closed"),
    core.OPENED: _l("Opened"), core.NOT_OPENED: _l("Not opened"),
}
# A sign beside the words, so the cell reads at a glance in any colour scheme.
CELL_SIGNS = {core.OK: "✓", core.ATTENTION: "!", core.MISSING: "✗", core.NEUTRAL: "–"}
SORT_LABELS = {"name": _l("Name"), "organisation": _l("Organisation"),
               "missed": _l("Meetings missed"), "tasks": _l("Tasks done"),
               "answers": _l("Answers"), "link": _l("Link opened")}
AUDIENCE_LABELS = {announcing.COHORT: _l("Everyone in the cohort"),
                   announcing.GROUP: _l("One group"),
                   announcing.FILTERED: _l("The rows of the progress grid as filtered")}


class RemindForm(CohortForm):
    remind = SubmitField(_l("Remind the chosen people"))
    remind_all = SubmitField(_l("Remind everyone shown by the filters"))
    # The confirmation of remind_all: the fingerprint of the plan it showed.
    previewed = HiddenField()
    confirm_all = SubmitField(_l("Queue these reminders"))


class AnnouncementForm(CohortForm):
    subject = StringField(_l("Subject"), validators=[InputRequired(),
                                                     SingleLine(core.MAX_SUBJECT)])
    body = TextAreaField(_l("Message"), validators=[InputRequired(), TextBox(core.MAX_BODY),
                                                    Length(max=core.MAX_BODY)])
    audience = RadioField(_l("To"), choices=options(AUDIENCE_LABELS.items()),
                          default=announcing.COHORT,
                          validators=[InputRequired(), AnyOf(announcing.AUDIENCES)])
    group = SelectField(_l("Group"), coerce=str, validators=[Optional()], validate_choice=False)
    urgent = BooleanField(_l("Urgent: send at once, not with the next email "
                             "(for example, the room has changed)"))
    previewed = HiddenField()
    preview = SubmitField(_l("Preview"))
    confirm = SubmitField(_l("Send the announcement"))


def _filters(session, cohort_id: int) -> core.GridFilters:
    return grid_service.parse_grid_filters(session, cohort_id, request.args)


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return whole_number(raw, 6) or 1


@bp.get("/progress")
@requires(Role.FACILITATOR, cohort_access=True)
def grid(cohort_id: int):
    with read_session() as session:
        filters = _filters(session, cohort_id)
        found = grid_service.progress_grid(session, cohort_id, filters, _page_number(), now())
    cells = _cells()
    # Each row's cells joined here, once: thousands of cells through the template's escaping
    # cost more than the database.
    rows = [(row.summary, Markup("".join([cells[state] for state in row.cells])))
            for row in found.rows]
    return render_template("progress/grid.html", cohort=found.cohort, grid=found, rows=rows,
                           form=RemindForm(), args=filters.as_args(), cells=cells,
                           sort_labels=SORT_LABELS)


def _cells() -> dict[str, Markup]:
    """Each state's cell, rendered once per page (a page of 50 rows has thousands of cells):
    the sign for the eye, hidden from screen readers, and the state in words."""
    return {state: Markup('<td class="cell {}"><span aria-hidden="true">{}</span> {}</td>')
            .format(tone, CELL_SIGNS[tone], str(CELL_LABELS[state]))
            for state, tone in core.TONES.items()}


@bp.get("/progress.<any(csv, xlsx):fmt>")
@requires(Role.FACILITATOR, cohort_access=True)
@plain_query  # the filters choose what goes into the spreadsheet
def export(cohort_id: int, fmt: str):
    with read_session() as session:
        table = grid_service.export_table(session, cohort_id, _filters(session, cohort_id),
                                          now())
    if fmt == "csv":
        body, mimetype = to_csv(table), "text/csv; charset=utf-8"
    else:
        body = to_xlsx([table])
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment",
                         filename=f"cohort-{cohort_id}-progress.{fmt}")
    response.cache_control.no_store = True
    return response


@bp.post("/progress/remind")
@requires(Role.FACILITATOR, cohort_access=True)
def remind(cohort_id: int):
    form = RemindForm()
    if not form.validate_on_submit():
        abort(400)
    if form.remind_all.data or form.confirm_all.data:
        return _remind_all(cohort_id, form)
    raw = request.form.getlist("participant")
    chosen = [whole_number(value) for value in raw]
    if None in chosen:
        abort(400)
    with transaction() as session:
        filters = _filters(session, cohort_id)
        if not chosen:
            flash(_("Choose at least one person to remind."), "warning")
            return redirect(url_for("progress.grid", cohort_id=cohort_id, **filters.as_args()))
        done = grid_service.remind(session, cohort_id, chosen, actor(), now())
    _flash_reminded(done)
    return redirect(url_for("progress.grid", cohort_id=cohort_id, **filters.as_args()))


def _remind_all(cohort_id: int, form: RemindForm):
    """The first click shows the plan (how many, the first names); the confirmation queues."""
    try:
        with transaction() as session:
            filters = _filters(session, cohort_id)
            done = grid_service.remind_filtered(
                session, cohort_id, filters, form.previewed.data if form.confirm_all.data
                else None, actor(), now())
    except grid_service.ConfirmationNeeded as asked:
        plan = asked.plan
        back = url_for("progress.grid", cohort_id=cohort_id, **filters.as_args())
        if not plan.recipients:
            flash(_("Nobody to remind: the filters show nobody, or everyone they show already "
                    "has a reminder waiting."), "warning")
            return redirect(back)
        if form.confirm_all.data:
            flash(_("The people shown by the filters changed: check who gets a reminder "
                    "again."), "warning")
        with read_session() as session:
            cohort = services.get_cohort(session, cohort_id)
        confirm = RemindForm(formdata=None, previewed=plan.fingerprint)
        return render_template("progress/remind_confirm.html", cohort=cohort, plan=plan,
                               form=confirm, args=filters.as_args(), back=back)
    _flash_reminded(done)
    return redirect(url_for("progress.grid", cohort_id=cohort_id, **filters.as_args()))


def _flash_reminded(done: grid_service.Reminded) -> None:
    message = ngettext("A reminder is queued for %(num)d person; it goes with their next "
                       "email.", "Reminders are queued for %(num)d people; each goes with "
                       "their next email.", done.queued)
    if done.already_waiting:
        message += " " + ngettext("%(num)d person already had a reminder waiting.",
                                  "%(num)d people already had a reminder waiting.",
                                  done.already_waiting)
    flash(message, "success")


@bp.route("/announcements", methods=["GET", "POST"])
@requires(Role.FACILITATOR, cohort_access=True)
def announcements(cohort_id: int):
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        filters = _filters(session, cohort_id)
        groups = grid_service.group_options(session, cohort)
        earlier = announcing.cohort_announcements(session, cohort_id)
    form = AnnouncementForm()
    form.group.choices = [("", _("Choose a group"))] + [(str(g.id), g.title) for g in groups]
    if not groups:
        form.audience.choices = [c for c in form.audience.choices
                                 if c.value != announcing.GROUP]
    if request.method == "GET" and filters.active:
        form.audience.data = announcing.FILTERED
    preview = None
    if form.validate_on_submit():
        audience = _audience(form, filters)
        if audience is None:
            form.group.errors = [*form.group.errors, _("Choose a group.")]
        else:
            with read_session() as session:
                preview = announcing.preview_announcement(
                    session, cohort_id, form.subject.data.strip(), form.body.data.strip(),
                    form.urgent.data, audience, now())
            if form.confirm.data and form.previewed.data == preview.fingerprint:
                with transaction() as session:
                    announcing.queue_announcement(
                        session, cohort_id, preview.subject, preview.body, preview.urgent,
                        audience, actor(), now())
                flash(ngettext("The announcement is queued for %(num)d person.",
                               "The announcement is queued for %(num)d people.",
                               preview.recipients), "success")
                return redirect(url_for("progress.announcements", cohort_id=cohort_id))
            if form.confirm.data:
                flash(_("The announcement or its recipients changed: check the preview "
                        "again."), "warning")
            form.previewed.data = preview.fingerprint
    elif request.method == "POST" and form.errors.keys() - {"subject", "body", "group"}:
        abort(400)
    return render_template("progress/announcements.html", cohort=cohort, form=form,
                           preview=preview, earlier=earlier, args=filters.as_args(),
                           filters=filters, audience_labels=AUDIENCE_LABELS)


def _audience(form: AnnouncementForm, filters: core.GridFilters):
    if form.audience.data == announcing.GROUP:
        group_id = whole_number(form.group.data)
        if group_id is None:
            return None
        return announcing.Audience(announcing.GROUP, group_id=group_id)
    if form.audience.data == announcing.FILTERED:
        return announcing.Audience(announcing.FILTERED, filters=filters)
    return announcing.Audience(announcing.COHORT)
