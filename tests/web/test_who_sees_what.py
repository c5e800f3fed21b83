"""docs/anonymity.md's "who sees what" table, checked row by row against the running app.

Each row (a kind of data) plants a marker the way the app stores that data, then asks every
role whether the marker reaches them through any page or export they could open. The table
`WHO_SEES` below is the claim, written like the docs; each test is one row. (The database
administrator's column is tests/services/test_anonymous_storage.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.core.attendance import Mark
from cohort.models import CohortRole, CohortStaff, Invitation, Prompt
from tests.fixtures.web import sign_in, sign_in_participant

ROLES = ("author", "other_participant", "co_facilitator", "owner", "evaluator", "admin")
ALL_CLOSED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # every survey of the cohort has closed
DURING_COURSE = datetime(2025, 5, 8, 9, 0, tzinfo=UTC)
DURING_PRE = datetime(2025, 4, 2, 8, 0, tzinfo=UTC)  # the pre self-assessment is open

# True: the role can see the marker (with the person's name where the data has one);
# False: no page or export they can open shows it.
WHO_SEES = {
    # Anonymous free text: the evaluator's words (never the facilitators', nor with a name).
    "free_text": dict(author=False, other_participant=False, co_facilitator=False,
                      owner=False, evaluator=True, admin=True),
    # An anonymous survey's rows (the export), without identity: evaluators; facilitators
    # get only figures (checked in the test).
    "anonymous_answer": dict(author=False, other_participant=False, co_facilitator=False,
                             owner=False, evaluator=True, admin=True),
    # An identified answer with the person's name: evaluators only.
    "identified_answer": dict(author=False, other_participant=False, co_facilitator=False,
                              owner=False, evaluator=True, admin=True),
    # Who has not answered an identified survey, by name: those who send reminders.
    "completion": dict(author=False, other_participant=False, co_facilitator=True,
                       owner=True, evaluator=True, admin=True),
    "quote": dict(author=False, other_participant=False, co_facilitator=False, owner=False,
                  evaluator=True, admin=True),
    # A reflection goes with the name to the facilitators (the digest); the author sees it.
    "reflection": dict(author=True, other_participant=False, co_facilitator=True, owner=True,
                       evaluator=False, admin=True),
    # Attendance per person: the facilitators; the evaluator gets figures only.
    "attendance": dict(author=False, other_participant=False, co_facilitator=True,
                       owner=True, evaluator=False, admin=True),
}


def pages(cohort_id: int) -> list[str]:
    """Every page and export where survey data, words or marks could appear."""
    base = f"/cohorts/{cohort_id}"
    evaluation = f"{base}/evaluation"
    return [
        "/me", f"{base}/digest", f"{base}/report", f"{base}/attendance",
        f"{base}/attendance/kickoff", f"{base}/attendance.csv",
        f"{base}/attendance-per-meeting.csv",
        evaluation, f"{evaluation}/surveys/final", f"{evaluation}/surveys/final/texts",
        f"{evaluation}/surveys/self-assessment-pre", f"{evaluation}/quotes",
        f"{evaluation}/responses.csv", f"{evaluation}/response-rates.csv",
        f"{evaluation}/quotes.csv", f"{evaluation}/templates/meeting-evaluation",
    ]


@pytest.fixture
def clients(web_app, staff, cohort_id, engine_of_app, make_user):
    """A signed-in test client per role; the author is the cohort's first participant."""
    co = make_user("co@cohort.example", "facilitator", "Cora Co")
    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=cohort_id, user_id=co.id,
                                role=CohortRole.CO_FACILITATOR))
        author, other = services.participants.list_participants(session, cohort_id)[:2]
    found = {}
    for role, user in (("co_facilitator", co), ("owner", staff.owner),
                       ("evaluator", staff.evaluator), ("admin", staff.admin)):
        found[role] = web_app.test_client()
        sign_in(found[role], user)
    for role, person in (("author", author), ("other_participant", other)):
        found[role] = web_app.test_client()
        sign_in_participant(found[role], person)
    return found, author, other


def reached(client, cohort_id: int, marker: str, skip: tuple[str, ...] = ()) -> list[str]:
    """The pages and exports that show `marker` to this client."""
    shown = []
    for url in pages(cohort_id):
        if url in skip:
            continue
        response = client.get(url)
        if response.status_code == 200 and marker in response.get_data(as_text=True):
            shown.append(url)
    return shown


def check(clients_by_role, cohort_id: int, kind: str, marker: str,
          skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    seen = {role: reached(clients_by_role[role], cohort_id, marker, skip) for role in ROLES}
    assert {role: bool(urls) for role, urls in seen.items()} == WHO_SEES[kind], seen
    return seen


FINAL_HEADER = ("new-tools;network;passed-on;staff-engagement;judge-technology;language;"
                "most-useful;recommend;leadership-change\n")


def five_final_answers(engine, cohort_id, text: str) -> None:
    """Five anonymous answers to the final survey (paper; the cohort has three people)."""
    rows = "".join(f"5;4;4;3;4;5;1;9;{text} {n}\n" for n in range(5))
    with db.transaction(engine) as session:
        services.import_responses(session, cohort_id, "final", FINAL_HEADER + rows,
                                  now=ALL_CLOSED)


def test_free_text_reaches_the_evaluators_only(web_app, clients, cohort_id, engine_of_app):
    web_app.config["COHORT_NOW"] = ALL_CLOSED
    five_final_answers(engine_of_app, cohort_id, "FRITEKST-MARKØR")
    by_role, _, _ = clients
    seen = check(by_role, cohort_id, "free_text", "FRITEKST-MARKØR")
    assert not any("texts" in url or "report" in url for role in ("owner", "co_facilitator")
                   for url in seen[role])


def test_anonymous_rows_reach_the_evaluators_without_identity(web_app, clients, cohort_id,
                                                               engine_of_app):
    web_app.config["COHORT_NOW"] = ALL_CLOSED
    five_final_answers(engine_of_app, cohort_id, "RÆKKE-MARKØR")
    by_role, author, _ = clients
    check(by_role, cohort_id, "anonymous_answer", "RÆKKE-MARKØR")
    export = by_role["evaluator"].get(
        f"/cohorts/{cohort_id}/evaluation/responses.csv?survey=final").get_data(as_text=True)
    assert author.name not in export and author.email not in export
    # The facilitators get the figures of the closed survey.
    figures = by_role["owner"].get(f"/cohorts/{cohort_id}/evaluation/surveys/final")
    assert "5 af 5" in figures.get_data(as_text=True)


def test_identified_answers_reach_the_evaluators_with_the_name(web_app, clients, cohort_id,
                                                               engine_of_app):
    by_role, author, _ = clients
    answers = {"competences": {a: 3 for a in (
        "judge-technology", "strategy", "change", "staff-competences", "citizen",
        "implementation", "ethics", "collaboration", "awareness")},
        "prior-training": 2, "hopes": "IDENTIFICERET-MARKØR"}
    with db.transaction(engine_of_app) as session:
        survey = services.get_survey(session, cohort_id, "self-assessment-pre")
        invitation = session.scalar(select(Invitation.id).where(
            Invitation.survey_id == survey.id, Invitation.participant_id == author.id))
    services.submit_response(engine_of_app, invitation, answers, DURING_PRE)
    web_app.config["COHORT_NOW"] = ALL_CLOSED
    check(by_role, cohort_id, "identified_answer", "IDENTIFICERET-MARKØR")
    export = by_role["evaluator"].get(f"/cohorts/{cohort_id}/evaluation/responses.csv"
                                      "?survey=self-assessment-pre").get_data(as_text=True)
    assert author.name in export


def test_who_has_not_answered_an_identified_survey_reaches_those_who_send_reminders(
        web_app, clients, cohort_id):
    web_app.config["COHORT_NOW"] = DURING_PRE
    by_role, _, other = clients
    # A participant's page names their buddies, so it is not asked: the name is the marker.
    seen = check(by_role, cohort_id, "completion", other.name, skip=("/me",))
    assert f"/cohorts/{cohort_id}/evaluation" in seen["owner"]


def test_quotes_reach_the_evaluators_only(web_app, clients, cohort_id, engine_of_app):
    web_app.config["COHORT_NOW"] = ALL_CLOSED
    with db.transaction(engine_of_app) as session:
        services.add_quote(session, cohort_id, "CITAT-MARKØR om teknologien", now=ALL_CLOSED)
    by_role, _, _ = clients
    check(by_role, cohort_id, "quote", "CITAT-MARKØR")


def test_a_reflection_reaches_its_author_and_the_facilitators_with_the_name(
        web_app, clients, cohort_id, engine_of_app):
    web_app.config["COHORT_NOW"] = DURING_COURSE
    by_role, author, _ = clients
    with db.transaction(engine_of_app) as session:
        prompt = session.scalars(select(Prompt).where(
            Prompt.cohort_id == cohort_id, Prompt.send_at <= DURING_COURSE)
            .order_by(Prompt.send_at.desc())).first()
        participant = session.get(type(author), author.id)
        services.answer_prompt(session, participant, prompt.id, "REFLEKSION-MARKØR",
                               DURING_COURSE)
    seen = check(by_role, cohort_id, "reflection", "REFLEKSION-MARKØR")
    digest = by_role["owner"].get(f"/cohorts/{cohort_id}/digest").get_data(as_text=True)
    assert "REFLEKSION-MARKØR" in digest and author.name in digest
    assert seen["author"] == ["/me"]


def test_attendance_per_person_reaches_the_facilitators(web_app, clients, cohort_id,
                                                        engine_of_app):
    web_app.config["COHORT_NOW"] = DURING_COURSE
    by_role, author, _ = clients
    with db.transaction(engine_of_app) as session:
        services.set_marks(session, cohort_id, "kickoff",
                           {author.id: Mark("excused", "FRAVÆR-MARKØR")}, now=DURING_COURSE)
    check(by_role, cohort_id, "attendance", "FRAVÆR-MARKØR")
