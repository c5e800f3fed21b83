"""Cohorts in the browser: the staff dashboard, creating a cohort, its overview and plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from wtforms import (
    DateField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from .. import services
from ..core.cohort_fields import TITLE_MAX, is_time_zone, time_zones
from ..core.planning import MeetingOverride, plan_cohort
from ..core.text import whole_number
from ..core.timeline import plan_timeline
from ..core.turning_points import next_turning_point
from ..mail.invitations import send_activation
from ..mail.transport import MailError
from ..models import Role
from ..services import accounts, activity, cohort_list
from ..services import dashboard as dashboard_service
from ..services import staff as staff_service
from ..services.meeting_records import meetings_held
from .access import may_use, requires
from .common import actor, library, now, read_session, transaction
from .formatting import DELIVERY_KINDS, LANGUAGE_NAMES, label, warning_text
from .forms import CohortForm, DateWindow, SingleLine, SubForm, WebLink, options, strip
from .page_cache import cohort_part_until, cohort_parts

bp = Blueprint("cohorts", __name__)
COMMON_ZONES = ("Europe/Copenhagen", "Europe/Oslo", "Europe/Stockholm", "Europe/Helsinki",
                "Europe/Berlin", "Europe/London", "Atlantic/Faroe", "America/Nuuk", "UTC")


def zone_choices() -> dict[str, list[tuple[str, str]]]:
    """The time zone select's groups: the zones Nordic cohorts use, then all the others."""
    zones = time_zones()
    common = [z for z in COMMON_ZONES if z in zones]
    return {str(_l("Common time zones")): [(z, z) for z in common],
            str(_l("All time zones")): [(z, z) for z in sorted(zones - set(common))]}


def _known_zone(form, field) -> None:
    """One of the IANA zones (ZoneInfo itself would also open "localtime", other files in the
    zone folder, and fail with OSError on a 300-character name)."""
    if not is_time_zone(field.data or ""):
        raise ValidationError(_("'%(zone)s' is not a time zone such as Europe/Copenhagen.",
                                zone=(field.data or "")[:60]))


class MeetingRowForm(SubForm):
    """One meeting's date, time and place; `planned_*` remember what the plan said."""

    key = HiddenField()
    planned = HiddenField()  # "YYYY-MM-DDTHH:MM" shown at the last preview
    overridden = HiddenField()
    day = DateField(_l("Date"), validators=[Optional(), DateWindow()])
    clock = TimeField(_l("Time"), validators=[Optional()])
    location = StringField(_l("Location"), validators=[Optional(), SingleLine(300)])
    online_url = StringField(_l("Online link"), validators=[Optional(), WebLink()],
                             filters=[strip])

    def local_start(self) -> str:
        if self.day.data is None or self.clock.data is None:
            return ""
        return datetime.combine(self.day.data, self.clock.data).strftime("%Y-%m-%dT%H:%M")


class NewCohortForm(CohortForm):
    programme = SelectField(_l("Programme"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[Optional(), SingleLine(TITLE_MAX)])
    start = DateField(_l("Start date (the first meeting's day)"),
                      validators=[InputRequired(), DateWindow()])
    # A select (Copenhagen and Oslo first, then every zone); _known_zone checks what comes
    # back, with a message that names the value (validate_choice would only say "invalid").
    timezone = SelectField(_l("Time zone"), default="Europe/Copenhagen", validate_choice=False,
                           validators=[DataRequired(), _known_zone])
    language = SelectField(_l("Language of the cohort"), choices=options(LANGUAGE_NAMES.items()))
    planned_programme = HiddenField()
    meetings = FieldList(FormField(MeetingRowForm))
    preview = SubmitField(_l("Show the planned dates"))
    create = SubmitField(_l("Create the cohort"))


class StaffForm(CohortForm):
    email = EmailField(_l("Email of a staff member"),
                       validators=[DataRequired(), SingleLine(254)])
    role = SelectField(_l("Role in this cohort"), choices=options([
        ("co_facilitator", _l("Co-facilitator")), ("evaluator", _l("Evaluator"))]))
    submit = SubmitField(_l("Add"))


class LaunchForm(CohortForm):
    submit = SubmitField(_l("Launch the cohort and start sending"))


class RemoveStaffForm(CohortForm):
    user_id = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Remove"))


@bp.get("/dashboard")
@requires(Role.FACILITATOR, Role.EVALUATOR)
def dashboard():
    """Every staff member's start page: the cohorts they may open, one screen at a time
    (`?phase=`, `?q=` part of the title, `?page=`); only the page's cohorts are counted."""
    moment = now()
    role = current_user.role
    may_open = role in ("facilitator", "admin")
    may = {"outbox": may_use("outbox.index"), "attendance": may_use("attendance.index"),
           "groups": may_use("groups.index")}
    with read_session() as session:
        listing = cohort_list.cohort_page(
            session, accounts.visible_cohort_ids(current_user), moment,
            cohort_list.parse_filters(request.args), cohort_list.parse_page(request.args))
        by_id = {c.id: c for c in listing.cohorts}

        def make(missing: list[int]) -> dict[int, tuple[CardPart, datetime | None]]:
            card = get_template_attribute("cohorts/_card.html", "dashboard_card")
            return {made.cohort.id: (CardPart(made.phase, Markup(card(made, may_open, may))),
                                     made.changes_at)
                    for made in dashboard_service.cohort_cards(
                        session, [by_id[cohort_id] for cohort_id in missing], moment)}

        # Each card kept per cohort revision (web/page_cache.py) until the clock changes
        # it: only changed cohorts are counted and rendered again.
        parts = cohort_parts("dashboard card", listing.revisions, moment, role, make,
                             list(by_id))
    cards = [parts[cohort_id] for cohort_id in by_id if cohort_id in parts]
    return render_template("cohorts/dashboard.html", cards=cards, listing=listing,
                           sections=cohort_list.by_phase(cards, lambda card: card.phase))


@dataclass(frozen=True)
class CardPart:
    """A kept dashboard card: its phase (for the page's sections) and its HTML."""

    phase: str
    html: Markup


def _default_start(today: date) -> date:
    start = today + timedelta(days=21)
    return start + timedelta(days=(1 - start.weekday()) % 7)


@bp.route("/cohorts/new", methods=["GET", "POST"])
@requires(Role.FACILITATOR)
def new():
    if not current_user.may_create_cohorts:  # an invited colleague (services/staff.py)
        abort(403)
    lib = library()
    form = NewCohortForm()
    form.programme.choices = options((p.id, p.title) for p in lib.programmes.values())
    form.timezone.choices = zone_choices()
    if request.method == "GET":
        chosen = lib.programmes.get(request.args.get("programme", ""))
        if chosen is not None:
            form.programme.data = chosen.id
            form.language.data = chosen.language
            form.timezone.data = chosen.timezone
        form.start.data = _default_start(now().date())
        return render_template("cohorts/new.html", form=form, preview=None, broken=lib.broken)
    if not form.validate():
        return render_template("cohorts/new.html", form=form, preview=None,
                               broken=lib.broken), 400
    programme = lib.programmes[form.programme.data]
    same_programme = form.planned_programme.data == programme.id
    overrides = _form_overrides(form, programme) if same_programme else {}
    plan = plan_cohort(programme, form.start.data, form.timezone.data, overrides)
    if form.create.data and same_programme and form.meetings.entries:
        return _create(form, programme, lib.sources[programme.id], overrides)
    _fill_meeting_rows(form, plan, overrides)
    return render_template("cohorts/new.html", form=form, broken=lib.broken,
                           preview=_preview_rows(plan, programme.language))


def _form_overrides(form: NewCohortForm, programme) -> dict[str, MeetingOverride]:
    """The rows the facilitator changed (or changed before), as naive local overrides."""
    templates = {m.key: m for m in programme.meetings}
    overrides = {}
    for row in form.meetings:
        meeting = templates.get(row.key.data)
        if meeting is None:
            continue
        local = row.local_start()
        moved = bool(local) and (row.overridden.data == "1" or local != row.planned.data)
        location = (row.location.data or "").strip()
        online_url = (row.online_url.data or "").strip()
        override = MeetingOverride(
            starts_at=datetime.fromisoformat(local) if moved else None,
            location=location if location != (meeting.location or "") else None,
            online_url=online_url if online_url != (meeting.online_url or "") else None,
        )
        if override != MeetingOverride():
            overrides[meeting.key] = override
    return overrides


def _fill_meeting_rows(form: NewCohortForm, plan, overrides) -> None:
    zone = ZoneInfo(plan.timezone)
    while form.meetings.entries:
        form.meetings.pop_entry()
    for meeting in plan.meetings:
        local = meeting.starts_at.astimezone(zone)
        override = overrides.get(meeting.key)
        form.meetings.append_entry({
            "key": meeting.key,
            "planned": local.strftime("%Y-%m-%dT%H:%M"),
            "overridden": "1" if override and override.starts_at else "",
            "day": local.date(), "clock": time(local.hour, local.minute),
            "location": meeting.location or "", "online_url": meeting.online_url or "",
        })
    form.planned_programme.data = form.programme.data


def _preview_rows(plan, language: str) -> dict:
    warnings: dict[str, list[str]] = {}
    for warning in services.date_checks.meeting_day_warnings(plan, language):
        warnings.setdefault(warning.key, []).append(
            warning_text(warning, plan.timezone, language))
    return {"plan": plan, "warnings": warnings,
            "meetings": {m.key: m for m in plan.meetings}}


def _create(form: NewCohortForm, programme, source: str, overrides):
    new = services.NewCohort(programme, source, form.start.data, form.title.data or None,
                             form.timezone.data, form.language.data)
    limit = timedelta(hours=current_app.config["OUTBOX_OVERDUE_LIMIT_HOURS"])
    with transaction() as session:
        cohort_id = services.create_cohort_as(session, new, actor(), overrides=overrides,
                                              now=now()).id
        late = services.date_checks.late_start(session, cohort_id, now(), overdue_limit=limit)
    flash(_("The cohort was created. Add its participants next."), "success")
    if late.skipped_items:
        flash(_late_message(late), "warning")
    return redirect(url_for("participants.index", cohort_id=cohort_id))


def _late_message(late) -> str:
    """What a cohort created late will skip for every participant (the launch page and the
    overview say it again before launching)."""
    items = late.skipped_items
    distinct = list(dict.fromkeys(  # two reminders of one survey are named once
        f"{label(DELIVERY_KINDS, item.kind)}: {item.title}" if item.title
        else label(DELIVERY_KINDS, item.kind) for item in items))
    named = distinct[:5]
    more = len(distinct) - len(named)
    listed = "; ".join(named) + (" " + _("and %(num)s more", num=more) if more else "")
    return ngettext("The cohort starts late: %(num)d email will be skipped for every "
                    "participant, because it is already past or reminds of one that is: "
                    "%(items)s.",
                    "The cohort starts late: %(num)d emails will be skipped for every "
                    "participant, because they are already past or remind of one that is: "
                    "%(items)s.", len(items), items=listed)


@bp.get("/cohorts/<int:cohort_id>")
@requires(Role.FACILITATOR, cohort_access=True)
def show(cohort_id: int):
    """The overview, kept per cohort revision (web/page_cache.py) until the clock next
    changes it: a view of an unchanged cohort reads no meeting, participant, group or
    email."""
    moment = now()
    overview = cohort_part_until("overview", cohort_id, moment,
                                 lambda: render_overview(cohort_id, moment))
    return render_template("cohorts/show.html", overview=overview)


def render_overview(cohort_id: int, moment: datetime) -> tuple[OverviewPart, datetime | None]:
    """The overview as it is at `moment`, and the next moment the clock alone changes it."""
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        board = dashboard_service.cohort_dashboard(session, cohort, moment)
        meetings = [*board.past, *([board.next] if board.next else []), *board.upcoming,
                    *board.cancelled]  # every meeting row: the plan need not read them again
        warnings = services.date_checks.upcoming_warnings(session, cohort_id, moment, meetings)
    html = render_template("cohorts/_overview.html", cohort=cohort, board=board,
                           now=moment, attendance=board.attendance,
                           date_warnings=warnings.warnings)
    heading, _tabs, body = html.partition("<!-- cohort tabs -->")
    return (OverviewPart(cohort.id, cohort.title, cohort.launched_at, Markup(heading),
                         Markup(body)),
            next_turning_point([board.changes_at, warnings.changes_at], moment))


@dataclass(frozen=True)
class OverviewPart:
    """The kept overview: its HTML around the cohort's tabs, and what the tabs need."""

    id: int
    title: str
    launched_at: datetime | None
    heading: Markup
    body: Markup


@bp.route("/cohorts/<int:cohort_id>/launch", methods=["GET", "POST"])
@requires(Role.FACILITATOR, cohort_access=True)
def launch(cohort_id: int):
    """A draft cohort's launch: what the outbox will send and skip, then the confirmation."""
    form = LaunchForm()
    limit = timedelta(hours=current_app.config["OUTBOX_OVERDUE_LIMIT_HOURS"])
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                with transaction() as session:
                    services.launch_cohort(session, cohort_id, actor(), now(),
                                           overdue_limit=limit)
            except services.AlreadyLaunched:
                flash(_("The cohort has already been launched."), "error")
            else:
                flash(_("The cohort was launched: its emails go out from now on."), "success")
            return redirect(url_for("cohorts.show", cohort_id=cohort_id))
        status = 400
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        forecast = None if cohort.launched_at else services.launch_forecast(
            session, cohort_id, now(), overdue_limit=limit)
    return render_template("cohorts/launch.html", cohort=cohort, forecast=forecast, form=form,
                           overdue_hours=current_app.config["OUTBOX_OVERDUE_LIMIT_HOURS"]), status


@bp.get("/cohorts/<int:cohort_id>/plan")
@requires(Role.FACILITATOR, cohort_access=True)
def plan(cohort_id: int):
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        current = services.current_plan(session, cohort)
        held = meetings_held(session, cohort_id)
    return render_template("cohorts/plan.html", cohort=cohort, plan=current,
                           timeline=plan_timeline(current), held=held, now=now())


@bp.get("/cohorts/<int:cohort_id>/activity")
@requires(Role.FACILITATOR, cohort_access=True)
def activity_log(cohort_id: int):
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        entries = activity.cohort_activity(session, cohort_id)
    return render_template("cohorts/activity.html", cohort=cohort, entries=entries)


@bp.route("/cohorts/<int:cohort_id>/staff", methods=["GET", "POST"])
@requires(Role.FACILITATOR, cohort_access="owner")
def staff(cohort_id: int):
    """The cohort's owner adds co-facilitators and evaluators."""
    form = StaffForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            valid_for = timedelta(days=current_app.config["STAFF_ACTIVATION_DAYS"])
            try:
                with transaction() as session:
                    added = staff_service.add_staff(session, cohort_id, form.email.data,
                                                    form.role.data, actor(), now(), valid_for)
                    user, cohort = added.user, services.get_cohort(session, cohort_id)
            except staff_service.NoSuchAccount as refusal:
                form.email.errors.append(_(
                    "There is no active %(role)s account with that email.",
                    role=_("evaluator") if refusal.account_role == Role.EVALUATOR
                    else _("facilitator")))
            except accounts.AccountError:
                form.email.errors.append(_("That is not a valid email address."))
            except staff_service.NotAllowed:
                abort(403)
            except staff_service.LastOwner:
                flash(_("A cohort needs an owner; the last owner cannot be removed."), "error")
                return redirect(url_for("cohorts.staff", cohort_id=cohort_id))
            else:
                if added.activation_token is None:
                    flash(_("%(email)s was added.", email=user.email), "success")
                else:
                    _send_activation(user, cohort, added.activation_token, now() + valid_for)
                return redirect(url_for("cohorts.staff", cohort_id=cohort_id))
        status = 400
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        members = accounts.cohort_staff(session, cohort_id)
    return render_template("cohorts/staff.html", cohort=cohort, members=members, form=form,
                           remove_form=RemoveStaffForm(),
                           days=f"{current_app.config['STAFF_ACTIVATION_DAYS']:g}"), status


def _send_activation(user, cohort, token: str, expires_at) -> None:
    """The invitation email, after the invitation is committed (mail/invitations.py)."""
    try:
        send_activation(
            current_app._get_current_object(), to_address=user.email,
            inviter=current_user.display_name, cohort_title=cohort.title,
            language=current_user.locale or cohort.language, timezone=cohort.timezone,
            activation_url=current_app.config["BASE_URL"].rstrip("/")
            + url_for("account.activate", token=token),
            expires_at=expires_at, now=now())
    except MailError:
        current_app.logger.exception("the activation email to %s was not sent", user.email)
        flash(_("%(email)s was added, but the email with their activation link could not be "
                "sent. Add them again later to send a new link.", email=user.email), "error")
    else:
        flash(_("%(email)s has no account yet: they were added and have been emailed a link "
                "to choose their password.", email=user.email), "success")


@bp.post("/cohorts/<int:cohort_id>/staff/remove")
@requires(Role.FACILITATOR, cohort_access="owner")
def remove_staff(cohort_id: int):
    form = RemoveStaffForm()
    if not form.validate() or whole_number(form.user_id.data) is None:
        flash(_("Nothing was changed."), "error")
        return redirect(url_for("cohorts.staff", cohort_id=cohort_id))
    try:
        with transaction() as session:
            removed = staff_service.remove_staff(session, cohort_id, int(form.user_id.data),
                                                 actor(), now())
    except services.NotFound:
        abort(404)
    except staff_service.NotAllowed:
        abort(403)
    except staff_service.LastOwner:
        flash(_("A cohort needs an owner; the last owner cannot be removed."), "error")
        return redirect(url_for("cohorts.staff", cohort_id=cohort_id))
    except staff_service.OwnerRemovesSelf:
        flash(_("You cannot remove yourself as owner; another owner can."), "error")
        return redirect(url_for("cohorts.staff", cohort_id=cohort_id))
    flash(_("%(email)s was removed from the cohort.", email=removed.email), "success")
    return redirect(url_for("cohorts.staff", cohort_id=cohort_id))
