"""The authorisation matrix: every registered route, for every kind of visitor.

The table below is the specification, written independently of the rules the views declare:
a route added to the app without an entry here (or without a declared rule) fails the test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlparse

from flask import Flask

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.models import Role
from cohort.web.access import requires, rule_for
from tests.fixtures.web import WEB_NOW, sign_in, sign_in_participant, staff_client

IDENTITIES = ("anonymous", "participant", "evaluator", "facilitator_other", "facilitator_owner",
              "admin")
OK, LOGIN, FORBIDDEN, NOT_FOUND = "ok", "login", "403", "404"


def _row(anonymous, participant, evaluator, other, owner, admin) -> dict[str, str]:
    return dict(zip(IDENTITIES, (anonymous, participant, evaluator, other, owner, admin),
                    strict=True))


PUBLIC = _row(OK, OK, OK, OK, OK, OK)
# A public route whose secret token is its credential: a made-up token is a 404 for everyone.
TOKEN_ONLY = _row(NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)
SIGNED_IN = _row(LOGIN, OK, OK, OK, OK, OK)
STAFF = _row(LOGIN, FORBIDDEN, OK, OK, OK, OK)
FACILITATORS = _row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK, OK)
OWN_COHORT = _row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK)
COHORT_OWNER = _row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK)
PARTICIPANT_ONLY = _row(FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)
ADMINS = _row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
# Evaluation figures (rates, results that hide small groups): the cohort's evaluators and its
# facilitators. Words and raw rows (free text, notes, quotes, response exports): evaluators
# only, since facilitators know every participant and group (see cohort/web/evaluation.py).
EVALUATION_FIGURES = _row(LOGIN, FORBIDDEN, OK, FORBIDDEN, OK, OK)
EVALUATORS = _row(LOGIN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, OK)
# The cohort's evaluators, its facilitators and admins (the evaluation report).
EVALUATION = _row(LOGIN, FORBIDDEN, OK, FORBIDDEN, OK, OK)
# The same people, asking for a made-up report job: it does not exist (404); others 403/login.
EVALUATION_MADE_UP_ID = _row(LOGIN, FORBIDDEN, NOT_FOUND, FORBIDDEN, NOT_FOUND, NOT_FOUND)

EXPECTED = {
    "static": PUBLIC,
    "auth.landing": PUBLIC,
    "auth.login": PUBLIC,
    "auth.language": PUBLIC,
    "auth.logout": SIGNED_IN,
    "account.settings": STAFF,
    "cohorts.dashboard": STAFF,
    "admin.users": ADMINS,
    "admin.edit_user": ADMINS,
    "programmes.index": FACILITATORS,
    "programmes.show": FACILITATORS,
    "cohorts.new": FACILITATORS,
    "cohorts.show": OWN_COHORT,
    "cohorts.launch": OWN_COHORT,
    "cohorts.plan": OWN_COHORT,
    "cohorts.activity_log": OWN_COHORT,
    "cohorts.staff": COHORT_OWNER,
    "cohorts.remove_staff": COHORT_OWNER,
    "participants.index": OWN_COHORT,
    "participants.upload": OWN_COHORT,
    "participants.add": OWN_COHORT,
    "participants.edit": OWN_COHORT,
    "participants.remove": OWN_COHORT,
    "meetings.reschedule": OWN_COHORT,
    "meetings.cancel": OWN_COHORT,
    "meetings.restore": OWN_COHORT,
    "calendars.feed": TOKEN_ONLY,
    "calendars.cohort_download": OWN_COHORT,
    "outbox.index": OWN_COHORT,
    "outbox.preview": OWN_COHORT,
    "outbox.email_html": OWN_COHORT,
    "outbox.send_test": OWN_COHORT,
    "outbox.resend": OWN_COHORT,
    "outbox.dismiss": OWN_COHORT,
    "outbox.cancel_send_out": OWN_COHORT,
    "outbox.pause": OWN_COHORT,
    "outbox.resume": OWN_COHORT,
    "outbox.send_now": OWN_COHORT,
    "outbox.digest": OWN_COHORT,
    "participant.link": TOKEN_ONLY,
    "participant.exchange": TOKEN_ONLY,
    "participant.page": PARTICIPANT_ONLY,
    "participant.task": PARTICIPANT_ONLY,
    "participant.answer": PARTICIPANT_ONLY,
    "participant.logout": PARTICIPANT_ONLY,
    "evaluation.index": EVALUATORS,
    "evaluation.overview": EVALUATION_FIGURES,
    "evaluation.survey": EVALUATION_FIGURES,
    "evaluation.template": EVALUATION_FIGURES,
    "evaluation.export_rates": EVALUATION_FIGURES,
    "evaluation.survey_texts": EVALUATORS,
    "evaluation.template_texts": EVALUATORS,
    "evaluation.notes": EVALUATORS,
    "evaluation.new_note": EVALUATORS,
    "evaluation.edit_note": EVALUATORS,
    "evaluation.quotes": EVALUATORS,
    "evaluation.tag_quote": EVALUATORS,
    "evaluation.edit_quote": EVALUATORS,
    "evaluation.delete_quote": EVALUATORS,
    "evaluation.delete_note": EVALUATORS,
    "evaluation.export_responses": EVALUATORS,
    "evaluation.export_quotes": EVALUATORS,
    "attendance.index": OWN_COHORT,
    "attendance.export": OWN_COHORT,
    "attendance.export_per_meeting": EVALUATION_FIGURES,
    "attendance.sheet": OWN_COHORT,
    "attendance.code": OWN_COHORT,
    "attendance.import_report": OWN_COHORT,
    "groups.index": OWN_COHORT,
    "groups.export_check_ins": EVALUATION_FIGURES,
    "groups.plan": OWN_COHORT,  # the matrix posts empty forms: 400, nothing changes
    "groups.repair": OWN_COHORT,
    "groups.move": OWN_COHORT,
    "groups.add_rule": OWN_COHORT,
    "groups.drop_rule": OWN_COHORT,
    "reports.view": EVALUATION,
    "reports.start_pdf": EVALUATION,  # the matrix posts no options: 400, no job is started
    "reports.job": EVALUATION_MADE_UP_ID,
    "reports.job_pdf": EVALUATION_MADE_UP_ID,
    "participant.survey": PARTICIPANT_ONLY,
    "participant.check_in": PARTICIPANT_ONLY,
    "participant.buddy_check_in": PARTICIPANT_ONLY,
    "participant.buddy_check_in_save": PARTICIPANT_ONLY,  # the matrix posts no answer: 400
    "participant.calendar_download": PARTICIPANT_ONLY,
    # The progress grid and announcements: the cohort's facilitators and admins, not its
    # evaluators (per-person follow-up; see cohort/web/progress.py).
    "progress.grid": OWN_COHORT,
    "progress.export": OWN_COHORT,
    "progress.remind": OWN_COHORT,  # the matrix posts an empty form: 400, nothing is queued
    "progress.announcements": OWN_COHORT,
    "participant.material": PARTICIPANT_ONLY,
    "materials.index": OWN_COHORT,
    "materials.remove": OWN_COHORT,
    "materials.staff_file": EVALUATION,  # the cohort's facilitators and evaluators
    "account.activate": TOKEN_ONLY,
    "health.healthz": PUBLIC,
    "about.accessibility": PUBLIC,
}


def _rules(app: Flask):
    return sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint)


def test_every_route_has_a_declared_rule_and_an_expectation(web_app):
    endpoints = {rule.endpoint for rule in _rules(web_app)}
    undeclared = sorted(e for e in endpoints if rule_for(web_app, e) is None)
    assert undeclared == [], f"routes without an access rule: {undeclared}"
    unexpected = sorted(endpoints - EXPECTED.keys())
    assert unexpected == [], f"routes missing from the authorisation matrix: {unexpected}"
    assert sorted(EXPECTED.keys() - endpoints) == [], "matrix names routes that do not exist"


def _outcome(response) -> str:
    if response.status_code == 403:
        return FORBIDDEN
    if response.status_code in (301, 302, 303):
        target = urlparse(response.headers["Location"])
        if target.path == "/login" and "next=" in target.query:
            return LOGIN
    if response.status_code == 404:
        return NOT_FOUND
    if response.status_code in (401, 405, 429) or response.status_code >= 500:
        return f"unexpected {response.status_code}"
    return OK


def _own_item_ids(app, cohort_id: int, participant) -> dict[str, int]:
    """Ids of one outbox row, the first task and prompt, a survey and a meeting of the cohort,
    an evaluator's note and quote, and an uploaded material (a PDF)."""
    from sqlalchemy import select

    from cohort import db
    from cohort.models import Delivery, Meeting, Prompt, Survey, Task
    from cohort.services import materials

    with db.transaction(app.extensions["cohort.engine"]) as session:
        def first(model, *where):
            return session.scalars(select(model.id).where(*where).order_by(model.id)).first()

        note = services.save_note(session, cohort_id, "meeting-observation", {}, now=WEB_NOW)
        quote = services.add_quote(session, cohort_id, "Et citat", note_id=note.id, now=WEB_NOW)
        material = materials.add_file(
            session, materials.MaterialStore(app.config["MATERIALS_DIR"]), cohort_id,
            "kickoff", "Slides", "slides.pdf", b"%PDF-1.4\n%%EOF\n", False, 1024, None, WEB_NOW)
        return {
            "note_id": note.id,
            "material_id": material.id,
            "quote_id": quote.id,
            "delivery_id": first(Delivery, Delivery.cohort_id == cohort_id),
            "task_id": session.scalars(select(Task.id).where(Task.cohort_id == cohort_id)
                                       .order_by(Task.release_at)).first(),
            "prompt_id": session.scalars(select(Prompt.id).where(Prompt.cohort_id == cohort_id)
                                         .order_by(Prompt.send_at)).first(),
            "survey_id": first(Survey, Survey.cohort_id == cohort_id),
            "meeting_id": first(Meeting, Meeting.cohort_id == cohort_id),
            "round_id": session.scalars(select(Task.id).where(
                Task.cohort_id == cohort_id, Task.kind == "buddy_exchange")
                .order_by(Task.release_at)).first(),
        }


def _healthy(app) -> None:
    from cohort.db import migrate as schema
    from cohort.services.health import record_heartbeat

    engine = app.extensions["cohort.engine"]
    schema.stamp(engine, "head")
    with db.transaction(engine) as session:
        record_heartbeat(session, datetime.now(UTC), datetime.now(UTC))


def matrix_setup(web_app, staff, cohort_id, first_participant) -> dict:
    """A month into the course, so the participant has released tasks and prompts to act on;
    returns the values that fill in every route's arguments (see `matrix_urls`)."""
    web_app.config["COHORT_NOW"] = datetime(2025, 5, 8, 9, 0, tzinfo=UTC)
    # The matrix opens the made-up activation link a dozen times from one address: more than
    # the throttle allows a guesser (test_staff_invitations tests that); here only access.
    web_app.config["LOGIN_FAILURES_PER_MINUTE"] = 1000
    _healthy(web_app)  # so /healthz answers 200, as it does in a working deployment
    return {"cohort_id": cohort_id, "participant_id": first_participant.id,
            "meeting_key": "webinar-2", "programme_id": "digital-lederskab",
            "user_id": staff.owner.id, "filename": "cohort.css", "token": "made-up",
            "survey_key": "final", "template_key": "meeting-evaluation",
            "guide_key": "meeting-observation", "fmt": "csv",
            "job_id": "0" * 32,
            **_own_item_ids(web_app, cohort_id, first_participant)}


def matrix_urls(web_app, values: dict):
    """(endpoint, url, methods) of every registered route, arguments filled in."""
    from flask import url_for

    for rule in _rules(web_app):
        with web_app.test_request_context():
            url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
        yield rule.endpoint, url, sorted(rule.methods - {"HEAD", "OPTIONS"})


def client_as(web_app, identity: str, staff, first_participant):
    """A test client signed in as one of IDENTITIES."""
    users = {"evaluator": staff.evaluator, "facilitator_other": staff.other,
             "facilitator_owner": staff.owner, "admin": staff.admin}
    client = web_app.test_client()
    if identity == "participant":
        sign_in_participant(client, first_participant)
    elif identity in users:
        sign_in(client, users[identity])
    return client


def test_authorisation_matrix(web_app, staff, cohort_id, first_participant):
    web_app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own test; here only access
    values = matrix_setup(web_app, staff, cohort_id, first_participant)
    failures = []
    for endpoint, url, methods in matrix_urls(web_app, values):
        for method in methods:
            for identity in IDENTITIES:
                client = client_as(web_app, identity, staff, first_participant)
                with client.open(url, method=method, data={}) as response:
                    got, want = _outcome(response), EXPECTED[endpoint][identity]
                if got != want:
                    failures.append(f"{method} {url} as {identity}: {got} "
                                    f"({response.status_code}), expected {want}")
    assert failures == []


def test_unknown_cohort_is_404_even_for_its_would_be_owner(web_app, staff):
    client = staff_client(web_app, staff.owner)
    assert client.get("/cohorts/999").status_code == 404
    sign_in(client, staff.admin)
    assert client.get("/cohorts/999/plan").status_code == 404


def test_wrong_meeting_or_participant_is_404(web_app, staff, cohort_id):
    client = staff_client(web_app, staff.owner)
    assert client.get(f"/cohorts/{cohort_id}/meetings/webinar-9/reschedule").status_code == 404
    assert client.get(f"/cohorts/{cohort_id}/participants/99999/edit").status_code == 404


def test_route_without_a_rule_is_refused_and_reported(app):
    """A blueprint that forgets its rule: refused at runtime, and the matrix test sees it."""
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert rule_for(app, "forgotten") is None
    response = app.test_client().get("/forgotten")
    assert response.status_code == 403 and b"secret" not in response.data
    assert "forgotten" not in EXPECTED


def test_participant_identity_is_limited_to_its_cohort(app, make_cohort):
    """Rules other blueprints (participant pages) will use: a participant sees only its cohort."""

    @requires(Role.PARTICIPANT, cohort_access=True)
    def own_page(cohort_id):
        return f"cohort {cohort_id}"

    app.add_url_rule("/c/<int:cohort_id>/me", "own_page", own_page)
    engine = app.extensions["cohort.engine"]
    ids = [make_cohort(engine, people=[ParticipantRow(title, f"{title.lower()}@x.example")],
                       title=title, now=WEB_NOW).id for title in ("A", "B")]
    with db.transaction(engine) as session:
        person = services.participants.list_participants(session, ids[0])[0]
    client = app.test_client()
    assert client.get(f"/c/{ids[0]}/me").status_code == 403  # no personal-link session
    sign_in_participant(client, person)
    assert client.get(f"/c/{ids[0]}/me").status_code == 200
    assert client.get(f"/c/{ids[1]}/me").status_code == 403
    # A removed participant's personal-link session ends at once.
    with db.transaction(engine) as session:
        services.participants.remove_participant(session, ids[0], person.id, None, WEB_NOW)
    assert client.get(f"/c/{ids[0]}/me").status_code == 403
