"""The participant's own page, reached by the personal link in every email.

GET (and HEAD) on the link only shows a "continue" button: mail scanners that prefetch links
neither log in nor use anything up. The button POSTs (with CSRF) and exchanges the token for a
session cookie, then redirects to /me, a URL without the token (so it does not linger in the
browser history or Referer headers). Every request re-checks the link, so revoking it or the
cohort ending logs the participant out. Ids in URLs are looked up inside the participant's own
cohort only: anything else is 404.
"""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlmodel import Session
from wtforms import BooleanField, TextAreaField
from wtforms.validators import Length

from .. import db, services
from ..models import Role
from ..services.participation import MAX_TEXT
from .access import public, requires, sign_in_participant, sign_out_participant
from .common import now

bp = Blueprint("participant", __name__)
SESSION_KEY = "participant_link_id"


class ContinueForm(FlaskForm):
    pass


class TaskForm(FlaskForm):
    done = BooleanField(_l("Done"))
    note = TextAreaField(_l("Note"), validators=[Length(max=MAX_TEXT)])


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Your answer"), validators=[Length(max=MAX_TEXT)])


class LogoutForm(FlaskForm):
    pass


def _session() -> Session:
    return Session(current_app.extensions["cohort.engine"], expire_on_commit=False)


def _transaction():
    return db.transaction(current_app.extensions["cohort.engine"])


def _grace() -> timedelta:
    return timedelta(days=current_app.config["PARTICIPANT_LINK_GRACE_DAYS"])


def _private(response):
    """Pages behind a personal link: not cached, not indexed, no Referer to other sites."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.route("/p/<token>", methods=["GET"])
@public  # the token is the credential
def link(token: str):
    with _session() as db_session:
        access = services.access_by_token(db_session, token, now(), _grace())
    if access is None:
        abort(404)
    with force_locale(access.participant.language):
        page = render_template("participant/continue.html", form=ContinueForm(),
                               participant=access.participant, cohort=access.cohort)
    return _private(make_response(page))


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
    session.clear()  # a staff login in the same browser ends here
    sign_in_participant(access.participant)
    session[SESSION_KEY] = access.link.id
    return _private(redirect(url_for("participant.page")))


def _current_participant(db_session: Session):
    link_id = session.get(SESSION_KEY)
    access = services.access_by_link_id(db_session, link_id, now(), _grace()) \
        if isinstance(link_id, int) else None
    if access is None:
        session.pop(SESSION_KEY, None)
        abort(403)
    return access.participant


def _when(timezone: str):
    """'tirsdag den 8. april 2025 13:00': the day in full and the clock, in the page's
    language and the cohort's time zone."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_date, format_time
    from flask_babel import get_locale

    zone = ZoneInfo(timezone)

    def when(value) -> str:
        local = value.astimezone(zone)
        locale = get_locale()
        return f"{format_date(local.date(), 'full', locale=locale)} " \
               f"{format_time(local, 'HH:mm', locale=locale)}"
    return when


@bp.get("/me")
@requires(Role.PARTICIPANT)
def page():
    with _session() as db_session:
        participant = _current_participant(db_session)
        data = services.participant_page(db_session, participant, now())
    with force_locale(participant.language):
        html = render_template(
            "participant/page.html", page=data, when=_when(data.timezone),
            task_forms={t.id: TaskForm(prefix=f"task-{t.id}", done=t.done, note=t.note)
                        for t in data.tasks},
            answer_forms={p.id: AnswerForm(prefix=f"prompt-{p.id}", answer=p.answer)
                          for p in data.prompts},
            logout_form=LogoutForm())
    return _private(make_response(html))


@bp.post("/me/tasks/<int:task_id>")
@requires(Role.PARTICIPANT)
def task(task_id: int):
    form = TaskForm(prefix=f"task-{task_id}")
    with _transaction() as db_session:
        participant = _current_participant(db_session)
        if not form.validate_on_submit():
            abort(400)
        try:
            services.set_task_status(db_session, participant, task_id, done=form.done.data,
                                     note=form.note.data or "", now=now())
        except services.NotFound:
            abort(404)
        language = participant.language
    with force_locale(language):
        flash(str(_l("Saved.")))
    return redirect(url_for("participant.page", _anchor=f"task-{task_id}"))


@bp.post("/me/prompts/<int:prompt_id>")
@requires(Role.PARTICIPANT)
def answer(prompt_id: int):
    form = AnswerForm(prefix=f"prompt-{prompt_id}")
    with _transaction() as db_session:
        participant = _current_participant(db_session)
        if not form.validate_on_submit():
            abort(400)
        try:
            services.answer_prompt(db_session, participant, prompt_id, form.answer.data or "",
                                   now())
        except services.NotFound:
            abort(404)
        language = participant.language
    with force_locale(language):
        flash(str(_l("Thank you, your answer is saved.")))
    return redirect(url_for("participant.page", _anchor=f"prompt-{prompt_id}"))


@bp.post("/me/logout")
@requires(Role.PARTICIPANT)
def logout():
    if not LogoutForm().validate_on_submit():
        abort(400)
    session.pop(SESSION_KEY, None)
    sign_out_participant()
    return _private(make_response(render_template("participant/logged_out.html")))


@bp.errorhandler(403)
def _no_access(error):
    """Without a valid session: how to get in (the personal link), not a bare 403."""
    return render_template("participant/no_access.html"), 403
