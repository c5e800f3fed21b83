"""The progress grid's service: figures counted in the database in a fixed number of queries
(however many participants), cells that agree with the rows, anonymous surveys only as a count,
"remind these" and announcements queued through the outbox (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.core import deliveries as kinds
from cohort.core import progress as core
from cohort.demo import demo_participants
from cohort.models import (
    Attendance,
    Delivery,
    Invitation,
    Meeting,
    Participant,
    Prompt,
    PromptAnswer,
    Survey,
    Task,
    TaskStatus,
)
from cohort.services.announcements import Audience
from tests.fixtures.statements import recorded_statements

NOW = datetime(2025, 5, 15, 13, 30, tzinfo=UTC)


def demo_people(n: int):
    """n demo participants with distinct addresses (the demo's names repeat past 32)."""
    return [p.__class__(p.name, f"{i}.{p.email}", p.organisation, p.role, p.language)
            for i, p in enumerate(demo_participants(n))]


def _statements(engine, action) -> int:
    with recorded_statements(engine) as seen:
        action()
    return len(seen)


def _grid(engine, cohort_id, filters=None, page=1, size=core.PAGE_SIZE):
    with db.transaction(engine) as session:
        return services.progress.progress_grid(session, cohort_id,
                                               filters or core.GridFilters(), page, NOW, size)


def _fill(engine, cohort_id) -> None:
    """Some attendance, tasks done, answers and identified answers, by participant number."""
    with db.transaction(engine) as session:
        people = session.scalars(select(Participant.id).where(
            Participant.cohort_id == cohort_id).order_by(Participant.id)).all()
        meetings = session.scalars(select(Meeting.id).where(
            Meeting.cohort_id == cohort_id, Meeting.starts_at < NOW)).all()
        tasks = session.scalars(select(Task.id).where(Task.cohort_id == cohort_id,
                                                      Task.release_at < NOW)).all()
        prompts = session.scalars(select(Prompt.id).where(Prompt.cohort_id == cohort_id,
                                                          Prompt.send_at < NOW)).all()
        identified = session.scalars(select(Survey.id).where(
            Survey.cohort_id == cohort_id, Survey.mode == "identified")).all()
        for n, pid in enumerate(people):
            for m, mid in enumerate(meetings):
                state = ("absent", "present", "excused")[(n + m) % 3]
                session.add(Attendance(cohort_id=cohort_id, meeting_id=mid,
                                       participant_id=pid, state=state, source="facilitator"))
            for tid in tasks[: n % (len(tasks) + 1)]:
                session.add(TaskStatus(participant_id=pid, task_id=tid, done_at=NOW))
            for qid in prompts[: n % 3]:
                session.add(PromptAnswer(participant_id=pid, prompt_id=qid, answer="svar"))
            if n % 2:
                for invitation in session.scalars(select(Invitation).where(
                        Invitation.participant_id == pid,
                        Invitation.survey_id.in_(identified))):
                    invitation.completed = True


def test_queries_do_not_grow_with_the_cohort(engine, make_cohort):
    small = make_cohort(engine, people=demo_people(6), title="lille").id
    large = make_cohort(engine, people=demo_people(60), title="stor").id
    for cohort_id in (small, large):
        _fill(engine, cohort_id)
    counts = [_statements(engine, lambda c=c: _grid(engine, c)) for c in (small, large)]
    assert counts[0] == counts[1]


def test_figures_and_cells_agree_with_the_rows(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_people(12)).id
    _fill(engine, cohort_id)
    grid = _grid(engine, cohort_id)
    assert grid.page.total == grid.participants == 12
    with db.transaction(engine) as session:
        for row in grid.rows:
            pid = row.summary.participant_id
            missed = session.scalars(select(Attendance).where(
                Attendance.participant_id == pid,
                Attendance.state.in_(("absent", "excused")))).all()
            done = session.scalars(select(TaskStatus).where(
                TaskStatus.participant_id == pid, TaskStatus.done_at.is_not(None))).all()
            assert row.summary.missed == len(missed)
            assert row.summary.tasks_done == len(done)
            by_column = dict(zip([(c.kind, c.id) for c in grid.columns], row.cells,
                                 strict=True))
            assert {by_column["task", s.task_id] for s in done} <= {core.DONE}
            assert sum(1 for s in row.cells if s in (core.ABSENT, core.EXCUSED)) == len(missed)
            identified = sum(1 for (kind, _id), s in by_column.items()
                             if kind == "survey" and s == core.ANSWERED)
            prompts = sum(1 for (kind, _id), s in by_column.items()
                          if kind == "prompt" and s == core.ANSWERED)
            assert row.summary.answers == identified + prompts


def test_anonymous_surveys_have_no_column_only_a_count(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_people(8)).id
    with db.transaction(engine) as session:
        anonymous = session.scalars(select(Survey).where(
            Survey.cohort_id == cohort_id, Survey.mode == "anonymous")).all()
        for invitation in session.scalars(select(Invitation).where(
                Invitation.survey_id == anonymous[0].id)):
            invitation.completed = True
    grid = _grid(engine, cohort_id)
    assert not {c.id for c in grid.columns if c.kind == "survey"} & {s.id for s in anonymous}
    assert all(c.kind != "survey" or c.key not in {s.key for s in anonymous}
               for c in grid.columns)
    assert {a.key for a in grid.anonymous} == {s.key for s in anonymous}
    # Completed invitations are not answers: the count is the answers received.
    assert all(a.answered == 0 for a in grid.anonymous)
    assert all(row.summary.answers == 0 for row in grid.rows)


def test_filters_sort_and_page_in_the_service(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_people(30)).id
    _fill(engine, cohort_id)
    everyone = _grid(engine, cohort_id, size=500).rows
    two = _grid(engine, cohort_id, core.GridFilters(missed_at_least=2, sort="tasks",
                                                   descending=True), size=500)
    assert {r.summary.participant_id for r in two.rows} == {
        r.summary.participant_id for r in everyone if r.summary.missed >= 2}
    done = [r.summary.tasks_done for r in two.rows]
    assert done == sorted(done, reverse=True)
    pages = [_grid(engine, cohort_id, page=n, size=7) for n in range(1, 6)]
    assert pages[0].page.pages == 5
    assert [r.summary for page in pages for r in page.rows] == [r.summary for r in everyone]


def test_remind_queues_one_per_person_and_refuses_strangers(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_people(5)).id
    other = make_cohort(engine, people=demo_people(2), title="andet").id
    with db.transaction(engine) as session:
        ids = session.scalars(select(Participant.id).where(
            Participant.cohort_id == cohort_id)).all()
        stranger = session.scalars(select(Participant.id).where(
            Participant.cohort_id == other)).first()
    with db.transaction(engine) as session:
        done = services.progress.remind(session, cohort_id, ids[:3] + ids[:1], None, NOW)
    assert (done.queued, done.already_waiting) == (3, 0)
    with pytest.raises(services.NotFound), db.transaction(engine) as session:
        services.progress.remind(session, cohort_id, [ids[3], stranger], None, NOW)
    with db.transaction(engine) as session:
        again = services.progress.remind(session, cohort_id, ids, None, NOW)
        rows = session.scalars(select(Delivery).where(
            Delivery.kind == kinds.PROGRESS_REMINDER)).all()
    assert (again.queued, again.already_waiting) == (2, 3)
    assert sorted(r.participant_id for r in rows) == sorted(ids)
    assert {r.anchor for r in rows} == {"progress:1", "progress:2"}


def test_reminding_everyone_the_filters_show_needs_the_plans_fingerprint(engine, make_cohort):
    """Nothing is queued without the fingerprint of the plan the filters make now; the plan
    names the first few recipients in the grid's order and counts those already waiting."""
    cohort_id = make_cohort(engine, people=demo_people(8)).id
    everyone = core.GridFilters()
    with db.transaction(engine) as session:
        ids = session.scalars(select(Participant.id).where(
            Participant.cohort_id == cohort_id)).all()
        services.progress.remind(session, cohort_id, ids[:1], None, NOW)
        plan = services.progress.plan_filtered_reminders(session, cohort_id, everyone)
        kept, _total = services.progress.filtered_summaries(
            session, services.get_cohort(session, cohort_id), everyone)
    assert (plan.recipients, plan.already_waiting) == (7, 1)
    assert plan.names == tuple(r.name for r in kept if r.participant_id != ids[0])[:5]
    for confirmed in (None, "0" * 16):
        with pytest.raises(services.progress.ConfirmationNeeded) as asked, \
                db.transaction(engine) as session:
            services.progress.remind_filtered(session, cohort_id, everyone, confirmed, None,
                                              NOW)
        assert asked.value.plan == plan
    with db.transaction(engine) as session:
        done = services.progress.remind_filtered(session, cohort_id, everyone,
                                                 plan.fingerprint, None, NOW)
        rows = session.scalars(select(Delivery.participant_id).where(
            Delivery.kind == kinds.PROGRESS_REMINDER)).all()
    assert (done.queued, done.already_waiting) == (7, 1) and sorted(rows) == sorted(ids)
    # The same confirmation twice queues nothing.
    with pytest.raises(services.progress.ConfirmationNeeded), db.transaction(engine) as session:
        services.progress.remind_filtered(session, cohort_id, everyone, plan.fingerprint, None,
                                          NOW)


def test_announcements_reach_their_audience_and_stay_for_the_participant(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_people(6)).id
    with db.transaction(engine) as session:
        people = session.scalars(select(Participant).where(
            Participant.cohort_id == cohort_id).order_by(Participant.id)).all()
    with db.transaction(engine) as session:
        preview = services.announcements.preview_announcement(
            session, cohort_id, "Nyt lokale", "Lokale 4", False, Audience(), NOW)
        assert preview.recipients == 6 and session.scalars(
            select(Delivery).where(Delivery.kind == kinds.ANNOUNCEMENT)).first() is None
        services.announcements.queue_announcement(
            session, cohort_id, "Nyt lokale", "Lokale 4", False, Audience(), None, NOW)
    with db.transaction(engine) as session:
        services.participants.remove_participant(session, cohort_id, people[0].id, None, NOW)
    with db.transaction(engine) as session:
        seen = services.announcements.participant_announcements(session, people[1].id,
                                                                 people[1].cohort_id)
        rows = session.scalars(select(Delivery).where(
            Delivery.kind == kinds.ANNOUNCEMENT)).all()
    assert [a.subject for a in seen] == ["Nyt lokale"]
    with db.transaction(engine) as session, recorded_statements(engine) as statements:
        # Their outbox row was cancelled when they were removed: not theirs any more.
        assert services.announcements.participant_announcements(
            session, people[0].id, cohort_id) == []
        assert services.announcements.participant_announcements(
            session, people[1].id, cohort_id + 1) == []  # another cohort's: none
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2
    waiting = [r for r in rows if r.state == kinds.PENDING]
    assert len(rows) == 6 and len(waiting) == 5 and all(r.send_at >= NOW for r in rows)
    assert people[0].id not in {r.participant_id for r in waiting}
    with pytest.raises(ValueError), db.transaction(engine) as session:
        services.announcements.queue_announcement(session, cohort_id, " ", "x", False,
                                                  Audience(), None, NOW)


def test_an_erased_participant_leaves_the_grid_and_their_link_mark(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_people(4)).id
    with db.transaction(engine) as session:
        person = session.scalars(select(Participant).where(
            Participant.cohort_id == cohort_id).order_by(Participant.id)).first()
        services.participant_access.record_link_opened(session, person.id, NOW)
        services.participant_access.record_link_opened(session, person.id, NOW.replace(day=16))
    with db.transaction(engine) as session:
        assert session.get(Participant, person.id).link_opened_at == NOW  # the first time
    assert [r.summary.link_opened for r in _grid(engine, cohort_id).rows].count(True) == 1
    with db.transaction(engine) as session:
        services.privacy.erase_participant(session, session.get(Participant, person.id), None,
                                           NOW)
    grid = _grid(engine, cohort_id)
    assert grid.participants == 3 and person.id not in {r.summary.participant_id
                                                         for r in grid.rows}
    with db.transaction(engine) as session:
        assert session.get(Participant, person.id).link_opened_at is None
