"""What /me shows every participant of a cohort alike is kept per cohort revision and language
(web/page_cache.py): the cohort's title, time zone and programme, and, until the next meeting
ends (tests/web/test_turning_points.py), the list of meetings with their materials. The
revision is read by the participant's access check, so a write from any process shows on the
next view; the rest of the page (tasks, answers, attendance, groups, CSRF tokens) is read and
rendered for each request."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from cohort import db, services
from cohort.models import Participant
from tests.fixtures.statements import recorded_statements
from tests.fixtures.web import participant_client, sign_in_participant


def view(web_app, client) -> tuple[list[str], str]:
    with recorded_statements(web_app.extensions["cohort.engine"]) as seen:
        response = client.get("/me")
    assert response.status_code == 200
    return seen, response.get_data(as_text=True)


def meetings_section(page: str) -> str:
    return page.split('<section id="meetings"')[1].split('<div id="calendar"')[0]


def kept(statements: list[str]) -> list[str]:
    """The statements of what is kept: the cohort's title and digest, the materials."""
    return [s for s in statements if "cohort.title" in s or "meeting_material" in s]


def test_a_repeat_view_reads_only_what_is_per_person(web_app, first_participant):
    client = participant_client(web_app, first_participant)
    client.get("/me")  # the first view makes the calendar feed (a write: a new revision)
    first, page = view(web_app, client)
    again, same = view(web_app, client)
    assert len(kept(first)) == 2 and kept(again) == []
    assert len(again) == len(first) - 2
    assert "cohort_revision" in again[0]  # read by the access check, before anything else
    assert meetings_section(same) == meetings_section(page)


def test_writes_from_anywhere_show_on_the_next_view(web_app, first_participant, database_url,
                                                    cohort_id):
    """A second engine stands for another worker, the CLI or psql."""
    client = participant_client(web_app, first_participant)
    client.get("/me")
    page = view(web_app, client)[1]
    assert "Hold 1" in page and "Kickoff renamed" not in page
    elsewhere = db.make_engine(database_url)
    try:
        with elsewhere.begin() as connection:
            connection.execute(text("UPDATE meeting SET title = 'Kickoff renamed' "
                                    "WHERE cohort_id = :id AND key = 'kickoff'"),
                               {"id": cohort_id})
            connection.execute(text("UPDATE cohort SET title = 'Hold 1 renamed' "
                                    "WHERE id = :id"), {"id": cohort_id})
        page = view(web_app, client)[1]
        assert "Kickoff renamed" in meetings_section(page)
        assert "<p>Hold 1 renamed</p>" in page and "<title>Hold 1 renamed" in page
        assert "Slides for the kick-off" not in page
        with db.transaction(elsewhere) as session:
            services.materials.add_link(session, cohort_id, "kickoff", "Slides for the kick-off",
                                        "https://example.org/slides", False, None,
                                        now=web_app.config["COHORT_NOW"])
        statements, page = view(web_app, client)
        assert "Slides for the kick-off" in meetings_section(page)
        assert len(kept(statements)) == 2  # read again for the new revision
    finally:
        elsewhere.dispose()


def test_the_clock_and_each_language_have_their_own_copy(web_app, engine_of_app,
                                                          first_participant, cohort_id):
    """Two participants of one cohort read it in their own languages; once a meeting has
    ended it leaves the list."""
    with db.transaction(engine_of_app) as session:
        other = session.get(Participant, first_participant.id + 1)
        other.language = "en"
        session.flush()
        session.expunge(other)
    danish, english = web_app.test_client(), web_app.test_client()
    sign_in_participant(danish, first_participant)
    sign_in_participant(english, other)
    for client in (danish, english):
        client.get("/me")
    in_danish = meetings_section(view(web_app, danish)[1])
    in_english = meetings_section(view(web_app, english)[1])
    assert "Mine næste møder" in in_danish and "My next meetings" in in_english
    assert "Mine næste møder" in meetings_section(view(web_app, danish)[1])
    with db.read_session(engine_of_app) as session:
        kickoff = min(services.participant_page(session, session.get(
            Participant, first_participant.id), web_app.config["COHORT_NOW"]).meetings,
            key=lambda m: m.starts_at)
    assert 'id="meeting-kickoff"' in in_english
    web_app.config["COHORT_NOW"] = kickoff.ends_at + timedelta(seconds=30)
    assert 'id="meeting-kickoff"' not in meetings_section(view(web_app, english)[1])
