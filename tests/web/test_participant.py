"""The personal link and the participant's page over real HTTP (Flask's test client)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import SQLModel

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.models import (
    Group,
    GroupMember,
    Participant,
    ParticipantLink,
    Prompt,
    PromptAnswer,
    Task,
    TaskStatus,
)

PEOPLE = [ParticipantRow("Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da"),
          ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune", "Leder", "nb")]
CSRF = re.compile(r'name="([\w-]*csrf_token)" type="hidden" value="([^"]+)"')


def participant(app, email: str) -> Participant:
    with db.transaction(app.extensions["cohort.engine"]) as session:
        return session.scalars(select(Participant).where(Participant.email == email)).one()


def token_for(app, email: str) -> str:
    with db.transaction(app.extensions["cohort.engine"]) as session:
        return services.personal_token(session, participant(app, email).id, "test",
                                       datetime.now(UTC))


def csrf(html: str, prefix: str = "") -> dict:
    fields = dict(CSRF.findall(html))
    name = f"{prefix}csrf_token"
    return {name: fields[name]}


def log_in(client, token: str):
    page = client.get(f"/p/{token}")
    assert page.status_code == 200
    return client.post(f"/p/{token}", data=csrf(page.get_data(as_text=True)))


@pytest.fixture
def running(app, make_cohort):
    """A cohort that started 40 days ago: tasks and prompts released, meetings ahead."""
    make_cohort(app.extensions["cohort.engine"], people=PEOPLE,
                start=date.today() - timedelta(days=40), now=datetime.now(UTC) - timedelta(days=60))
    return app


def test_get_and_head_show_a_button_but_do_not_log_in(running, client):
    token = token_for(running, "soren@vejle.example")
    for method in (client.get, client.head):
        response = method(f"/p/{token}")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    html = client.get(f"/p/{token}").get_data(as_text=True)
    assert '<html lang="da">' in html and 'type="submit"' in html and "Søren" in html
    with client.session_transaction() as session:
        assert "participant_link_id" not in session
    assert client.get("/me").status_code == 403
    assert client.get(f"/p/{token}").status_code == 200  # still usable: nothing consumed


def test_post_logs_in_and_redirects_to_a_url_without_the_token(running, client):
    token = token_for(running, "soren@vejle.example")
    assert client.post(f"/p/{token}").status_code == 400  # no CSRF token
    response = log_in(client, token)
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    page = client.get("/me")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert token not in html
    assert "Søren Ærenlund" in html and "Vælg din case" in html


def test_revoked_expired_and_unknown_tokens_are_404(running, client, make_cohort):
    token = token_for(running, "soren@vejle.example")
    log_in(client, token)
    with db.transaction(running.extensions["cohort.engine"]) as session:
        new_link = services.revoke_links(session, participant(running, "soren@vejle.example").id,
                                         "test", datetime.now(UTC))
    assert client.get(f"/p/{token}").status_code == 404
    assert client.post(f"/p/{token}").status_code in (400, 404)
    assert client.get("/me").status_code == 403  # the session went with the link
    fresh = token_for(running, "soren@vejle.example")
    assert fresh != token and new_link is not None
    assert log_in(client, fresh).status_code == 302
    assert client.get("/p/" + "A" * 43).status_code == 404
    assert client.get("/p/x").status_code == 404
    make_cohort(running.extensions["cohort.engine"],
                people=[ParticipantRow("Old Timer", "old@x.example", "X", "Leder", "en")],
                start=date(2020, 1, 7), now=datetime.now(UTC) - timedelta(days=60))
    assert client.get(f"/p/{token_for(running, 'old@x.example')}").status_code == 404


def test_the_token_is_never_stored_in_clear_text(running, database_url):
    token = token_for(running, "soren@vejle.example")
    engine = running.extensions["cohort.engine"]
    with engine.connect() as conn:
        dump = "\n".join(str(row) for table in SQLModel.metadata.sorted_tables
                         for row in conn.execute(text(f'SELECT * FROM "{table.name}"')))
    assert token not in dump
    with db.transaction(engine) as session:
        link = session.scalars(select(ParticipantLink)).first()
    assert len(link.token_hash) == 64 and token not in (link.nonce, link.token_hash)
    if database_url.startswith("sqlite:///"):
        files = Path(database_url.removeprefix("sqlite:///")).parent.glob("cohort.sqlite3*")
        assert all(token.encode() not in f.read_bytes() for f in files)


def test_tasks_and_prompts_are_saved_and_feed_the_digest(running, client):
    log_in(client, token_for(running, "soren@vejle.example"))
    engine = running.extensions["cohort.engine"]
    with db.transaction(engine) as session:
        task = session.scalars(select(Task).where(Task.key == "questions@kickoff")).one()
        prompt = session.scalars(select(Prompt).where(
            Prompt.key == "after-meeting@workshop-1")).one()
        upcoming = session.scalars(select(Task).where(Task.release_at > datetime.now(UTC))
                                   .order_by(Task.release_at)).first()
    html = client.get("/me").get_data(as_text=True)
    response = client.post(f"/me/tasks/{task.id}", data={
        **csrf(html, f"task-{task.id}-"), f"task-{task.id}-done": "y",
        f"task-{task.id}-note": "Hvordan får vi medarbejderne med?"})
    assert response.status_code == 302
    response = client.post(f"/me/prompts/{prompt.id}", data={
        **csrf(html, f"prompt-{prompt.id}-"),
        f"prompt-{prompt.id}-answer": "At afprøve teknologiradaren med teamet."})
    assert response.status_code == 302
    page = client.get("/me").get_data(as_text=True)
    assert "At afprøve teknologiradaren med teamet." in page
    assert "Hvordan får vi medarbejderne med?" in page
    with db.transaction(engine) as session:
        status = session.scalars(select(TaskStatus)).one()
        assert status.done_at is not None
        now = datetime.now(UTC)
        upcoming_meeting = services.next_meeting_key(session, task.cohort_id, now)
        digest = services.facilitator_digest(session, task.cohort_id, upcoming_meeting, now)
    texts = {c.text for s in digest.sections for c in s.contributions}
    assert "At afprøve teknologiradaren med teamet." in texts
    # Not yet released: as if it did not exist.
    response = client.post(f"/me/tasks/{upcoming.id}", data={
        **csrf(html, f"task-{task.id}-"), f"task-{upcoming.id}-done": "y"})
    assert response.status_code in (400, 404)


def test_ids_from_another_cohort_are_404(running, client, make_cohort):
    other = make_cohort(running.extensions["cohort.engine"],
                        people=[ParticipantRow("Eva", "eva@x.example", "X", "Leder", "da")],
                        start=date.today() - timedelta(days=40),
                        now=datetime.now(UTC) - timedelta(days=60)).id
    with db.transaction(running.extensions["cohort.engine"]) as session:
        foreign_task = session.scalars(select(Task).where(
            Task.cohort_id == other, Task.key == "questions@kickoff")).one()
        foreign_prompt = session.scalars(select(Prompt).where(
            Prompt.cohort_id == other, Prompt.key == "after-meeting@kickoff")).one()
    log_in(client, token_for(running, "soren@vejle.example"))
    html = client.get("/me").get_data(as_text=True)
    token = next(iter(csrf(html, "").values())) if "csrf_token" in html else ""
    task_data = {f"task-{foreign_task.id}-csrf_token": token,
                 f"task-{foreign_task.id}-done": "y"}
    assert client.post(f"/me/tasks/{foreign_task.id}", data=task_data).status_code == 404
    prompt_data = {f"prompt-{foreign_prompt.id}-csrf_token": token,
                   f"prompt-{foreign_prompt.id}-answer": "x"}
    assert client.post(f"/me/prompts/{foreign_prompt.id}", data=prompt_data).status_code == 404
    assert client.post("/me/tasks/999999", data=task_data).status_code in (400, 404)
    with db.transaction(running.extensions["cohort.engine"]) as session:
        assert session.scalars(select(TaskStatus)).all() == []


def test_buddy_surveys_language_and_logout(running, client):
    soren, kari = (participant(running, e) for e in ("soren@vejle.example",
                                                     "kari@bergen.example"))
    with db.transaction(running.extensions["cohort.engine"]) as session:
        group = Group(cohort_id=soren.cohort_id, grouping_key="buddies", number=1)
        session.add(group)
        session.flush()
        session.add_all([GroupMember(group_id=group.id, participant_id=soren.id),
                         GroupMember(group_id=group.id, participant_id=kari.id)])
    log_in(client, token_for(running, "kari@bergen.example"))
    html = client.get("/me").get_data(as_text=True)
    assert '<html lang="nb">' in html
    assert "Buddyordning" in html and "soren@vejle.example" in html
    assert "kari@bergen.example" not in html.split('id="groups"')[1].split("</section>")[0]
    assert "Evaluering af mødet" in html
    response = client.post("/me/logout", data=csrf(html, ""))
    assert response.status_code == 200
    # Said in the page's language (Norwegian), not the browser's (here none: Danish).
    assert '<html lang="nb">' in response.get_data(as_text=True)
    assert client.get("/me").status_code == 403


def switch_language(client, html: str, language: str, back: str):
    return client.post("/language", data={**csrf(html), "language": language, "next": back})


def test_the_language_switcher_changes_the_participants_pages(running, client):
    """A participant reads their pages in the language they pick in the header (kept in their
    session); their emails keep the language the facilitator set."""
    token = token_for(running, "kari@bergen.example")
    log_in(client, token)
    html = client.get("/me").get_data(as_text=True)
    assert '<html lang="nb">' in html
    assert switch_language(client, html, "en", "/me").headers["Location"] == "/me"
    html = client.get("/me").get_data(as_text=True)
    assert '<html lang="en">' in html and "My tasks" in html
    assert '<option value="en" lang="en" selected>' in html
    with db.transaction(running.extensions["cohort.engine"]) as session:
        task = session.scalars(select(Task).where(Task.key == "questions@kickoff")).one()
    client.post(f"/me/tasks/{task.id}", data={**csrf(html, f"task-{task.id}-"),
                                               f"task-{task.id}-done": "y"})
    assert "Saved." in client.get("/me").get_data(as_text=True)  # the message too
    assert participant(running, "kari@bergen.example").language == "nb"


def test_a_language_chosen_before_continuing_is_kept(running, client):
    token = token_for(running, "kari@bergen.example")
    page = client.get(f"/p/{token}").get_data(as_text=True)
    assert '<html lang="nb">' in page
    switch_language(client, page, "da", f"/p/{token}")
    page = client.get(f"/p/{token}").get_data(as_text=True)
    assert '<html lang="da">' in page
    client.post(f"/p/{token}", data=csrf(page))
    assert '<html lang="da">' in client.get("/me").get_data(as_text=True)


def _signed_in_with_a_task_and_a_prompt(running, client) -> tuple[Task, Prompt]:
    """Søren signed in; the kick-off's task and workshop 1's reflection question."""
    log_in(client, token_for(running, "soren@vejle.example"))
    with db.transaction(running.extensions["cohort.engine"]) as session:
        task = session.scalars(select(Task).where(Task.key == "questions@kickoff")).one()
        prompt = session.scalars(select(Prompt).where(
            Prompt.key == "after-meeting@workshop-1")).one()
    return task, prompt


def test_a_refused_answer_or_note_comes_back_in_its_box(running, client):
    """An answer too long, or a note with a character that is not text, is not saved: the
    page comes back with what the participant wrote still in its box and why, in their
    language; not a bare error page that loses the text."""
    task, prompt = _signed_in_with_a_task_and_a_prompt(running, client)
    html = client.get("/me").get_data(as_text=True)
    long_answer = "Hvad jeg tager med & afprøver. " * 170  # 5270 characters
    response = client.post(f"/me/prompts/{prompt.id}", data={
        **csrf(html, f"prompt-{prompt.id}-"), f"prompt-{prompt.id}-answer": long_answer})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    box = page.split(f'id="prompt-{prompt.id}-answer"')[1].split("</textarea>")[0]
    assert box.split(">", 1)[1].strip() == long_answer.strip().replace("&", "&amp;")
    assert "Din tekst blev ikke gemt: Feltet" in page and 'aria-invalid="true"' in page
    assert f'href="#prompt-{prompt.id}-answer"' in page
    assert 'id="tasks-done" open' not in html
    client.post(f"/me/tasks/{task.id}", data={**csrf(html, f"task-{task.id}-"),
                                               f"task-{task.id}-done": "y"})
    response = client.post(f"/me/tasks/{task.id}", data={
        **csrf(html, f"task-{task.id}-"), f"task-{task.id}-note": "Mit svar\x0b med et tegn"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Mit svar\x0b med et tegn" in page
    assert 'id="tasks-done" open' in page  # a done task's note: its folded list opens
    with db.transaction(running.extensions["cohort.engine"]) as session:
        assert session.scalars(select(TaskStatus)).one().note == ""
        assert session.scalars(select(PromptAnswer)).all() == []
    # Anything else wrong with the post is still a bare 400.
    assert client.post(f"/me/prompts/{prompt.id}", data={
        f"prompt-{prompt.id}-answer": "x"}).status_code == 400


def item_of(html: str, anchor: str) -> str:
    return html.split(f'<li id="{anchor}"')[1].split("</li>")[0]


def test_saved_is_said_by_the_item_the_page_returns_to(running, client):
    """Saving a note, marking a task done or answering a question returns to that item
    further down the page: "saved" is said there, not at the top out of sight; a task just
    marked done is shown in its folded list, opened."""
    task, prompt = _signed_in_with_a_task_and_a_prompt(running, client)
    html = client.get("/me").get_data(as_text=True)
    saved = '<p class="ok-text saved" role="status">'
    response = client.post(f"/me/tasks/{task.id}", data={**csrf(html, f"task-{task.id}-"),
                                                        f"task-{task.id}-note": "Godt møde"})
    assert response.headers["Location"] == f"/me#task-{task.id}"
    page = client.get("/me").get_data(as_text=True)
    assert f"{saved}Gemt.</p>" in item_of(page, f"task-{task.id}")
    assert page.count(saved) == 1 and 'class="flashes"' not in page
    assert saved not in client.get("/me").get_data(as_text=True)  # said once
    client.post(f"/me/tasks/{task.id}", data={**csrf(html, f"task-{task.id}-"),
                                               f"task-{task.id}-done": "y"})
    page = client.get("/me").get_data(as_text=True)
    assert 'id="tasks-done" open' in page
    assert f"{saved}Gemt.</p>" in item_of(page.split('id="tasks-done"')[1], f"task-{task.id}")
    client.post(f"/me/prompts/{prompt.id}", data={**csrf(html, f"prompt-{prompt.id}-"),
                                                   f"prompt-{prompt.id}-answer": "Et svar"})
    page = client.get("/me").get_data(as_text=True)
    assert saved + "Tak, dit svar er gemt.</p>" in item_of(page, f"prompt-{prompt.id}")
