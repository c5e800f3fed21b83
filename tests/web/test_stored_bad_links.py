"""Links stored before links were checked: calendars, emails and pages never carry them.

A meeting's online link with a line break broke every calendar download, personal feed and
meeting email of its cohort (a 500), and a `javascript:` link was shown to participants. Input
is checked now (core/links.py); rows written before keep their text, but read as no link
(models/types.py WebLinkString). The rows here are written with SQL, past every check.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from cohort import db, services
from cohort.core.calendars import Person
from cohort.mail.compose import meeting_attachment
from cohort.models import Meeting
from tests.fixtures.web import participant_client, staff_client

INJECTED = "https://meet.example/x\r\nATTENDEE:mailto:evil@evil.example\r\nX-EVIL:1"
BAD_LINKS = {
    "line-break": INJECTED,
    "javascript": "javascript:alert(document.cookie)",
    "data": "data:text/html,<script>alert(1)</script>",
    "space": "https://meet.example/a b",
}


def _store(engine, cohort_id: int, column: str, value: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE meeting SET {column} = :value "
                                "WHERE cohort_id = :cohort"), {"value": value,
                                                                "cohort": cohort_id})


@pytest.mark.parametrize("column", ["online_url", "override_online_url"])
@pytest.mark.parametrize("case", sorted(BAD_LINKS))
def test_a_stored_bad_link_reaches_no_calendar_page_or_email(
        web_app, engine_of_app, staff, cohort_id, first_participant, column, case):
    _store(engine_of_app, cohort_id, column, BAD_LINKS[case])
    client = staff_client(web_app, staff.owner)
    download = client.get(f"/cohorts/{cohort_id}/calendar.ics")
    assert download.status_code == 200
    assert b"X-EVIL" not in download.data and b"javascript:" not in download.data
    assert b"evil.example" not in download.data
    for page in (f"/cohorts/{cohort_id}", f"/cohorts/{cohort_id}/meetings/"):
        response = client.get(page)
        assert response.status_code in (200, 404), page
        assert b"javascript:alert" not in response.data and b"X-EVIL" not in response.data
    participant = participant_client(web_app, first_participant)
    page = participant.get("/me")
    assert page.status_code == 200 and b"javascript:alert" not in page.data
    with web_app.app_context(), db.transaction(engine_of_app) as session:
        meeting = session.scalars(select(Meeting).where(Meeting.cohort_id == cohort_id)).first()
        assert meeting.online_url is None and meeting.override_online_url is None
        invitation = services.meeting_invitation(
            session, cohort_id, meeting.key, first_participant.email,
            Person("owner@cohort.example", "Olga Owner"))
        attachment = meeting_attachment(invitation, Person(first_participant.email,
                                                           first_participant.name))
    assert b"X-EVIL" not in attachment.ics and b"javascript:" not in attachment.ics


def test_a_good_stored_link_is_read_as_it_is(web_app, engine_of_app, cohort_id):
    _store(engine_of_app, cohort_id, "online_url", "https://meet.example/room?id=1")
    with db.transaction(engine_of_app) as session:
        meeting = session.scalars(select(Meeting).where(Meeting.cohort_id == cohort_id)).first()
        assert meeting.online_url == "https://meet.example/room?id=1"
    with engine_of_app.connect() as connection:  # the stored text itself is untouched
        assert connection.scalar(text("SELECT count(*) FROM meeting WHERE online_url = :v"),
                                 {"v": "https://meet.example/room?id=1"}) > 0
