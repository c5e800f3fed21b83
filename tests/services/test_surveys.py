"""Survey use cases on real databases (SQLite and PostgreSQL): answering, anonymity,
reminders, response rates, results, paper answers."""

from __future__ import annotations

import random
import threading
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Date, DateTime, func, inspect, select

from cohort import db, services
from cohort.core.response_import import ResponseImportError
from cohort.core.surveys import AnswersInvalid
from cohort.models import (
    AnonymousAnswerPool,
    AnonymousResponse,
    IdentifiedResponse,
    Invitation,
    Participant,
)
from tests.fixtures.surveys import (
    AFTER_FINAL,
    DURING_FINAL,
    DURING_PRE,
    FINAL_ANSWERS,
    PEOPLE,
    PRE_ANSWERS,
    close_final,
    invitation_id,
    submit,
)


@pytest.fixture
def cohort_id(engine, make_cohort):
    return make_cohort(engine, people=PEOPLE).id


def count(engine, model) -> int:
    with db.transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def received(engine) -> int:
    """Anonymous answers stored or waiting in the pool."""
    return count(engine, AnonymousResponse) + count(engine, AnonymousAnswerPool)


def survey_id(engine, cohort_id, key) -> int:
    with db.transaction(engine) as session:
        return services.get_survey(session, cohort_id, key).id


# --- anonymity ------------------------------------------------------------------------------

def test_schema_has_no_link_from_anonymous_responses_to_people(engine):
    """The table holds exactly these columns; its only key points at the survey."""
    table = AnonymousResponse.__table__
    assert set(table.columns.keys()) == {"id", "survey_id", "submitted_on", "answers",
                                         "breakdown_value", "source"}
    assert {fk.target_fullname for fk in table.foreign_keys} == {"survey.id"}
    assert not any(isinstance(c.type, DateTime) or "DateTime" in type(c.type).__name__
                   for c in table.columns)
    assert isinstance(table.columns["submitted_on"].type, Date)
    assert table.columns["id"].primary_key
    # ... and so does the schema actually created in the database.
    inspector = inspect(engine)
    keys = inspector.get_foreign_keys("anonymous_response")
    assert [(k["referred_table"], k["referred_columns"]) for k in keys] == [("survey", ["id"])]
    columns = {c["name"]: c for c in inspector.get_columns("anonymous_response")}
    assert not any(word in name for name in columns
                   for word in ("participant", "invitation", "email", "name", "person"))
    assert not any("TIME" in str(c["type"]).upper() for c in columns.values())
    assert "CHAR" in str(columns["id"]["type"]).upper()  # a random text id, not a sequence
    # Nothing points at a response, and the invitation keeps no date or time of completion.
    for other in inspector.get_table_names():
        referred = {k["referred_table"] for k in inspector.get_foreign_keys(other)}
        assert "anonymous_response" not in referred
    invitation = {c["name"]: c for c in inspector.get_columns("invitation")}
    assert set(invitation) == {"id", "survey_id", "participant_id", "completed"}


def test_anonymous_answer_marks_invitation_and_stores_only_the_survey_day(engine, cohort_id):
    submit(engine, cohort_id, "final", "leder00@example.org", FINAL_ANSWERS, DURING_FINAL)
    close_final(engine)
    with db.transaction(engine) as session:
        response = session.scalars(select(AnonymousResponse)).one()
        invitation = session.get(Invitation, invitation_id(engine, cohort_id, "final",
                                                           "leder00@example.org"))
    assert invitation.completed
    assert response.submitted_on == date(2025, 10, 3)  # the survey's first day, not the 6th
    assert len(response.id) == 32 and int(response.id, 16) > 10**20
    assert response.answers["most-useful"] == [1, 3] and response.source == "web"
    assert count(engine, IdentifiedResponse) == 0


def test_response_ids_do_not_follow_the_order_of_answering(engine, cohort_id):
    for person in PEOPLE[:8]:
        submit(engine, cohort_id, "final", person.email, FINAL_ANSWERS, DURING_FINAL)
    close_final(engine)
    with db.transaction(engine) as session:
        ids = session.scalars(select(AnonymousResponse.id)).all()
    assert len(set(ids)) == 8 and len({i[:4] for i in ids}) > 1


def test_breakdown_value_is_kept_only_for_groups_large_enough(engine, cohort_id):
    for person in PEOPLE:
        submit(engine, cohort_id, "final", person.email, FINAL_ANSWERS, DURING_FINAL)
    close_final(engine)
    with db.transaction(engine) as session:
        values = sorted(session.scalars(select(AnonymousResponse.breakdown_value)))
    # 6 in Vejle are kept; Kolding (4) and Odense (2) become "other" together (6 >= 5).
    assert values == [""] * 6 + ["Vejle Kommune"] * 6


# --- answering ------------------------------------------------------------------------------

def test_second_submit_is_already_answered_and_stores_nothing(engine, cohort_id):
    submit(engine, cohort_id, "final", "leder01@example.org", FINAL_ANSWERS, DURING_FINAL)
    with pytest.raises(services.AlreadyAnswered):
        submit(engine, cohort_id, "final", "leder01@example.org", FINAL_ANSWERS, DURING_FINAL)
    close_final(engine)
    assert count(engine, AnonymousResponse) == 1


def test_closed_and_not_yet_open_surveys_refuse_answers(engine, cohort_id):
    with pytest.raises(services.SurveyClosed):
        submit(engine, cohort_id, "final", "leder01@example.org", FINAL_ANSWERS,
               datetime(2025, 10, 30, tzinfo=UTC))
    with pytest.raises(services.SurveyNotOpen):
        submit(engine, cohort_id, "final", "leder01@example.org", FINAL_ANSWERS,
               datetime(2025, 9, 1, tzinfo=UTC))
    assert received(engine) == 0
    with db.transaction(engine) as session:
        assert not session.scalar(select(func.count()).select_from(Invitation)
                                  .where(Invitation.completed.is_(True)))


def test_invalid_answers_store_nothing_and_leave_the_invitation_open(engine, cohort_id):
    with pytest.raises(AnswersInvalid) as caught:
        submit(engine, cohort_id, "final", "leder01@example.org",
               {**FINAL_ANSWERS, "network": 7, "most-useful": [1, 2, 3, 4]}, DURING_FINAL)
    assert [str(e) for e in caught.value.errors] == [
        "network: '7' is not one of the choices (1-5 or a label)",
        "most-useful: 4 options chosen; at most 3"]
    assert received(engine) == 0
    with db.transaction(engine) as session:
        assert services.pending_reminder_recipients(session, survey_id(engine, cohort_id,
                                                                       "final"))


def test_invalid_answers_to_a_closed_survey_are_refused_as_closed(engine, cohort_id):
    """The answers are checked before the claim, but the survey's state is what is reported
    (as when the claim came first): the page says "closed", not "check your answers"."""
    with pytest.raises(services.SurveyClosed):
        submit(engine, cohort_id, "final", "leder01@example.org",
               {**FINAL_ANSWERS, "network": 7}, AFTER_FINAL)
    assert received(engine) == 0


def test_an_answer_checked_against_another_surveys_questions_claims_nothing(
        engine, cohort_id):
    """The claim itself checks that the target (the questions the page found) is the
    invitation's survey: its template and its cohort's programme."""
    final = invitation_id(engine, cohort_id, "final", "leder01@example.org")
    pre = invitation_id(engine, cohort_id, "self-assessment-pre", "leder01@example.org")
    with db.read_session(engine) as session:
        other = services.surveys.answer_target(session, pre)
        own = services.surveys.answer_target(session, final)
    for wrong in (replace(other, invitation_id=final, spec=own.spec),
                  replace(own, digest="0" * 64)):
        with pytest.raises(ValueError, match="not the target's"):
            services.submit_response(engine, final, FINAL_ANSWERS, DURING_FINAL, target=wrong)
    assert received(engine) == 0
    with db.read_session(engine) as session:
        assert not session.get(Invitation, final).completed
    services.submit_response(engine, final, FINAL_ANSWERS, DURING_FINAL, target=own)
    assert received(engine) == 1


def test_identified_answer_is_linked_to_the_participant(engine, cohort_id):
    submit(engine, cohort_id, "self-assessment-pre", "leder03@example.org", PRE_ANSWERS,
           DURING_PRE)
    with db.transaction(engine) as session:
        response = session.scalars(select(IdentifiedResponse)).one()
        person = session.get(Participant, response.participant_id)
    assert person.email == "leder03@example.org" and response.submitted_at == DURING_PRE
    assert received(engine) == 0


def test_reminders_only_to_those_who_have_not_answered(engine, cohort_id):
    for person in PEOPLE[:3]:
        submit(engine, cohort_id, "final", person.email, FINAL_ANSWERS, DURING_FINAL)
    final = survey_id(engine, cohort_id, "final")
    with db.transaction(engine) as session:
        pending = services.pending_reminder_recipients(session, final, DURING_FINAL)
        assert {p.email for p in pending} == {p.email for p in PEOPLE[3:]}
        assert services.pending_reminder_recipients(
            session, final, datetime(2025, 11, 1, tzinfo=UTC)) == []
        assert services.has_answered(session, final, pending[0].id) is False


# --- evaluator views ------------------------------------------------------------------------

def test_response_rates_name_non_responders_only_for_identified_surveys(engine, cohort_id):
    for person in PEOPLE[:5]:
        submit(engine, cohort_id, "final", person.email, FINAL_ANSWERS, DURING_FINAL)
    submit(engine, cohort_id, "self-assessment-pre", "leder00@example.org", PRE_ANSWERS,
           DURING_PRE)
    with db.transaction(engine) as session:
        rates = {r.survey_key: r for r in services.response_rates(session, cohort_id)}
    assert (rates["final"].invited, rates["final"].answered) == (12, 5)
    assert rates["final"].not_answered is None
    pre = rates["self-assessment-pre"]
    assert (pre.invited, pre.answered, pre.kind) == (12, 1, "pre")
    assert "Leder 00" not in pre.not_answered and len(pre.not_answered) == 11
    meeting_rates = [r for r in rates.values() if r.template_key == "meeting-evaluation"]
    assert {r.meeting_key for r in meeting_rates} == {"kickoff", "workshop-1", "webinar-1",
                                                      "webinar-2", "webinar-3", "workshop-2"}


def test_results_hide_small_groups_and_state_agree_shares(engine, cohort_id):
    final = survey_id(engine, cohort_id, "final")
    for person in PEOPLE[:4]:
        submit(engine, cohort_id, "final", person.email, FINAL_ANSWERS, DURING_FINAL)
    with db.transaction(engine) as session:
        summary = services.survey_results(session, final)
    assert summary.suppressed and all(q.suppressed for q in summary.questions)
    submit(engine, cohort_id, "final", PEOPLE[4].email, {**FINAL_ANSWERS, "new-tools": 2},
           DURING_FINAL)
    with db.transaction(engine) as session:
        summary = services.survey_results(session, final, rng=random.Random(3))
    new_tools = summary.questions[0]
    assert new_tools.agree.statement == ("4 af 5 (80 %) anvendte nye værktøjer og metoder i "
                                         "deres daglige arbejde")
    assert summary.questions[-2].texts == ("Jeg inddrager medarbejderne tidligere.",) * 5
    with db.transaction(engine) as session, pytest.raises(ValueError, match="below 3"):
        services.survey_results(session, final, min_group_size=2)


def test_breakdown_of_anonymous_survey_uses_only_its_kept_attribute(engine, cohort_id):
    for person in PEOPLE:
        submit(engine, cohort_id, "final", person.email, FINAL_ANSWERS, DURING_FINAL)
    close_final(engine)
    final = survey_id(engine, cohort_id, "final")
    with db.transaction(engine) as session:
        breakdown = services.survey_breakdown(session, final, "organisation")
        with pytest.raises(ValueError, match="not broken down by role"):
            services.survey_breakdown(session, final, "role")
    assert [(g.label, g.responses) for g in breakdown.groups] == [("Vejle Kommune", 6),
                                                                  ("", 6)]


def test_breakdown_of_identified_survey_suppresses_a_second_group(engine, cohort_id):
    for person in PEOPLE:
        submit(engine, cohort_id, "self-assessment-pre", person.email, PRE_ANSWERS, DURING_PRE)
    pre = survey_id(engine, cohort_id, "self-assessment-pre")
    with db.transaction(engine) as session:
        breakdown = services.survey_breakdown(session, pre, "organisation")
    groups = {g.label: g for g in breakdown.groups}
    # Odense (2) and Kolding (4) are each too small; together (6) they are enough, so Vejle
    # can be shown without the total minus Vejle revealing a group under 5.
    assert groups["Vejle Kommune"].responses == 6
    assert groups["Kolding Kommune"].responses is None
    assert groups["Odense Kommune"].responses is None
    area = groups["Vejle Kommune"].questions[0].areas[0]
    assert not area.suppressed and area.mean == 2.0
    # Only one attribute per survey: by role as well, the two could be subtracted (attack 6).
    with db.transaction(engine) as session, pytest.raises(ValueError,
                                                          match="not broken down by role"):
        services.survey_breakdown(session, pre, "role")


def test_an_identified_breakdown_keeps_the_values_its_people_had_when_they_answered(
        engine, cohort_id):
    """Moving someone to another organisation, or erasing them, after they answered must not
    change a published group by exactly their answer: whoever saw the figures before and
    after would read it off the difference (Kolding n=9 becoming n=10 showed the moved
    person's answer)."""
    for person in PEOPLE:
        answers = {**PRE_ANSWERS, "competences": {
            **PRE_ANSWERS["competences"], "strategy": 5 if person is PEOPLE[0] else 2}}
        submit(engine, cohort_id, "self-assessment-pre", person.email, answers, DURING_PRE)
    pre = survey_id(engine, cohort_id, "self-assessment-pre")

    def published() -> dict:
        with db.transaction(engine) as session:
            groups = services.survey_breakdown(session, pre, "organisation").groups
        return {g.label: (g.responses, [[(a.area_id, a.mean) for a in q.areas]
                                         for q in g.questions]) for g in groups}

    before = published()
    assert before["Vejle Kommune"][0] == 6
    with db.transaction(engine) as session:
        by_email = {p.email: p for p in services.participants.list_participants(session, cohort_id)}
        moved = by_email[PEOPLE[0].email]  # Vejle, the one who answered 5
        services.participants.update_participant(session, cohort_id, moved.id, replace(
            PEOPLE[0], organisation="Kolding Kommune"), actor=None, now=DURING_PRE)
        services.privacy.erase_participant(session, by_email[PEOPLE[1].email], None, DURING_PRE)
    assert published() == before
    with db.transaction(engine) as session:
        kept = {r.participant_id: (r.organisation, r.role)
                for r in session.scalars(select(IdentifiedResponse))}
    assert kept[moved.id] == ("Vejle Kommune", PEOPLE[0].role)


def test_pre_post_change_is_paired_per_participant(engine, cohort_id):
    post_answers = {"competences": {k: 4 for k in PRE_ANSWERS["competences"]}}
    for person in PEOPLE[:6]:
        submit(engine, cohort_id, "self-assessment-pre", person.email, PRE_ANSWERS, DURING_PRE)
        submit(engine, cohort_id, "self-assessment-post", person.email, post_answers,
               DURING_FINAL)
    with db.transaction(engine) as session:
        (change,) = services.self_assessment_change(session, cohort_id, "self-assessment-post")
    assert change.paired and change.pre_survey == "self-assessment-pre"
    first = change.areas[0]
    assert (first.pre_n, first.post_n, first.paired_n) == (6, 6, 6)
    assert first.change == 2.0 and first.paired_change == 2.0


# --- paper answers --------------------------------------------------------------------------

def test_paper_answers_are_imported(engine, cohort_id):
    csv = ("new-tools;network;most-useful;recommend;leadership-change;submitted_on\n"
           "5;Delvis enig;1|3;8;Bedre møder;15-10-2025\n"
           "4;4;Buddyordningen;10;;\n")
    with db.transaction(engine) as session:
        assert services.import_responses(session, cohort_id, "final", csv.encode(),
                                         now=DURING_FINAL) == 2
    with db.transaction(engine) as session:
        rows = session.scalars(select(AnonymousResponse).order_by(
            AnonymousResponse.submitted_on)).all()
    assert [r.submitted_on for r in rows] == [date(2025, 10, 6), date(2025, 10, 15)]
    assert {r.source for r in rows} == {"paper"}
    assert sorted(r.answers["most-useful"] for r in rows) == [[1, 3], [4]]


def test_a_closed_surveys_paper_import_needs_k_answers_or_the_difference_would_show_them(
        engine, cohort_id):
    """Publication rule 5 shows a survey's figures once it closes: two answers imported
    afterwards would be the difference between a look before and a look after."""
    header = "new-tools;network;recommend\n"
    with pytest.raises(ResponseImportError) as caught, db.transaction(engine) as session:
        services.import_responses(session, cohort_id, "final", header + "5;4;8\n4;4;9\n",
                                  now=AFTER_FINAL)
    assert [e.code for e in caught.value.errors] == ["too_few_after_close"]
    assert "at least 5 answers (it has 2)" in str(caught.value.errors[0])
    assert count(engine, AnonymousResponse) == 0
    with db.transaction(engine) as session:  # five together are a group of their own
        assert services.import_responses(session, cohort_id, "final",
                                         header + "5;4;8\n" * 5, now=AFTER_FINAL) == 5
    # (While it is open nothing is shown, so two answers go in: test_paper_answers_are_imported.)


def test_bad_paper_answers_report_every_cell_and_store_nothing(engine, cohort_id):
    csv = ("new-tools;network;recommend;typo\n"
           "6;4;8;x\n"
           "4;maybe;11;\n")
    with pytest.raises(ResponseImportError) as caught, db.transaction(engine) as session:
        services.import_responses(session, cohort_id, "final", csv, now=DURING_FINAL)
    assert [str(e) for e in caught.value.errors] == [
        "row 1, column typo: no question 'typo' in survey 'final'; columns: new-tools, "
        "network, passed-on, staff-engagement, judge-technology, language, most-useful, "
        "recommend, leadership-change, change-next-time"]
    csv = "new-tools;network;recommend\n6;4;8\n4;maybe;11\n\n3;3;3\n"
    with pytest.raises(ResponseImportError) as caught, db.transaction(engine) as session:
        services.import_responses(session, cohort_id, "final", csv, now=DURING_FINAL)
    assert [str(e) for e in caught.value.errors] == [
        "row 2, column new-tools: '6' is not one of the choices (1-5 or a label)",
        "row 3, column network: 'maybe' is not one of the choices (1-5 or a label)",
        "row 3, column recommend: '11' is not one of the choices (0-10 or a label)"]
    assert count(engine, AnonymousResponse) == 0


def test_anonymous_import_refuses_identifying_columns(engine, cohort_id):
    csv = "email;new-tools\nleder00@example.org;5\n"
    with pytest.raises(ResponseImportError) as caught, db.transaction(engine) as session:
        services.import_responses(session, cohort_id, "final", csv, now=DURING_FINAL)
    assert str(caught.value.errors[0]).startswith("row 1, column email: this survey is "
                                                  "anonymous")


def test_identified_import_completes_invitations_and_checks_emails(engine, cohort_id):
    header = "email;competences.strategy;competences.ethics;prior-training\n"
    bad = header + "nobody@example.org;3;3;Ja\nleder00@example.org;3;9;Ja\n" \
                   "leder00@example.org;2;2;Nej\n"
    with pytest.raises(ResponseImportError) as caught, db.transaction(engine) as session:
        services.import_responses(session, cohort_id, "self-assessment-pre", bad,
                                  now=DURING_PRE)
    assert [str(e) for e in caught.value.errors] == [
        "row 3, column competences.ethics: '9' is not one of the choices (1-5 or a label)",
        "row 4, column email: 'leder00@example.org' is a duplicate (also in row 3)"]
    with pytest.raises(ResponseImportError) as caught, db.transaction(engine) as session:
        services.import_responses(session, cohort_id, "self-assessment-pre",
                                  header + "nobody@example.org;3;3;Ja\n", now=DURING_PRE)
    assert [str(e) for e in caught.value.errors] == [
        "row 2, column email: 'nobody@example.org' is not invited to this survey"]
    with db.transaction(engine) as session:
        services.import_responses(session, cohort_id, "self-assessment-pre",
                                  header + "LEDER00@example.org;3;I høj grad;Ja\n",
                                  now=DURING_PRE)
    with db.transaction(engine) as session:
        response = session.scalars(select(IdentifiedResponse)).one()
        assert response.answers == {"competences": {"strategy": 3, "ethics": 4},
                                    "prior-training": 1}
        pre = survey_id(engine, cohort_id, "self-assessment-pre")
        assert "leder00@example.org" not in {
            p.email for p in services.pending_reminder_recipients(session, pre)}
    with pytest.raises(services.AlreadyAnswered):
        submit(engine, cohort_id, "self-assessment-pre", "leder00@example.org", PRE_ANSWERS,
               DURING_PRE)


def test_unknown_survey_is_not_found(engine, cohort_id):
    with pytest.raises(services.NotFound, match="no survey 'finale'"), \
            db.transaction(engine) as session:
        services.get_survey(session, cohort_id, "finale")


def test_two_simultaneous_submits_store_one_answer(engine, cohort_id):
    """The second submit waits for the first one's lock, then finds the invitation taken."""
    target = invitation_id(engine, cohort_id, "final", "leder02@example.org")
    outcome: dict[str, object] = {}

    def second_submit():
        try:
            services.submit_response(engine, target, FINAL_ANSWERS, DURING_FINAL)
            outcome["second"] = "stored"
        except services.AlreadyAnswered:
            outcome["second"] = "already answered"

    with db.read_session(engine) as session:
        answering = services.surveys.answer_target(session, target)
    # The first submit's claim (the completed mark; its own transaction in the app), held open.
    with db.transaction(engine) as session:
        claimed = services.surveys._claim(session, answering, DURING_FINAL)
        thread = threading.Thread(target=second_submit)
        thread.start()
        thread.join(timeout=0.5)  # let it reach the locked UPDATE before this one commits
    thread.join(timeout=30)
    assert outcome == {"second": "already answered"}
    assert claimed  # ... which the first submit would now pool: the only answer
    assert received(engine) == 0
