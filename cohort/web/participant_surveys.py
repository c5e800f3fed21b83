"""Answering a survey from the participant's page or its invitation email.

`/me/surveys/<id>` shows the survey's introduction and, before any question, whether the
answers are anonymous or identified. The form is built from the survey's definition
(`survey_forms.survey_form`) and stored with `services.submit_response`, which commits on
its own (an anonymous answer is written apart from the invitation's completed mark, see
services/surveys.py) and accepts one answer per invitation: a second submit, a closed or a
not-yet-open survey get a page that says so, and invalid answers come back with the form and
its errors (nothing is stored).
A survey of another cohort, or one the participant is not invited to, is 404.
"""

from __future__ import annotations

from dataclasses import replace

from flask import flash, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from wtforms import Form

from .. import services
from ..core.surveys import AnswersInvalid
from ..models import Role
from ..services.participation import SurveyToAnswer
from .access import requires
from .common import engine, now, read_session
from .participant import bp, own_access, page_language, render_private, when_formatter
from .survey_forms import answers_from_form, field_name, survey_form

OPEN = "open"


@bp.route("/me/surveys/<int:survey_id>", methods=["GET", "POST"])
@requires(Role.PARTICIPANT)
def survey(survey_id: int):
    with read_session() as db_session:
        # The answer is stored by its own transactions (`_submit`), not in this reading
        # session: the request's access check, a moment ago, is as fresh as a re-read here.
        access = own_access(db_session, reuse=True)
        participant = access.participant
        found = services.survey_for_participant(db_session, participant, survey_id, now())
        timezone = access.timezone
    # Who sees the answer, told on the page: results only for groups of at least this.
    min_group = found.min_group_size
    status = 200
    with force_locale(page_language(participant)):  # the form's error messages, too
        form = survey_form(found.spec)() if found.state == OPEN else None
        if request.method == "POST":
            if form is None:
                status = 409  # nothing stored: answered, closed or not open
            elif form.validate_on_submit():
                state = _submit(found, form)
                if state is None:
                    flash(str(_l("Thank you! Your answers have been saved.")), "success")
                    return redirect(url_for("participant.survey", survey_id=survey_id))
                found = replace(found, state=state)
                status = 400 if state == OPEN else 409
                form = form if state == OPEN else None
            else:
                status = 400
    return render_private("participant/survey.html", participant, status, found=found,
                          form=form, when=when_formatter(timezone), min_group=min_group)


def _submit(found: SurveyToAnswer, form: Form) -> str | None:
    """Store the answers; None when saved, else the survey's state that prevented it."""
    try:
        services.submit_response(engine(), found.invitation_id,
                                 answers_from_form(found.spec, form), now(),
                                 target=found.target)
    except services.AlreadyAnswered:
        return "answered"
    except services.SurveyClosed:
        return "closed"
    except services.SurveyNotOpen:
        return "not_open"
    except AnswersInvalid as exc:  # the form let through what the core refuses
        for error in exc.errors:
            field = form[field_name(error.question_id)]
            if error.area is not None:  # one area of a self-assessment (a sub-form)
                field = field.form[error.area]
            field.errors = [_l("Please check this answer.")]
        return OPEN
    return None
