"""The participant's page as designed for a phone: the "now / next" card, tasks grouped as due
soon, overdue and done with a progress count, a "done" button that is a real form (works
without JavaScript) and keeps the note, and a check-in refusal tied to the code field."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.models import Task, TaskStatus
from tests.fixtures.web import participant_client

CSRF = re.compile(r'name="([\w-]*csrf_token)" type="hidden" value="([^"]+)"')
DURING_KICKOFF = datetime(2025, 4, 8, 11, 30, tzinfo=UTC)  # the online kick-off runs
DURING_WORKSHOP = datetime(2025, 4, 17, 8, 0, tzinfo=UTC)  # in person, with a room code


@pytest.fixture
def database_url(sqlite_only_url):
    """Page behaviour, not storage (the services run on PostgreSQL in their own tests)."""
    return sqlite_only_url


@pytest.fixture
def client(web_app, first_participant):
    """Signed in as the first participant, who reads the page in English."""
    return participant_client(web_app, first_participant, language="en")


def section(html: str, section_id: str) -> str:
    return html.split(f'<section id="{section_id}"')[1].split("</section>")[0]


def released_tasks(app, moment: datetime) -> list[Task]:
    with db.transaction(app.extensions["cohort.engine"]) as session:
        return list(session.scalars(select(Task).where(Task.release_at <= moment)
                                    .order_by(Task.due_at, Task.id)))


def post_task(client, task_id: int, **fields: str) -> None:
    page = client.get("/me").get_data(as_text=True)
    data = {f"task-{task_id}-csrf_token": dict(CSRF.findall(page))[f"task-{task_id}-csrf_token"]}
    data.update({f"task-{task_id}-{name}": value for name, value in fields.items()})
    response = client.post(f"/me/tasks/{task_id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def status(app, task_id: int) -> TaskStatus | None:
    with db.transaction(app.extensions["cohort.engine"]) as session:
        return session.scalars(select(TaskStatus).where(TaskStatus.task_id == task_id)) \
            .one_or_none()


def test_tasks_are_grouped_with_a_progress_count_and_a_done_button(web_app, client):
    moment = DURING_WORKSHOP + timedelta(days=30)
    web_app.config["COHORT_NOW"] = moment
    tasks = released_tasks(web_app, moment)
    overdue = [t for t in tasks if t.due_at is not None and t.due_at < moment]
    due_soon = [t for t in tasks if t not in overdue]
    assert overdue and due_soon, "the fixture's programme should give both kinds"
    html = section(client.get("/me").get_data(as_text=True), "tasks")
    assert f"0 of {len(tasks)} done" in html
    assert f"Due soon ({len(due_soon)})" in html and f"Overdue ({len(overdue)})" in html
    assert "Done (" not in html
    # The "done" button is a real submit button in a form with its CSRF token; its name says
    # which task it is about.
    first = overdue[0]
    item = html.split(f'id="task-{first.id}"')[1].split("</li>")[0]
    toggle = item.split('class="task-toggle"')[1].split("</form>")[0]
    assert f'name="task-{first.id}-csrf_token"' in toggle
    assert f'name="task-{first.id}-done" value="1"' in toggle
    assert re.search(r'<button type="submit"[^>]*>.*Mark as done.*: '
                     + re.escape(first.title), toggle, re.S)
    # Overdue says so once: "Overdue: Wednesday, ...", not "Overdue: Due: Wednesday, ...".
    due = item.split('<p class="due">')[1].split("</p>")[0]
    assert due.startswith('<strong class="overdue-text">Overdue:</strong> ') and "Due" not in due
    due_line = html.split(f'id="task-{due_soon[0].id}"')[1].split('<p class="due">')[1]
    assert due_line.startswith("Due: ")
    # The note opens when needed: folded while empty.
    assert '<details class="note">' in item and "Add a note" in item

    post_task(client, first.id, note="Spørger teamet i morgen.")
    post_task(client, first.id, done="1")  # the button: the note stays
    assert status(web_app, first.id).done_at is not None
    assert status(web_app, first.id).note == "Spørger teamet i morgen."
    html = section(client.get("/me").get_data(as_text=True), "tasks")
    assert f"1 of {len(tasks)} done" in html
    assert f"Overdue ({len(overdue) - 1})" in html.replace("Overdue (0)", "")
    done = html.split('id="tasks-done"')[1].split("</details>")[0]
    assert f'id="task-{first.id}"' in done and "Mark as not done" in done
    assert "<details class=\"note\" open>" in done  # a note written is shown open

    post_task(client, first.id, note="Spurgte teamet.")  # the note: still done
    assert status(web_app, first.id).done_at is not None
    post_task(client, first.id, done="0")
    assert status(web_app, first.id).done_at is None
    assert status(web_app, first.id).note == "Spurgte teamet."


def test_a_post_with_neither_part_changes_nothing(web_app, client):
    moment = DURING_WORKSHOP
    web_app.config["COHORT_NOW"] = moment
    task = released_tasks(web_app, moment)[0]
    page = client.get("/me").get_data(as_text=True)
    token = dict(CSRF.findall(page))[f"task-{task.id}-csrf_token"]
    response = client.post(f"/me/tasks/{task.id}", data={f"task-{task.id}-csrf_token": token})
    assert response.status_code == 400 and status(web_app, task.id) is None


def test_the_now_card_has_the_running_meeting_its_join_link_and_its_check_in(web_app, client,
                                                                             cohort_id):
    web_app.config["COHORT_NOW"] = DURING_KICKOFF
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        services.get_meeting(session, cohort_id, "kickoff").online_url = \
            "https://meet.example/kick-off"
    html = client.get("/me").get_data(as_text=True)
    now = section(html, "now")
    cards = now.split("<li ")[1:]
    assert len(cards) >= 2
    running, upcoming = cards[0], cards[1]
    assert "Now" in running and "Kick-off-webinar" in running
    assert re.search(r'class="button primary big" href="https://meet.example/kick-off">'
                     r'Join the online meeting',
                     running)
    assert 'class="check-in"' in running and "Check in" in running
    assert "Next" in upcoming and "Kick-off-webinar" not in upcoming
    # The card comes before the tasks (first thing on a phone).
    assert html.index('id="now"') < html.index('id="tasks"')


def test_a_wrong_code_is_tied_to_the_code_field(web_app, client, cohort_id):
    web_app.config["COHORT_NOW"] = DURING_WORKSHOP
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        workshop = services.get_meeting(session, cohort_id, "workshop-1")
        code = services.check_in_code(session, cohort_id, "workshop-1")
    page = client.get("/me").get_data(as_text=True)
    field = f"checkin-{workshop.id}-code"
    assert 'aria-invalid' not in page.split(f'id="{field}"')[1].split(">")[0]
    response = client.post(f"/me/meetings/{workshop.id}/check-in", data={
        f"checkin-{workshop.id}-csrf_token": dict(CSRF.findall(page))[
            f"checkin-{workshop.id}-csrf_token"],
        field: "AAAAAA" if code != "AAAAAA" else "CCCCCC"})
    assert response.status_code == 302
    page = client.get("/me").get_data(as_text=True)
    tag = re.search(rf'<input[^>]*id="{field}"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in tag
    assert f'aria-describedby="{field}-hint {field}-error"' in tag
    error = re.search(rf'<p class="error" role="alert" id="{field}-error">([^<]+)</p>', page)
    assert error and "That is not the code shown in the room." in error.group(1)
    # Said once, at the field (not a second time at the top of the page).
    assert page.count("That is not the code shown in the room.") == 1
    # The next visit starts clean.
    assert "aria-invalid" not in client.get("/me").get_data(as_text=True)
