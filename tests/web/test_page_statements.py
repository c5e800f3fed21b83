"""The cohort overview and the participant page read a fixed number of SQL statements,
however big the cohort and however much its people have done: the figures are counted in the
database and the rows a page lists are read in one statement per kind, never one per row
(issue 24: at 100 cohorts and 5,000 people a query per row is what made pages slow).

Each test counts the statements of one view, grows the cohort through the services (more
people, marks at several meetings, groups, tasks done, answers), and counts again: a loop of
queries per participant, meeting, task or group would add statements the second time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.core.attendance import Mark
from cohort.core.participants import ParticipantRow
from cohort.models import Cohort, Participant, Prompt, Task
from tests.fixtures.statements import recorded_statements
from tests.fixtures.web import (
    PEOPLE,
    participant_client,
    staff_client,
)

# After the second workshop of the cohort that starts on 8 April 2025 (tests/fixtures/web.py):
# meetings held, tasks released and due, prompts sent, surveys open and closed.
LATER = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
HELD = ("kickoff", "webinar-1", "workshop-1")

# The most statements each page may read. The overview reads the user, then in one statement
# whether the cohort exists, its revision and the user's link to it (the Staff tab reuses it);
# the cohort, meetings, participants, groups (2), upcoming emails and the titles of what they
# are about (the table named them by raw keys, `task:questions@kickoff`), failed emails (2),
# attendance (2), response rates, the activity and, in one statement, the next pending email
# to enter the window and the next survey to open (its turning point: core/turning_points.py).
# (A view of an unchanged cohort reads only the first two: tests/web/test_page_cache.py.)
OVERVIEW_MOST = 16
# /me reads its access check (the participant, their link and the link's end, and the cohort's
# revision: one statement, re-used by the page), the cohort's title, time zone and programme
# digest (not its row), the meetings with their room codes and the participant's attendance,
# the tasks with the participant's states and buddy check-ins, the prompts with their answers,
# their groups with the members (the buddy pairs come from them), the surveys, the calendar
# feed, the announcements (one statement with their outbox rows; it was two) and materials.
# It was 23 (the access check and the link's re-check read the participant twice, the link,
# the cohort and the link's end), then 20 (tasks, prompts, attendance and codes each apart
# from the participant's own rows; the buddy check-ins reading the pairs, names, rounds and
# answers again). A view of an unchanged cohort reads neither the cohort's title nor the
# materials (tests/web/test_participant_page_cache.py); here every view follows a write.
# Since buddy rounds keep their pairs, one more: the buddy each frozen round paired them with
# (frozen_rounds.frozen_partners), so an old round names the buddy they had then.
ME_MOST = 11


@pytest.fixture
def database_url(sqlite_only_url):
    """Statement counts, not storage: the services' queries run on PostgreSQL elsewhere."""
    return sqlite_only_url


@pytest.fixture
def later(web_app):
    web_app.config["COHORT_NOW"] = LATER
    return LATER


def statements_of(web_app, client, path: str) -> list[str]:
    with recorded_statements(web_app.extensions["cohort.engine"]) as seen:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return seen


def grow(engine, cohort_id: int, more: int = 12) -> None:
    """More people, a mark for everyone at the meetings held, groups formed."""
    with db.transaction(engine) as session:
        cohort = session.get(Cohort, cohort_id)
        services.add_participants(session, cohort, [
            ParticipantRow(f"Person {n}", f"person{n}@example.org", f"Kommune {n % 4}",
                           "Leder") for n in range(more)], now=LATER)
    with db.transaction(engine) as session:
        people = session.scalars(select(Participant.id)
                                 .where(Participant.cohort_id == cohort_id)).all()
        for number, key in enumerate(HELD):
            services.set_marks(session, cohort_id, key, {
                pid: Mark("present" if (pid + number) % 3 else "absent") for pid in people},
                recorded_by="test", now=LATER)
        services.plan_groups(session, cohort_id)


def test_the_overview_reads_the_same_statements_for_a_bigger_cohort(
        web_app, engine_of_app, staff, cohort_id, later):
    client = staff_client(web_app, staff.owner)
    path = f"/cohorts/{cohort_id}"
    small = statements_of(web_app, client, path)
    grow(engine_of_app, cohort_id)
    big = statements_of(web_app, client, path)
    page = client.get(path).get_data(as_text=True)
    assert f"({len(PEOPLE) + 12})" in page  # the heading counts the bigger cohort
    assert len(big) == len(small) <= OVERVIEW_MOST, "\n".join(big)
    assert not [s for s in big if s.lstrip().split(None, 1)[0].upper()
                in {"INSERT", "UPDATE", "DELETE"}]  # a GET writes nothing


def test_me_reads_the_same_statements_whatever_the_participant_has_done(
        web_app, engine_of_app, first_participant, cohort_id, later):
    client = participant_client(web_app, first_participant)
    client.get("/me")  # the first view makes the calendar feed (a write, once)
    small = statements_of(web_app, client, "/me")
    grow(engine_of_app, cohort_id)
    with db.transaction(engine_of_app) as session:
        me = session.get(Participant, first_participant.id)
        for task in session.scalars(select(Task).where(Task.cohort_id == cohort_id,
                                                       Task.release_at <= LATER)):
            services.set_task_status(session, me, task.id, done=True, note="Gjort.", now=LATER)
        for prompt in session.scalars(select(Prompt).where(Prompt.cohort_id == cohort_id,
                                                           Prompt.send_at <= LATER)):
            services.answer_prompt(session, me, prompt.id, "Et svar.", LATER)
    big = statements_of(web_app, client, "/me")
    page = client.get("/me").get_data(as_text=True)
    assert "Gjort." in page and "Et svar." in page
    assert len(big) == len(small) <= ME_MOST, "\n".join(big)
    assert not [s for s in big if s.lstrip().split(None, 1)[0].upper()
                in {"INSERT", "UPDATE", "DELETE"}]
