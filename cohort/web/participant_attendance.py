"""Checking in to a meeting from the participant's page.

The page shows a check-in button while a meeting's check-in window is open (with a field for
the code the facilitator shows in the room, for in-person meetings); this view records it with
`services.check_in`, which decides. A refusal comes back as a message in the participant's
language. Wrong codes are throttled per participant (`ratelimit.Throttle`, counted in the
database), so a code cannot be guessed from a desk; a meeting of another cohort is 404.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import services
from ..core import attendance as rules
from ..models import Meeting, Role
from .access import requires
from .common import now, read_session, transaction
from .participant import (
    CHECK_IN_REFUSAL,
    CheckInForm,
    bp,
    own_participant,
    page_language,
    when_formatter,
)
from .ratelimit import Throttle

LIMITER = "cohort.check_in_limiter"


@bp.record_once
def _init_limiter(state) -> None:
    state.app.extensions[LIMITER] = Throttle(
        state.app.extensions["cohort.engine"], "check_in",
        max_failures=state.app.config["CHECK_IN_WRONG_CODES_PER_MINUTE"])


@bp.post("/me/meetings/<int:meeting_id>/check-in")
@requires(Role.PARTICIPANT)
def check_in(meeting_id: int):
    form = CheckInForm(prefix=f"checkin-{meeting_id}")
    if not form.validate_on_submit():
        abort(400)
    limiter: Throttle = current_app.extensions[LIMITER]
    with read_session() as db_session:
        participant = own_participant(db_session)
        language, key = page_language(participant), f"participant:{participant.id}"
        timezone = services.get_cohort(db_session, participant.cohort_id).timezone
    # Counted before the code is checked (atomically), so parallel guesses share the limit.
    attempt = limiter.begin(key)
    refused = "throttled" if attempt.refused else None
    if refused is None:
        try:
            with transaction() as db_session:
                mark = services.check_in(db_session, participant.id, meeting_id,
                                         form.code.data, now())
                title = db_session.get(Meeting, mark.meeting_id).title
        except services.CheckInRefused as refusal:
            refused = refusal.decision
        except services.NotFound:
            limiter.succeeded(attempt)
            abort(404)
        if not (isinstance(refused, rules.CheckInDecision)
                and refused.reason == rules.WRONG_CODE):
            limiter.succeeded(attempt)  # only a wrong code counts against the participant
    if isinstance(refused, rules.CheckInDecision) and refused.reason == rules.NOT_YOUR_MEETING:
        abort(404)
    with force_locale(language):
        if refused is None:
            flash(_("You are checked in to %(meeting)s. Welcome!", meeting=title), "success")
        else:  # shown at the code field, tied to it (see participant._check_in_refusal)
            session[CHECK_IN_REFUSAL] = {
                "meeting": meeting_id,
                "message": _refusal_text(refused, when_formatter(timezone)),
                # The code typed was wrong (or too many were): the field is marked invalid.
                "code": refused == "throttled" or refused.reason == rules.WRONG_CODE}
    return redirect(url_for("participant.page"))


def _refusal_text(refused, when) -> str:
    """Why the check-in did not work, in words (the core's reasons are codes)."""
    if refused == "throttled":
        return _("Too many wrong codes. Wait a minute, check the code on the screen and try "
                 "again.")
    reason = refused.reason
    if reason == rules.TOO_EARLY:
        return _("Check-in is not open yet. It opens %(when)s.", when=when(refused.opens_at))
    if reason == rules.TOO_LATE:
        return _("Check-in for this meeting closed %(when)s.", when=when(refused.closes_at))
    if reason == rules.WRONG_CODE:
        return _("That is not the code shown in the room. Check it and try again.")
    if reason == rules.NO_CODE_YET:
        return _("The facilitator has not shown a check-in code for this meeting yet. Try "
                 "again when the code is on the screen.")
    if reason == rules.CANCELLED:
        return _("This meeting is cancelled, so there is nothing to check in to.")
    return _("You could not be checked in.")
