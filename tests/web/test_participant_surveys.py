"""Answering surveys from the participant's page (Flask test client, SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.models import (
    AnonymousAnswerPool,
    AnonymousResponse,
    IdentifiedResponse,
    Invitation,
    Participant,
    Survey,
)
from tests.fixtures.web import COHORT_START, WEB_NOW, participant_client

# The final survey and the post self-assessment are open from 3 to 24 October 2025.
AFTER_THE_LAST_MEETING = datetime(2025, 10, 6, 9, 0, tzinfo=UTC)
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
FINAL_ANSWERS = {
    "q-new-tools": "4", "q-network": "5", "q-passed-on": "4", "q-staff-engagement": "3",
    "q-judge-technology": "4", "q-language": "4", "q-most-useful": ["1", "3"],
    "q-recommend": "9", "q-leadership-change": "Jeg inddrager medarbejderne tidligere.",
}


def engine(app):
    return app.extensions["cohort.engine"]


def survey_id(app, cohort_id: int, key: str) -> int:
    with db.transaction(engine(app)) as session:
        return services.get_survey(session, cohort_id, key).id


def as_english(app, participant: Participant) -> None:
    """UI texts are checked in English (the source language), Danish elsewhere by structure."""
    with db.transaction(engine(app)) as session:
        session.get(Participant, participant.id).language = "en"


def csrf(client, url: str) -> str:
    return CSRF.search(client.get(url).get_data(as_text=True)).group(1)


def stored(app, model, survey: int) -> int:
    with db.transaction(engine(app)) as session:
        return session.scalar(select(func.count()).select_from(model)
                              .where(model.survey_id == survey))


def received(app, survey: int) -> int:
    """Anonymous answers stored or waiting in the pool."""
    return stored(app, AnonymousResponse, survey) + stored(app, AnonymousAnswerPool, survey)


@pytest.fixture
def client(web_app, cohort_id, first_participant):
    web_app.config["COHORT_NOW"] = AFTER_THE_LAST_MEETING
    return participant_client(web_app, first_participant)


def test_final_survey_is_answered_once(web_app, cohort_id, first_participant, client):
    final = survey_id(web_app, cohort_id, "final")
    url = f"/me/surveys/{final}"
    page = client.get("/me").get_data(as_text=True)
    assert f'href="{url}"' in page  # reached from the participant's page
    html = client.get(url).get_data(as_text=True)
    assert '<html lang="da">' in html
    assert "Tak for et godt forløb." in html  # the survey's own introduction
    # Anonymity is stated before the first question.
    assert html.index('class="privacy anonymous"') < html.index('id="q-new-tools-group"')
    response = client.post(url, data={"csrf_token": csrf(client, url), **FINAL_ANSWERS})
    assert response.status_code == 302 and response.headers["Location"] == url
    # One answer waits in the pool: results get it once k answers wait or the survey closes.
    assert stored(web_app, AnonymousResponse, final) == 0
    assert stored(web_app, AnonymousAnswerPool, final) == 1
    with db.transaction(engine(web_app)) as session:
        answers = session.scalars(select(AnonymousAnswerPool.answers)).one()
        assert services.has_answered(session, final, first_participant.id)
    assert answers["most-useful"] == [1, 3] and answers["recommend"] == 9
    done = client.get(url)
    assert done.status_code == 200 and 'id="survey-state"' in done.get_data(as_text=True)
    assert "<form method=\"post\" class=\"survey\"" not in done.get_data(as_text=True)
    again = client.post(url, data={"csrf_token": csrf(client, "/me"), **FINAL_ANSWERS})
    assert again.status_code == 409 and 'id="survey-state"' in again.get_data(as_text=True)
    assert stored(web_app, AnonymousAnswerPool, final) == 1
    as_english(web_app, first_participant)
    assert "You have already answered this survey." in client.get(url).get_data(as_text=True)
    assert "Answered. Thank you!" in client.get("/me").get_data(as_text=True)


def test_invalid_answers_come_back_with_errors_and_nothing_is_stored(
        web_app, cohort_id, first_participant, client):
    as_english(web_app, first_participant)
    final = survey_id(web_app, cohort_id, "final")
    url = f"/me/surveys/{final}"
    partial = {k: v for k, v in FINAL_ANSWERS.items() if k != "q-network"}
    partial["q-most-useful"] = ["1", "2", "3", "4"]  # "choose at most three"
    response = client.post(url, data={"csrf_token": csrf(client, url), **partial})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="survey-errors"' in html and 'role="alert"' in html
    assert ('id="q-network-group" aria-describedby="q-network-errors" aria-invalid="true"'
            in html)
    network = html.split('id="q-network-group"')[1].split("</fieldset>")[0]
    assert "Please answer this question." in network
    assert "Choose at most 3 options." in html
    assert '<input checked id="q-new-tools-3"' in html  # what was answered is kept
    assert received(web_app, final) == 0
    with db.transaction(engine(web_app)) as session:
        assert not services.has_answered(session, final, first_participant.id)


def test_identified_survey_says_so_before_answering(web_app, cohort_id, first_participant,
                                                    client):
    as_english(web_app, first_participant)
    post = survey_id(web_app, cohort_id, "self-assessment-post")
    url = f"/me/surveys/{post}"
    html = client.get(url).get_data(as_text=True)
    assert html.index('class="privacy identified"') < html.index('id="q-competences-group"')
    assert "Your answers are not anonymous" in html
    areas = ("judge-technology", "strategy", "change", "staff-competences", "citizen",
             "implementation", "ethics", "collaboration", "awareness")
    data = {f"q-competences.{area}": str(1 + i % 5) for i, area in enumerate(areas)}
    response = client.post(url, data={"csrf_token": csrf(client, url), **data})
    assert response.status_code == 302
    with db.transaction(engine(web_app)) as session:
        row = session.scalars(select(IdentifiedResponse)).one()
    assert row.participant_id == first_participant.id and row.answers["competences"]["change"] == 3


def test_surveys_not_open_yet_or_closed_say_so(web_app, cohort_id, first_participant, client):
    as_english(web_app, first_participant)
    final = survey_id(web_app, cohort_id, "final")
    kickoff = survey_id(web_app, cohort_id, "meeting-evaluation@kickoff")
    token = csrf(client, "/me")
    closed = client.get(f"/me/surveys/{kickoff}").get_data(as_text=True)
    assert "This survey is closed." in closed and 'class="survey"' not in closed
    assert '<p class="meta">Kick-off-webinar</p>' in closed  # which meeting it evaluates
    response = client.post(f"/me/surveys/{kickoff}", data={"csrf_token": token, "q-relevant": "5"})
    assert response.status_code == 409 and "This survey is closed." in response.get_data(
        as_text=True)
    web_app.config["COHORT_NOW"] = WEB_NOW  # March: before the programme starts
    early = client.get(f"/me/surveys/{final}").get_data(as_text=True)
    assert "This survey is not open yet." in early and 'class="survey"' not in early
    assert "Your answers are anonymous" in early  # known before it opens
    response = client.post(f"/me/surveys/{final}", data={"csrf_token": token, **FINAL_ANSWERS})
    assert response.status_code == 409
    assert received(web_app, final) == 0
    assert received(web_app, kickoff) == 0


def test_surveys_of_other_cohorts_or_without_an_invitation_are_404(
        web_app, cohort_id, first_participant, client, make_cohort):
    other = make_cohort(engine(web_app), people=[ParticipantRow("Eva", "eva@x.example")],
                        start=COHORT_START, title="Hold 2", now=WEB_NOW).id
    foreign = survey_id(web_app, other, "final")
    own = survey_id(web_app, cohort_id, "self-assessment-post")
    with db.transaction(engine(web_app)) as session:
        session.execute(delete(Invitation).where(Invitation.survey_id == own,
                                                 Invitation.participant_id == first_participant.id))
    token = csrf(client, "/me")
    for survey in (foreign, own, 999999):
        assert client.get(f"/me/surveys/{survey}").status_code == 404
        response = client.post(f"/me/surveys/{survey}",
                               data={"csrf_token": token, **FINAL_ANSWERS})
        assert response.status_code == 404
    assert received(web_app, foreign) == 0
    with db.transaction(engine(web_app)) as session:
        assert session.scalar(select(func.count()).select_from(Survey)) > 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_personal_link_continues_to_a_participant_page_only(web_app, cohort_id,
                                                            first_participant):
    web_app.config["COHORT_NOW"] = AFTER_THE_LAST_MEETING
    final = survey_id(web_app, cohort_id, "final")
    with db.transaction(engine(web_app)) as session:
        token = services.personal_token(session, first_participant.id, "test",
                                        AFTER_THE_LAST_MEETING)

    def continue_to(next_value: str) -> str:
        client = web_app.test_client()
        page = client.get(f"/p/{token}", query_string={"next": next_value})
        assert page.status_code == 200
        response = client.post(f"/p/{token}", data={"csrf_token": CSRF.search(
            page.get_data(as_text=True)).group(1), "next": next_value})
        assert response.status_code == 302
        return response.headers["Location"]

    client = web_app.test_client()
    html = client.get(f"/p/{token}?next=%2Fme%2Fsurveys%2F{final}").get_data(as_text=True)
    assert f'id="continue-next" name="next" type="hidden" value="/me/surveys/{final}"' in html
    assert continue_to(f"/me/surveys/{final}") == f"/me/surveys/{final}"
    assert continue_to("/me") == "/me"
    for crafted in ("https://evil.example/me", "//evil.example/me", "/\\evil.example",
                    "/\t/evil.example", "///evil.example", "/cohorts/1", "/dashboard",
                    "/me/surveys/abc", "/me/logout", f"/me/surveys/{final}?x=1",
                    f"/me/surveys/{final}#x", "javascript:alert(1)", "/%2F%2Fevil.example",
                    "/me/" + "a" * 300, ""):
        assert continue_to(crafted) == "/me", crafted


ANONYMOUS = {
    "en": "Your answer is anonymous: nobody can see that it was you, and results are shown "
          "only for groups of at least 5.",
    "da": "Dit svar er anonymt: ingen kan se, at det var dig, og resultater vises kun for "
          "grupper på mindst 5.",
}
IDENTIFIED = {
    "en": "Your answer is saved with your name: the course's evaluators can see that it is "
          "yours, and its facilitators see only results for groups of at least 5.",
    "da": "Dit svar gemmes med dit navn: forløbets evaluatorer kan se, at det er dit, og "
          "facilitatorerne ser kun resultater for grupper på mindst 5.",
}
REFLECTION = {
    "en": "Your answer is sent with your name to the course's facilitators, who use it to "
          "prepare the next meeting.",
    "da": "Dit svar sendes med dit navn til forløbets facilitatorer, som bruger det til at "
          "forberede næste møde.",
}
TASK_NOTE = {
    "en": "Your note is sent with your name to the course's facilitators, who use it to "
          "prepare the next meeting.",
    "da": "Din note sendes med dit navn til forløbets facilitatorer, som bruger den til at "
          "forberede næste møde.",
}


@pytest.mark.parametrize("language", ["da", "en"])
def test_every_form_says_who_sees_the_answer(web_app, cohort_id, first_participant, client,
                                             language):
    """One sentence, once per survey (not at every question), on who sees the answer and
    whether with the name; and on the reflection and task forms, that the answer goes to the
    facilitators by name (the digest)."""
    if language == "en":
        as_english(web_app, first_participant)
    final = client.get(f"/me/surveys/{survey_id(web_app, cohort_id, 'final')}")
    html = final.get_data(as_text=True)
    assert html.count(ANONYMOUS[language]) == 1
    assert html.index(ANONYMOUS[language]) < html.index('id="q-new-tools-group"')
    post = client.get(f"/me/surveys/{survey_id(web_app, cohort_id, 'self-assessment-post')}")
    html = post.get_data(as_text=True)
    assert html.count(IDENTIFIED[language]) == 1 and ANONYMOUS[language] not in html
    page = client.get("/me").get_data(as_text=True)
    forms = page.count('action="/me/prompts/')
    assert forms > 0 and page.count(REFLECTION[language]) == forms
    notes = page.count('class="task-note" action="/me/tasks/')  # not the "done" buttons
    assert notes > 0 and page.count(TASK_NOTE[language]) == notes
