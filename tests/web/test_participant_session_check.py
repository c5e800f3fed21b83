"""The participant access check is one statement, re-used by the page, and still ends a session
at once for every reason it ended before (issue 24): the participant removed or erased, a
logout elsewhere (session version), the link revoked or past its end. Each on a page (GET),
on the survey answer (a POST whose reads re-use the check) and on a POST that writes in its
own transaction (which reads the check again there)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from cohort import db, services
from cohort.models import Invitation, Participant, Role, Task
from cohort.services import privacy
from cohort.web import access
from tests.fixtures.statements import recorded_statements
from tests.fixtures.web import COHORT_START, WEB_NOW, participant_client
from tests.web.test_participant_surveys import (
    AFTER_THE_LAST_MEETING,
    FINAL_ANSWERS,
    csrf,
    survey_id,
)


@pytest.fixture
def signed_in(web_app, cohort_id, first_participant):
    web_app.config["COHORT_NOW"] = AFTER_THE_LAST_MEETING
    return participant_client(web_app, first_participant)


def _engine(app):
    return app.extensions["cohort.engine"]


def _task_id(app, cohort_id: int) -> int:
    with db.read_session(_engine(app)) as session:
        return session.scalars(select(Task.id).where(Task.cohort_id == cohort_id)
                               .order_by(Task.id)).first()


def _revoke(app, participant):
    with db.transaction(_engine(app)) as session:
        services.revoke_links(session, participant.id, "test", AFTER_THE_LAST_MEETING)


def _log_out_elsewhere(app, participant):
    with db.transaction(_engine(app)) as session:
        services.participant_access.end_participant_sessions(session, participant.id)


def _remove(app, participant):
    with db.transaction(_engine(app)) as session:
        services.participants.remove_participant(session, participant.cohort_id,
                                                 participant.id, None, AFTER_THE_LAST_MEETING)


def _erase(app, participant):
    with db.transaction(_engine(app)) as session:
        privacy.erase_participant(session, session.get(Participant, participant.id), None,
                                  AFTER_THE_LAST_MEETING)


def _end(app, _participant):
    grace = timedelta(days=app.config["PARTICIPANT_LINK_GRACE_DAYS"])
    app.config["COHORT_NOW"] = AFTER_THE_LAST_MEETING + timedelta(days=400) + grace


ENDINGS = {"revoked": _revoke, "logged out elsewhere": _log_out_elsewhere,
           "removed": _remove, "erased": _erase, "ended": _end}


@pytest.mark.parametrize("ending", ENDINGS)
def test_every_ending_stops_the_session_at_once(web_app, cohort_id, first_participant,
                                               signed_in, ending):
    final = survey_id(web_app, cohort_id, "final")
    survey = f"/me/surveys/{final}"
    token = csrf(signed_in, survey)
    task = _task_id(web_app, cohort_id)
    assert signed_in.get("/me").status_code == 200
    ENDINGS[ending](web_app, first_participant)
    assert signed_in.post(survey, data={"csrf_token": token, **FINAL_ANSWERS}).status_code == 403
    assert signed_in.post(f"/me/tasks/{task}", data={
        f"task-{task}-csrf_token": token, f"task-{task}-done": "y"}).status_code in (400, 403)
    assert signed_in.get(survey).status_code == 403
    assert signed_in.get("/me").status_code == 403
    if ending in ("removed", "erased"):
        return
    with db.read_session(_engine(web_app)) as session:
        assert not session.scalar(select(Invitation.completed).where(
            Invitation.survey_id == final, Invitation.participant_id == first_participant.id))


def _statements(app, call) -> list[str]:
    with recorded_statements(_engine(app)) as seen:
        call()
    return seen


def _access_checks(statements: list[str]) -> int:
    return sum("participantlink" in s and "FROM participant JOIN cohort" in s
               for s in statements)


def test_one_statement_checks_a_page_and_a_write_reads_it_again(web_app, cohort_id,
                                                                signed_in):
    survey = f"/me/surveys/{survey_id(web_app, cohort_id, 'final')}"
    token = csrf(signed_in, survey)
    for page in ("/me", survey):
        seen = _statements(web_app, lambda page=page: signed_in.get(page))
        assert _access_checks(seen) == 1, seen
        assert not any(s.lstrip().startswith("SELECT participantlink") for s in seen)
    seen = _statements(web_app, lambda: signed_in.post(
        survey, data={"csrf_token": token, **FINAL_ANSWERS}))
    assert _access_checks(seen) == 1, seen  # its reads are not in its write's transaction
    task = _task_id(web_app, cohort_id)
    seen = _statements(web_app, lambda: signed_in.post(f"/me/tasks/{task}", data={
        f"task-{task}-csrf_token": token, f"task-{task}-done": "y"}))
    assert _access_checks(seen) == 2, seen  # the check, and again in the write's transaction


def test_another_cohort_is_404_or_403_and_the_own_cohort_is_not_read_for_it(
        web_app, engine_of_app, cohort_id, make_cohort):
    """No participant route is cohort-scoped today: the rule is checked as `_enforce` would."""
    other = make_cohort(engine_of_app, people=[], start=COHORT_START, title="Hold 2",
                        now=WEB_NOW).id
    rule = access.AccessRule(frozenset({Role.PARTICIPANT}), cohort_access=True)
    with web_app.test_request_context("/me"):
        g.cohort_participant = {"id": 1, "cohort_id": cohort_id}
        assert _statements(web_app, lambda: access._check_cohort(
            rule, Role.PARTICIPANT, cohort_id)) == []
        for elsewhere, status in ((other, 403), (other + 1000, 404)):
            with pytest.raises(HTTPException) as refused:
                access._check_cohort(rule, Role.PARTICIPANT, elsewhere)
            assert refused.value.code == status
