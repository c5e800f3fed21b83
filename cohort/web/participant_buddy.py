"""Buddy check-ins: "did you meet your buddy?" answered with one tap.

On /me the partial `participant/_buddy_checkin.html` (given `buddy_check_ins` by the page's
view) shows the buddy exchange rounds, newest first, with three buttons (met, not yet, we
could not) and an optional line on what the pair talked about. A round is a buddy exchange
task, and its id is the task's. The task emails link (through the personal link's `?next=`)
to `/me/buddy/<round id>`: a GET shows the same form and changes nothing (mail scanners
prefetch links); only the POST, with CSRF, stores the answer. The forms are written out in
the partial (one per round, each posting to its own URL), so `BuddyCheckInForm` only reads
them.
"""

from __future__ import annotations

from flask import abort, redirect, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import AnyOf, DataRequired

from .. import services
from ..core.buddy_check_ins import ANSWERS
from ..models import Role
from ..services.buddy_check_ins import MAX_NOTE
from .access import requires
from .common import now, read_session, transaction
from .forms import SingleLine
from .participant import (
    bp,
    own_participant,
    page_language,
    render_private,
    saved_at,
    when_formatter,
)


class BuddyCheckInForm(FlaskForm):
    # The value of the button pressed (met | not_yet | could_not).
    answer = StringField(validators=[DataRequired(), AnyOf(ANSWERS)])
    note = StringField(_l("What did you talk about? (optional, one line)"),
                       validators=[SingleLine(MAX_NOTE)])
    shared = BooleanField(_l("The facilitators may read this line with my name"))


@bp.get("/me/buddy/<int:round_id>")
@requires(Role.PARTICIPANT)
def buddy_check_in(round_id: int):
    with read_session() as db_session:
        participant = own_participant(db_session)
        item = services.check_in_for(db_session, participant, round_id, now())
        timezone = services.get_cohort(db_session, participant.cohort_id).timezone
    return render_private("participant/buddy_checkin.html", participant, item=item,
                          when=when_formatter(timezone))


# Its own path: with a GET rule on the same path, an id the IdConverter refuses would be
# answered 405 (the GET rule's method check comes first) instead of 404.
@bp.post("/me/buddy/<int:round_id>/answer")
@requires(Role.PARTICIPANT)
def buddy_check_in_save(round_id: int):
    form = BuddyCheckInForm()
    with transaction() as db_session:
        participant = own_participant(db_session)
        if not form.validate_on_submit():
            abort(400)
        services.record_check_in(db_session, participant, round_id, form.answer.data, now(),
                                 note=form.note.data or "", shared=form.shared.data)
        language = page_language(participant)
    with force_locale(language):
        saved_at(f"buddy-{round_id}", str(_l("Thank you, your answer about your buddy is saved.")))
    return redirect(url_for("participant.page", _anchor=f"buddy-{round_id}"))
