"""The participant's own page, reached by the personal link in every email.

GET (and HEAD) on the link only shows a "continue" button: mail scanners that prefetch links
neither log in nor use anything up. The button POSTs (with CSRF) and exchanges the token for a
session cookie, then redirects to /me, a URL without the token (so it does not linger in the
browser history or Referer headers). A link may carry `?next=/me/...` (a survey invitation
opens its survey): only participant pages are accepted as targets, so the link cannot send
anyone elsewhere. Every request re-checks the link, so revoking it or the cohort ending logs
the participant out. Ids in URLs are looked up inside the participant's own cohort only:
anything else is 404.

The blueprint's other pages live in their own modules (`participant_surveys`,
`participant_attendance`, `participant_calendar`) and use the helpers below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlmodel import Session
from werkzeug.exceptions import HTTPException
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import Optional

from .. import db, services
from ..core.attendance import NO_CODE_YET, OPEN
from ..core.turning_points import next_turning_point
from ..models import Participant, Role
from ..services.materials import participant_materials
from ..services.participant_access import SignedIn
from ..services.participation import MAX_TEXT, ParticipantPage
from .access import (
    LINK_SESSION_KEY,
    check_participant_session,
    checked_participant,
    end_participant_sessions,
    public,
    requires,
    sign_in_participant,
)
from .auth import chosen_language
from .calendars import webcal_url
from .common import now
from .formatting import localtime
from .forms import CohortForm, SingleLine, TextBox
from .page_cache import cohort_part, cohort_part_until

bp = Blueprint("participant", __name__)
# Reflection questions sent within this time are shown open on the page; older ones fold away.
RECENT_PROMPTS = timedelta(days=14)


# Pages a personal link may continue to (`?next=`), besides the page itself.
NEXT_ENDPOINTS = frozenset({"participant.page", "participant.survey",
                            "participant.buddy_check_in", "participant.material"})


class ContinueForm(FlaskForm):
    next = HiddenField()


class TaskForm(CohortForm):
    """One task's "done" button and its note form post here apart: a field left out of the
    post (see `sent`) keeps its stored value, so marking a task done never erases its note."""

    done = BooleanField(_l("Done"), false_values=("false", "", "0"))
    note = TextAreaField(_l("Note"), validators=[TextBox(MAX_TEXT)])


def sent(field) -> bool:
    """Whether the post carried this field at all (an unticked checkbox is simply absent)."""
    return bool(field.raw_data)


class AnswerForm(CohortForm):
    answer = TextAreaField(_l("Your answer"), validators=[TextBox(MAX_TEXT)])


class LogoutForm(FlaskForm):
    pass


class CheckInForm(FlaskForm):
    code = StringField(_l("Code shown in the room"), validators=[Optional(), SingleLine(20)])


def _session() -> Session:
    """For reading only (db.ReadSession): no BEGIN and ROLLBACK round trips on PostgreSQL."""
    return db.read_session(current_app.extensions["cohort.engine"])


def _transaction():
    return db.transaction(current_app.extensions["cohort.engine"])


def _grace() -> timedelta:
    return timedelta(days=current_app.config["PARTICIPANT_LINK_GRACE_DAYS"])


def private(response):
    """Pages behind a personal link: not cached, not indexed, no Referer to other sites."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def page_language(participant: Participant) -> str:
    """The language of the participant's pages: the one they chose with the header's language
    switcher in this session (kept in the session, as for every visitor without an account),
    else the one their emails are written in."""
    return chosen_language() or participant.language


def render_private(template: str, participant: Participant, status: int = 200, /,
                   **context):
    """A participant page in their language (`page_language`), with the private headers."""
    with force_locale(page_language(participant)):
        html = render_template(template, **context)
    return private(make_response(html, status))


def continue_target(value: str | None) -> str | None:
    """The participant page a personal link should continue to, or None.

    Only paths of this blueprint's pages (NEXT_ENDPOINTS) pass, rebuilt from the matched
    route, so no crafted `next` (another site, `//host`, `/\\host`, a staff page) gets through.
    """
    if not value or len(value) > 200:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.query or parts.fragment:
        return None
    try:
        endpoint, arguments = current_app.url_map.bind("localhost").match(parts.path, "GET")
    except HTTPException:  # no such page (or a redirect to one)
        return None
    if endpoint not in NEXT_ENDPOINTS:
        return None
    return url_for(endpoint, **arguments)


@bp.route("/p/<token>", methods=["GET"])
@public  # the token is the credential
def link(token: str):
    with _session() as db_session:
        access = services.access_by_token(db_session, token, now(), _grace())
    if access is None:
        abort(404)
    form = ContinueForm(formdata=None, next=continue_target(request.args.get("next")) or "")
    return render_private("participant/continue.html", access.participant, form=form,
                          participant=access.participant, cohort=access.cohort)


@bp.route("/p/<token>", methods=["POST"])
@public  # the token is the credential
def exchange(token: str):
    form = ContinueForm()
    if not form.validate_on_submit():
        abort(400)
    with _session() as db_session:
        access = services.access_by_token(db_session, token, now(), _grace())
    if access is None:
        abort(404)
    if access.participant.link_opened_at is None:
        with _transaction() as db_session:
            services.participant_access.record_link_opened(db_session, access.participant.id,
                                                           now())
    language = chosen_language()  # chosen on the "continue" page: kept
    session.clear()  # a staff login in the same browser ends here
    sign_in_participant(access.participant)
    if language is not None:
        session["locale"] = language
    session[LINK_SESSION_KEY] = access.link.id
    target = continue_target(form.next.data) or url_for("participant.page")
    return private(redirect(target))


def own_participant(db_session: Session) -> Participant:
    """The participant signed in by their personal link (re-checked now), or 403."""
    return own_access(db_session).participant


def own_access(db_session: Session, reuse: bool = False) -> SignedIn:
    """The personal link's access (participant, link, the cohort's time zone and end),
    checked now, or 403; the participant is put in `db_session` (no statement) for the
    services to use.

    On a GET or HEAD (or with `reuse`) this is what the request's access check read a moment
    ago (`access.checked_participant`, one statement for both); a POST that writes reads it
    again in its own transaction, so the write is decided on what that transaction sees.
    `reuse` is for a page whose reads are not in its write's transaction anyway (the survey
    answer is stored by its own service transactions)."""
    if request.method in ("GET", "HEAD") or reuse:
        checked = checked_participant()
    else:
        checked = check_participant_session(db_session) if checked_participant() else None
    if checked is None or not checked.link_ok or now() >= checked.valid_until(_grace()):
        session.pop(LINK_SESSION_KEY, None)
        abort(403)
    participant = db_session.merge(checked.participant, load=False) \
        if checked.participant not in db_session else checked.participant
    return replace(checked, participant=participant)


def when_formatter(timezone: str) -> Callable[[datetime], str]:
    """'tirsdag den 8. april 2025 13:00': the day in full and the clock, in the page's
    language and the cohort's time zone."""
    return lambda value: localtime(value, timezone, "full")  # the one place: formatting.py


@bp.get("/me")
@requires(Role.PARTICIPANT)
def page():
    return show_page()


@dataclass(frozen=True)
class Refused:
    """A task note or reflection answer the page sends back: the text the participant wrote,
    kept in its box, and why it was not saved (too long, a control character)."""

    field: str  # the text box's name, e.g. "prompt-7-answer"
    text: str
    message: str


def show_page(refused: Refused | None = None):
    """The participant's page; with `refused`, answering the post of a note or answer that
    was not saved (400): the page again with the text in its box and the reason by it, so
    nothing the participant wrote is lost."""
    moment = now()
    secret = current_app.config["SECRET_KEY"]
    with _session() as db_session:  # reads only
        participant = own_access(db_session).participant
        cohort_id = participant.cohort_id
        # What every participant of the cohort sees alike is kept per cohort revision (read by
        # the access check, before anything here) and language: the cohort's title, time zone
        # and programme, and, until the next meeting ends, the list of meetings with their
        # materials. Kept in the participant's language, as the page is rendered
        # (render_private).
        with force_locale(page_language(participant)):
            facts = cohort_part("me-cohort", cohort_id,  # shows no time
                                lambda: services.cohort_facts(db_session, cohort_id))
            # With the attendance and the buddy check-ins, from the rows it reads anyway.
            data = services.participant_page(db_session, participant, moment, facts)
            meetings = cohort_part_until("me-meetings", cohort_id, moment,
                                         lambda: meetings_part(db_session, data, moment))
        attendance, buddy = data.attendance, data.buddy_check_ins
        made, feed_token = services.made_calendar_feed_token(db_session, participant.id, secret)
        announcements = services.announcements.participant_announcements(
            db_session, participant.id, cohort_id)
    if not made:  # the calendar feed is made on the first view
        with _transaction() as db_session:
            feed_token = services.calendar_feed_token(db_session, participant.id, secret)
    check_ins = [row for row in attendance if row.check_in.reason in (OPEN, NO_CODE_YET)]
    record = [row for row in attendance
              if row.attendance is not None or row.meeting.starts_at <= moment]
    refusal = _check_in_refusal({row.meeting.id for row in check_ins})
    saved = _saved_here({f"task-{t.id}" for t in data.tasks}
                        | {f"prompt-{p.id}" for p in data.prompts}
                        | {f"buddy-{c.task_id}" for c in buddy})
    return render_private(
        "participant/page.html", participant, 200 if refused is None else 400, page=data,
        when=when_formatter(data.timezone),
        check_ins=check_ins, check_in_forms={row.meeting.id: CheckInForm(
            formdata=None, prefix=f"checkin-{row.meeting.id}") for row in check_ins},
        check_in_refusal=refusal, now_next=_now_next(data.meetings, moment),
        tasks=_group_tasks(data.tasks, moment), prompts=_split_prompts(data.prompts, moment),
        attendance=record, webcal=webcal_url(feed_token) if feed_token else None,
        open_surveys=[s for s in data.surveys if s.status == "open"],
        buddy_check_ins=buddy, announcements=announcements,
        meetings_part=meetings, refused=refused, saved=saved)


def meetings_part(db_session: Session, data: ParticipantPage, moment: datetime
                  ) -> tuple[Markup, datetime | None]:
    """The page's list of the meetings to come and of earlier meetings' materials: the same
    for every participant of the cohort (`participant/_meetings.html`); and its turning point
    (core/turning_points.py): the clock changes it only when a meeting ends (it leaves the
    meetings to come, and its materials shown after the meeting appear)."""
    materials = participant_materials(db_session, data.participant.cohort_id, moment,
                                      data.all_meetings)
    html = Markup(render_template(
        "participant/_meetings.html", meetings=data.meetings,
        when=when_formatter(data.timezone),
        materials={m.meeting.id: m.materials for m in materials},
        earlier_materials=[m for m in materials if m.meeting.ends_at <= moment]))
    return html, next_turning_point((m.ends_at for m in data.all_meetings), moment)


# The check-in view leaves its refusal here, so the page can tie it to the code field.
CHECK_IN_REFUSAL = "check_in_refusal"


def _check_in_refusal(open_meetings: set[int]) -> dict | None:
    """The refusal the check-in just got ({"meeting": id, "message": text}) if its form is
    on the page now; otherwise the message becomes an ordinary message at the top."""
    refusal = session.pop(CHECK_IN_REFUSAL, None)
    if not isinstance(refusal, dict):
        return None
    if refusal.get("meeting") in open_meetings:
        return refusal
    flash(str(refusal.get("message", "")), "error")
    return None


# A post that saved a task, answer or buddy check-in leaves its item's anchor and message
# here: the redirect scrolls to the item, so the page says "saved" there, not at the top.
SAVED = "participant_saved"


def saved_at(anchor: str, message: str) -> None:
    session[SAVED] = {"anchor": anchor, "message": message}


def _saved_here(anchors: set[str]) -> dict | None:
    """What was just saved ({"anchor", "message"}) if its item is on the page now;
    otherwise the message becomes an ordinary message at the top."""
    saved = session.pop(SAVED, None)
    if not isinstance(saved, dict):
        return None
    if saved.get("anchor") in anchors:
        return saved
    flash(str(saved.get("message", "")), "success")
    return None


def _now_next(meetings: list, moment: datetime) -> list[tuple[bool, object]]:
    """The "now / next" card's meetings as (running, meeting): the one under way (if any)
    and the next to come. `meetings` are the scheduled ones not yet ended, soonest first."""
    running = [m for m in meetings if m.starts_at <= moment][:1]
    upcoming = [m for m in meetings if m.starts_at > moment][:1]
    return [(True, m) for m in running] + [(False, m) for m in upcoming]


def _group_tasks(tasks: list, moment: datetime) -> dict[str, list]:
    """The tasks as the page groups them: still to do (soonest due first; without a due
    date last), overdue (not done, due date passed) and done."""
    todo = [t for t in tasks if not t.done and (t.due_at is None or t.due_at >= moment)]
    overdue = [t for t in tasks if not t.done and t.due_at is not None and t.due_at < moment]
    return {"due_soon": todo, "overdue": overdue, "done": [t for t in tasks if t.done]}


def _split_prompts(prompts: list, moment: datetime) -> tuple[list, list]:
    """(questions of the last RECENT_PROMPTS, older ones folded away)."""
    recent = [p for p in prompts if p.send_at >= moment - RECENT_PROMPTS]
    return recent, [p for p in prompts if p not in recent]


@bp.post("/me/tasks/<int:task_id>")
@requires(Role.PARTICIPANT)
def task(task_id: int):
    form = TaskForm(prefix=f"task-{task_id}")
    with _transaction() as db_session:
        participant = own_participant(db_session)
        refused = _refused(form, form.note, participant)
        if refused is None:
            if not (sent(form.done) or sent(form.note)):
                abort(400)
            try:
                services.set_task_status(
                    db_session, participant, task_id,
                    done=form.done.data if sent(form.done) else None,
                    note=(form.note.data or "") if sent(form.note) else None, now=now())
            except services.NotFound:
                abort(404)
        language = page_language(participant)
    if refused is not None:  # after the transaction: the page reads in its own
        return show_page(refused)
    with force_locale(language):
        saved_at(f"task-{task_id}", str(_l("Saved.")))
    return redirect(url_for("participant.page", _anchor=f"task-{task_id}"))


@bp.post("/me/prompts/<int:prompt_id>")
@requires(Role.PARTICIPANT)
def answer(prompt_id: int):
    form = AnswerForm(prefix=f"prompt-{prompt_id}")
    with _transaction() as db_session:
        participant = own_participant(db_session)
        refused = _refused(form, form.answer, participant)
        if refused is None:
            try:
                services.answer_prompt(db_session, participant, prompt_id,
                                       form.answer.data or "", now())
            except services.NotFound:
                abort(404)
        language = page_language(participant)
    if refused is not None:  # after the transaction: the page reads in its own
        return show_page(refused)
    with force_locale(language):
        saved_at(f"prompt-{prompt_id}", str(_l("Thank you, your answer is saved.")))
    return redirect(url_for("participant.page", _anchor=f"prompt-{prompt_id}"))


def _refused(form: FlaskForm, text, participant: Participant) -> Refused | None:
    """None if `form` is valid; the text box's refusal if only its text is wrong (the page
    shows it again, in the participant's language); else 400."""
    with force_locale(page_language(participant)):
        if form.validate_on_submit():
            return None
        if set(form.errors) != {text.short_name} or not sent(text):
            abort(400)
        return Refused(text.name, text.data or "", str(text.errors[0]))


@bp.post("/me/logout")
@requires(Role.PARTICIPANT)
def logout():
    if not LogoutForm().validate_on_submit():
        abort(400)
    signed_in = checked_participant()  # the page's language, read before the session ends
    language = page_language(signed_in.participant) if signed_in else None
    end_participant_sessions()  # a copy of the cookie stops working too
    session.pop(LINK_SESSION_KEY, None)
    with force_locale(language or str(get_locale())):
        return private(make_response(render_template("participant/logged_out.html")))


@bp.errorhandler(403)
def _no_access(error):
    """Without a valid session: how to get in (the personal link), not a bare 403."""
    return render_template("participant/no_access.html"), 403
