"""The participant's page reads each kind of the cohort's rows together with the participant's
own rows about them (services.participation.participant_page): the tasks with their states,
the prompts with their answers, the meetings with the room codes and the attendance, their
groups with the members, and the buddy check-ins from those groups and tasks. These tests
check that what it gives is what the use cases that read them apart give (attendance,
`participant_check_ins`), and that nobody's own rows show on another's page. Each runs on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cohort import db, services
from cohort.core.attendance import Mark
from cohort.models import Group, GroupMember, Participant, Prompt, Task
from cohort.services import frozen_rounds
from tests.fixtures.attendance import PEOPLE

PROGRAMME = "digital-helsekompetanse"  # a buddy grouping (laerevenner) and teams
START = datetime(2025, 4, 8, 6, 0, tzinfo=UTC)
MOMENTS = [START + timedelta(days=days) for days in (-1, 20, 45, 90, 400)]


@pytest.fixture
def cohort_id(engine, make_cohort):
    return make_cohort(engine, people=PEOPLE, programme=PROGRAMME).id


def _people(session, cohort_id: int) -> list[Participant]:
    return list(session.scalars(select(Participant).where(Participant.cohort_id == cohort_id)
                                .order_by(Participant.id)))


def _rows(rows) -> list[tuple]:
    return [(r.meeting.id, r.attendance.id if r.attendance else None, r.check_in, r.needs_code)
            for r in rows]


def _rotate(engine, cohort_id: int, left_out: int, alone: int) -> int:
    """A newer rotation of the buddy grouping: everyone in pairs but `left_out` (in no group
    of it) and `alone` (a group of one)."""
    with db.transaction(engine) as session:
        rotation = session.scalar(select(func.max(Group.rotation)).where(
            Group.cohort_id == cohort_id, Group.grouping_key == "laerevenner")) + 1
        others = [p.id for p in _people(session, cohort_id) if p.id not in (left_out, alone)]
        groups = [others[i:i + 2] for i in range(0, len(others), 2)] + [[alone]]
        for number, members in enumerate(groups, start=1):
            group = Group(cohort_id=cohort_id, grouping_key="laerevenner", rotation=rotation,
                          number=number)
            session.add(group)
            session.flush()
            session.add_all(GroupMember(group_id=group.id, participant_id=p) for p in members)
    return rotation


def _write_for(engine, cohort_id: int, who: int, now: datetime) -> None:
    """`who` marks every released task done with a note, answers every prompt sent, is
    present at every meeting held and answers every buddy round."""
    with db.transaction(engine) as session:
        me = session.get(Participant, who)
        for task in session.scalars(select(Task).where(Task.cohort_id == cohort_id,
                                                       Task.release_at <= now)):
            services.set_task_status(session, me, task.id, done=True, note=f"Note {task.id}",
                                     now=now)
        for prompt in session.scalars(select(Prompt).where(Prompt.cohort_id == cohort_id,
                                                           Prompt.send_at <= now)):
            services.answer_prompt(session, me, prompt.id, f"Answer {prompt.id}", now)
        for row in services.participant_attendance(session, who, now):
            if row.meeting.ends_at <= now and row.meeting.status == "scheduled":
                services.set_marks(session, cohort_id, row.meeting.key, {who: Mark("present")},
                                   recorded_by="test", now=now)
        for item in services.participant_check_ins(session, me, now):
            services.record_check_in(session, me, item.task_id, "met", now, note="Talked.")


def test_the_page_gives_what_the_use_cases_give_apart(engine, cohort_id):
    with db.read_session(engine) as session:
        people = [p.id for p in _people(session, cohort_id)]
    writer, left_out, alone = people[0], people[1], people[2]
    _write_for(engine, cohort_id, writer, MOMENTS[2])
    checked, kept, newest = 0, 0, None
    for rotated in (False, True):
        if rotated:
            newest = _rotate(engine, cohort_id, left_out, alone)
        for now in MOMENTS:
            with db.read_session(engine) as session:
                for participant in _people(session, cohort_id):
                    page = services.participant_page(session, participant, now)
                    assert _rows(page.attendance) == _rows(services.participant_attendance(
                        session, participant.id, now))
                    assert page.buddy_check_ins == services.participant_check_ins(
                        session, participant, now)
                    checked += bool(page.buddy_check_ins)
                    mine = participant.id == writer
                    assert all(t.done == mine and (t.note == f"Note {t.id}") == mine
                               for t in page.tasks if t.release_at <= MOMENTS[2])
                    assert not any(t.done or t.note for t in page.tasks
                                   if t.release_at > MOMENTS[2])
                    assert all((p.answer == f"Answer {p.id}") == mine
                               and (p.answer == "") != mine
                               for p in page.prompts if p.send_at <= MOMENTS[2])
                    assert all((r.attendance is not None) == (mine and r.meeting.ends_at
                                                              <= MOMENTS[2])
                               for r in page.attendance if r.meeting.status == "scheduled")
                    assert all((c.answer == "met") == mine for c in page.buddy_check_ins
                               if c.release_at <= MOMENTS[2])
                    buddies = [g for g in page.groups if g.grouping_key == "laerevenner"]
                    assert len(buddies) == 1 and participant not in buddies[0].members
                    # Each round names the buddy of its own pairs: a frozen round (the
                    # writer's answers froze those released by MOMENTS[2]) the one they had
                    # then, a later round the one they have now.
                    assert [(c.task_id, c.buddies) for c in page.buddy_check_ins] \
                        == _rounds_and_buddies(session, participant, now)
                    if rotated and participant.id == left_out:  # their older group is shown
                        assert buddies[0].rotation == newest - 1
                    if rotated and participant.id == alone:
                        assert buddies[0].rotation == newest and buddies[0].members == []
                    if rotated and participant.id in (left_out, alone):
                        # No buddy now, so only the frozen rounds, with the buddy they had.
                        frozen_ones = [c for c in page.buddy_check_ins
                                       if c.release_at <= MOMENTS[2]]
                        assert page.buddy_check_ins == frozen_ones
                        kept += len(frozen_ones)
    assert checked  # some pages had check-ins to compare
    assert kept  # and some had a frozen round after the buddy was gone


def _rounds_and_buddies(session, participant: Participant, now: datetime
                        ) -> list[tuple[int, tuple[str, ...]]]:
    """(task id, the others' names in the participant's pair of that round) for each buddy
    round released by `now` where they had someone, latest first, from the rounds' pairs as
    the report counts them (frozen_rounds.round_pairs)."""
    tasks = list(session.scalars(select(Task).where(
        Task.cohort_id == participant.cohort_id, Task.kind == "buddy_exchange",
        Task.release_at <= now).order_by(Task.release_at, Task.id)))
    pairs = frozen_rounds.round_pairs(session, participant.cohort_id, [t.id for t in tasks])
    names = dict(session.execute(select(Participant.id, Participant.name)).all())
    found = []
    for task in reversed(tasks):
        for pair in pairs[task.id]:
            if participant.id in pair.members and len(pair.members) >= 2:
                found.append((task.id, tuple(sorted(names[p] for p in pair.members
                                                    if p != participant.id))))
    return found
