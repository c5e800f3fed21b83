"""The progress grid and announcements pages (Flask test client, SQLite and PostgreSQL):
filters, sorting, paging, exports, anonymous surveys only as a count, "remind these",
announcements with preview and confirmation, on the participant page, CSRF and wrong ids."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from cohort import db, services
from cohort.core import deliveries as kinds
from cohort.models import (
    ActivityEntry,
    Announcement,
    Attendance,
    CohortRole,
    CohortStaff,
    Delivery,
    Invitation,
    Meeting,
    Participant,
    Survey,
    Task,
)
from tests.fixtures.attendance import AFTER_WEBINAR_1, PEOPLE
from tests.fixtures.web import (
    participant_client,
    staff_client,
    visible_text,
)


@pytest.fixture
def course(web_app, engine_of_app, make_cohort, staff) -> int:
    cohort_id = make_cohort(engine_of_app, people=PEOPLE, title="Hold Fremdrift").id
    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=cohort_id, user_id=staff.owner.id,
                                role=CohortRole.OWNER))
    web_app.config["COHORT_NOW"] = AFTER_WEBINAR_1
    return cohort_id


@pytest.fixture
def client(web_app, staff):
    return staff_client(web_app, staff.owner, language="en", csrf=False)


def _people(engine, cohort_id) -> dict[str, int]:
    with db.transaction(engine) as session:
        return {p.name.split()[0]: p.id for p in session.scalars(
            select(Participant).where(Participant.cohort_id == cohort_id))}


def _mark_missed(engine, cohort_id, person_id, meeting_keys) -> None:
    with db.transaction(engine) as session:
        for key in meeting_keys:
            meeting = services.get_meeting(session, cohort_id, key)
            session.add(Attendance(cohort_id=cohort_id, meeting_id=meeting.id,
                                   participant_id=person_id, state="absent",
                                   source="facilitator"))


def _grid_names(response) -> list[str]:
    page = response.get_data(as_text=True)
    return [html.unescape(name) for name in re.findall(
        r'<th scope="row">([^<]+)', page)]


def test_grid_lists_everyone_with_cells_in_words(client, course):
    response = client.get(f"/cohorts/{course}/progress")
    assert response.status_code == 200
    assert len(_grid_names(response)) == len(PEOPLE)
    text = visible_text(response)
    assert "Not opened" in text and "Not recorded" in text and "Not held yet" in text
    # Every cell carries words, not only a colour: no empty cell class without a label.
    page = response.get_data(as_text=True)
    cells = re.findall(r'<td class="cell (\w+)"><span aria-hidden="true">.</span> ([^<]+)</td>',
                       page)
    assert cells and all(label.strip() for _tone, label in cells)


def test_missed_filter_and_link_filter(client, course, engine_of_app, web_app):
    people = _people(engine_of_app, course)
    _mark_missed(engine_of_app, course, people["Anne"], ["kickoff", "workshop-1"])
    _mark_missed(engine_of_app, course, people["Lars"], ["kickoff"])
    response = client.get(f"/cohorts/{course}/progress?missed=2")
    assert _grid_names(response) == ["Anne Ærenlund"]
    response = client.get(f"/cohorts/{course}/progress?missed=1&sort=missed&order=desc")
    assert _grid_names(response) == ["Anne Ærenlund", "Lars Jensen"]
    # Opening the personal link (continue) marks the row as opened.
    with db.transaction(engine_of_app) as session:
        token = services.personal_token(session, people["Hanne"], web_app.config["SECRET_KEY"],
                                        AFTER_WEBINAR_1)
    visitor = web_app.test_client()
    assert visitor.post(f"/p/{token}").status_code in (302, 303)
    names = _grid_names(client.get(f"/cohorts/{course}/progress?link=not_opened"))
    assert "Hanne Dahl" not in names and len(names) == len(PEOPLE) - 1


def test_task_filter_and_sorting(client, course, engine_of_app):
    people = _people(engine_of_app, course)
    with db.transaction(engine_of_app) as session:
        task = session.scalars(select(Task).where(Task.cohort_id == course)
                               .order_by(Task.release_at)).first()
        key = task.key
    with db.transaction(engine_of_app) as session:
        for name in ("Anne", "Bjørn"):
            _done(session, people[name], task.id)
    names = _grid_names(client.get(f"/cohorts/{course}/progress?task={key}"))
    assert "Anne Ærenlund" not in names and "Bjørn Kråkenes" not in names
    assert len(names) == len(PEOPLE) - 2
    by_tasks = _grid_names(client.get(f"/cohorts/{course}/progress?sort=tasks&order=desc"))
    assert by_tasks[:2] == ["Anne Ærenlund", "Bjørn Kråkenes"]
    by_name = _grid_names(client.get(f"/cohorts/{course}/progress"))
    assert by_name == sorted(by_name, key=str.casefold)
    # An unknown task key is ignored, not an error.
    assert len(_grid_names(client.get(f"/cohorts/{course}/progress?task=nope"))) == len(PEOPLE)


def _done(session, participant_id, task_id):
    from cohort.models import TaskStatus
    session.add(TaskStatus(participant_id=participant_id, task_id=task_id,
                           done_at=AFTER_WEBINAR_1))


def test_paging(client, course, engine_of_app, web_app):
    from cohort.core import progress
    with db.transaction(engine_of_app) as session:
        grid = services.progress.progress_grid(session, course, progress.GridFilters(), 3,
                                               AFTER_WEBINAR_1, size=3)
    assert grid.page.pages == 3 and len(grid.rows) == 1 and grid.page.first == 7
    assert [r.summary.name for r in grid.rows] == ["Åse Håland"]  # casefold: Å sorts last
    page = client.get(f"/cohorts/{course}/progress?page=99")
    assert page.status_code == 200 and len(_grid_names(page)) == len(PEOPLE)
    # A digit that is no ASCII digit ("²" passes str.isdigit(), int() refuses it): page 1.
    for junk in ("²", "٣", "1²", "-1"):
        page = client.get(f"/cohorts/{course}/progress", query_string={"page": junk,
                                                                      "missed": junk,
                                                                      "group": junk})
        assert page.status_code == 200 and len(_grid_names(page)) == len(PEOPLE), junk


def test_anonymous_surveys_only_as_a_count(client, course, engine_of_app):
    """An anonymous survey never gets a per-person column, even when invitations are
    completed; its header says how many answered."""
    people = _people(engine_of_app, course)
    with db.transaction(engine_of_app) as session:
        survey = session.scalars(select(Survey).where(
            Survey.cohort_id == course, Survey.mode == "anonymous")
            .order_by(Survey.opens_at)).first()
        title = survey.title
        invitation = session.scalars(select(Invitation).where(
            Invitation.survey_id == survey.id,
            Invitation.participant_id == people["Anne"])).one()
        invitation.completed = True
    page = client.get(f"/cohorts/{course}/progress").get_data(as_text=True)
    head = page.split("<tbody>")[0]
    assert html.escape(title) not in head.split('<table class="progress-grid"')[1]
    assert "Anonymous questionnaires" in html.unescape(page)
    csv_text = client.get(f"/cohorts/{course}/progress.csv").get_data().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(csv_text), delimiter=";"))
    assert not any(survey.key in column for column in header)


def test_exports_are_formula_safe_and_filtered(client, course, engine_of_app):
    people = _people(engine_of_app, course)
    with db.transaction(engine_of_app) as session:
        session.get(Participant, people["Anne"]).name = "=HYPERLINK(\"x\")"
    _mark_missed(engine_of_app, course, people["Anne"], ["kickoff", "workshop-1"])
    response = client.get(f"/cohorts/{course}/progress.csv?missed=2")
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")),
                           delimiter=";"))
    assert len(rows) == 2 and rows[1][0] == "'=HYPERLINK(\"x\")"
    assert "meeting:kickoff" in rows[0] and rows[1][rows[0].index("meeting:kickoff")] == "absent"
    book = load_workbook(io.BytesIO(client.get(
        f"/cohorts/{course}/progress.xlsx?missed=2").get_data()))
    sheet = book.active
    assert sheet.max_row == 2 and sheet["A2"].data_type == "s"


def test_remind_these_queues_one_bundled_email_per_person(client, course, engine_of_app):
    people = _people(engine_of_app, course)
    chosen = [people["Anne"], people["Lars"]]
    response = client.post(f"/cohorts/{course}/progress/remind",
                           data={"participant": [str(i) for i in chosen], "remind": "1"})
    assert response.status_code == 302
    again = client.post(f"/cohorts/{course}/progress/remind",
                        data={"participant": [str(i) for i in chosen], "remind": "1"})
    assert again.status_code == 302
    with db.transaction(engine_of_app) as session:
        rows = session.scalars(select(Delivery).where(
            Delivery.cohort_id == course, Delivery.kind == kinds.PROGRESS_REMINDER)).all()
        logged = session.scalars(select(ActivityEntry).where(
            ActivityEntry.action == "progress_reminders_queued")).all()
    assert sorted(r.participant_id for r in rows) == sorted(chosen)
    assert all(r.state == kinds.PENDING and r.send_at >= AFTER_WEBINAR_1 for r in rows)
    assert all(kinds.bundle_key(course, r.kind, r.recipient, r.send_at) for r in rows)
    assert len(logged) == 1 and logged[0].details["queued"] == 2


def _reminded(engine, cohort_id) -> list[int]:
    with db.transaction(engine) as session:
        return sorted(session.scalars(select(Delivery.participant_id).where(
            Delivery.cohort_id == cohort_id, Delivery.kind == kinds.PROGRESS_REMINDER)))


def _confirmation(response) -> tuple[str, dict[str, str]]:
    """The confirmation form's action and the fields it posts (besides CSRF)."""
    page = response.get_data(as_text=True)
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page).group(1))
    fingerprint = re.search(r'name="previewed" type="hidden" value="([0-9a-f]+)"', page)
    return action, {"previewed": fingerprint.group(1), "confirm_all": "1"}


def test_remind_everyone_shown_by_filters_asks_first(client, course, engine_of_app):
    """The first click queues nothing: it says how many reminders go to whom; only the
    confirmation, with the filters kept, queues them."""
    people = _people(engine_of_app, course)
    _mark_missed(engine_of_app, course, people["Bjørn"], ["kickoff", "workshop-1"])
    asked = client.post(f"/cohorts/{course}/progress/remind?missed=2", data={"remind_all": "1"})
    assert asked.status_code == 200 and _reminded(engine_of_app, course) == []
    assert "1 reminder will be queued, to: Bjørn Kråkenes" in visible_text(asked)
    action, fields = _confirmation(asked)
    assert action == f"/cohorts/{course}/progress/remind?missed=2"
    done = client.post(action, data=fields)
    assert done.status_code == 302 and done.headers["Location"].endswith("progress?missed=2")
    assert _reminded(engine_of_app, course) == [people["Bjørn"]]


def test_remind_everyone_names_the_first_few_and_asks_again_when_they_change(
        client, course, engine_of_app):
    people = _people(engine_of_app, course)
    remind = f"/cohorts/{course}/progress/remind"
    client.post(remind, data={"participant": [str(people["Anne"])], "remind": "1"})
    asked = client.post(remind, data={"remind_all": "1"})
    text = visible_text(asked)
    assert "6 reminders will be queued, one to each of:" in text
    names = re.findall(r"<li>([^<]+)</li>", asked.get_data(as_text=True).split(
        'class="recipient-names"')[1].split("</ul>")[0])
    assert len(names) == 6 and "Anne Ærenlund" not in names and names[5] == "and 1 more person"
    assert "1 more person shown already has a reminder waiting" in text
    # Lars is reminded on his own in between: the confirmed plan is not the one any more.
    client.post(remind, data={"participant": [str(people["Lars"])], "remind": "1"})
    action, fields = _confirmation(asked)
    stale = client.post(action, data=fields)
    assert stale.status_code == 200 and "changed" in visible_text(stale)
    assert "5 reminders will be queued" in visible_text(stale)
    assert _reminded(engine_of_app, course) == sorted([people["Anne"], people["Lars"]])
    action, fields = _confirmation(stale)
    assert client.post(action, data=fields).status_code == 302
    assert _reminded(engine_of_app, course) == sorted(people.values())
    # Everyone has one waiting now: nothing to confirm.
    nobody = client.post(remind, data={"remind_all": "1"}, follow_redirects=True)
    assert "Nobody to remind" in visible_text(nobody)


def test_remind_refuses_other_cohorts_people_and_needs_csrf(client, course, engine_of_app,
                                                             make_cohort, web_app):
    other = make_cohort(engine_of_app, people=PEOPLE[:1], title="Andet hold").id
    stranger = next(iter(_people(engine_of_app, other).values()))
    response = client.post(f"/cohorts/{course}/progress/remind",
                           data={"participant": [str(stranger)], "remind": "1"})
    assert response.status_code == 404
    assert client.post(f"/cohorts/{course}/progress/remind",
                       data={"participant": ["x"], "remind": "1"}).status_code == 400
    assert client.get("/cohorts/999999/progress").status_code == 404
    web_app.config["WTF_CSRF_ENABLED"] = True
    people = _people(engine_of_app, course)
    refused = client.post(f"/cohorts/{course}/progress/remind",
                          data={"participant": [str(people["Anne"])], "remind": "1"})
    assert refused.status_code == 400
    web_app.config["WTF_CSRF_ENABLED"] = True
    denied = client.post(f"/cohorts/{course}/announcements",
                         data={"subject": "x", "body": "y", "audience": "cohort",
                               "preview": "1"})
    assert denied.status_code == 400
    with db.transaction(engine_of_app) as session:
        assert session.scalars(select(Delivery).where(
            Delivery.kind == kinds.PROGRESS_REMINDER)).first() is None


def _announce(client, course, query="", **fields):
    data = {"subject": "Nyt lokale", "body": "Vi mødes i lokale 4.\n\nHusk kaffe.",
            "audience": "cohort", **fields}
    preview = client.post(f"/cohorts/{course}/announcements{query}",
                          data={**data, "preview": "1"})
    assert preview.status_code == 200
    fingerprint = re.search(r'name="previewed" type="hidden" value="([0-9a-f]+)"',
                            preview.get_data(as_text=True)).group(1)
    return preview, client.post(f"/cohorts/{course}/announcements{query}",
                                data={**data, "confirm": "1", "previewed": fingerprint})


def test_announcement_preview_then_confirm(client, course, engine_of_app):
    preview, done = _announce(client, course)
    assert f"It goes to {len(PEOPLE)} people." in visible_text(preview)
    with db.transaction(engine_of_app) as session:
        assert session.scalars(select(Announcement)).first() is not None
    assert done.status_code == 302
    with db.transaction(engine_of_app) as session:
        rows = session.scalars(select(Delivery).where(
            Delivery.kind == kinds.ANNOUNCEMENT)).all()
        logged = session.scalars(select(ActivityEntry).where(
            ActivityEntry.action == "announcement_queued")).one()
    assert len(rows) == len(PEOPLE) and logged.details["recipients"] == len(PEOPLE)
    assert "Nyt lokale" in visible_text(client.get(f"/cohorts/{course}/activity"))


def test_announcement_needs_the_previews_fingerprint(client, course, engine_of_app):
    data = {"subject": "Nyt lokale", "body": "Lokale 4", "audience": "cohort",
            "confirm": "1", "previewed": "0123456789abcdef"}
    response = client.post(f"/cohorts/{course}/announcements", data=data)
    assert response.status_code == 200
    with db.transaction(engine_of_app) as session:
        assert session.scalars(select(Announcement)).first() is None


def test_announcement_to_filtered_rows_and_urgent(client, course, engine_of_app):
    people = _people(engine_of_app, course)
    _mark_missed(engine_of_app, course, people["Åse"], ["kickoff", "workshop-1"])
    preview, done = _announce(client, course, "?missed=2", audience="filtered", urgent="y")
    assert "It goes to 1 person." in visible_text(preview)
    with db.transaction(engine_of_app) as session:
        rows = session.scalars(select(Delivery).where(
            Delivery.kind == kinds.ANNOUNCEMENT)).all()
    assert [r.participant_id for r in rows] == [people["Åse"]]
    assert rows[0].send_at == AFTER_WEBINAR_1  # urgent: now


def test_announcement_shows_on_the_participant_page(client, course, engine_of_app, web_app):
    _announce(client, course)
    with db.transaction(engine_of_app) as session:
        anne = session.scalars(select(Participant).where(
            Participant.cohort_id == course, Participant.name == "Anne Ærenlund")).one()
    visitor = participant_client(web_app, anne)
    page = visible_text(visitor.get("/me"))
    assert "Nyt lokale" in page and "Vi mødes i lokale 4." in page


def test_evaluators_do_not_see_the_grid(web_app, course, staff, engine_of_app):
    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=course, user_id=staff.evaluator.id,
                                role=CohortRole.EVALUATOR))
    client = staff_client(web_app, staff.evaluator)
    assert client.get(f"/cohorts/{course}/progress").status_code == 403
    assert client.get(f"/cohorts/{course}/announcements").status_code == 403
    # Meeting ids are the cohort's own: the grid counts only its meetings.
    with db.transaction(engine_of_app) as session:
        assert session.scalars(select(Meeting).where(Meeting.cohort_id == course)).first()


def test_team_filter_and_announcement_to_a_team(web_app, make_cohort, engine_of_app, staff):
    """Teams (not buddy pairs) are offered: the grid keeps one team's members, and an
    announcement to that team reaches exactly them."""
    from cohort.core.participants import ParticipantRow
    from cohort.models import Group, GroupMember
    people = [*PEOPLE, *(ParticipantRow(f"Deltager {n}", f"d{n}@odense.example",
                                        "Odense Kommune") for n in range(13))]
    cohort_id = make_cohort(engine_of_app, people=people, programme="ledelse-i-digitalisering",
                            title="Hold Team").id
    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=cohort_id, user_id=staff.owner.id,
                                role=CohortRole.OWNER))
        group = session.scalars(select(Group).where(Group.cohort_id == cohort_id)
                                .order_by(Group.id)).first()
        members = set(session.scalars(select(GroupMember.participant_id).where(
            GroupMember.group_id == group.id)))
        names = {p.name for p in session.scalars(select(Participant).where(
            Participant.id.in_(members)))}
    web_app.config["COHORT_NOW"] = AFTER_WEBINAR_1
    web_app.config["WTF_CSRF_ENABLED"] = False
    client = staff_client(web_app, staff.owner, language="en")
    page = client.get(f"/cohorts/{cohort_id}/progress?group={group.id}")
    assert set(_grid_names(page)) == names and 0 < len(names) < len(people)
    _preview, done = _announce(client, cohort_id, audience="group", group=str(group.id))
    assert done.status_code == 302
    with db.transaction(engine_of_app) as session:
        got = set(session.scalars(select(Delivery.participant_id).where(
            Delivery.cohort_id == cohort_id, Delivery.kind == kinds.ANNOUNCEMENT)))
    assert got == members
    # Another cohort's group, or none at all: 404.
    wrong = client.post(f"/cohorts/{cohort_id}/announcements",
                        data={"subject": "a", "body": "b", "audience": "group",
                              "group": "987654", "preview": "1"})
    assert wrong.status_code == 404


def test_the_outbox_names_an_announcement_and_previews_it(client, course, engine_of_app):
    _announce(client, course)
    page = visible_text(client.get(f"/cohorts/{course}/outbox?kind=announcement"))
    assert "Nyt lokale" in page
    with db.transaction(engine_of_app) as session:
        row = session.scalars(select(Delivery).where(
            Delivery.kind == kinds.ANNOUNCEMENT)).first()
    preview = client.get(f"/cohorts/{course}/outbox/{row.id}")
    assert preview.status_code == 200 and "Vi mødes i lokale 4." in visible_text(preview)
