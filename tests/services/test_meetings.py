"""Rescheduling, cancelling and restoring through the services: the preview is what
confirming does."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from cohort import db, services
from cohort.core.attendance import EXCUSED, PRESENT, Mark
from cohort.models import (
    ActivityEntry,
    AnonymousResponse,
    Delivery,
    Meeting,
    Participant,
    Survey,
    Task,
    TaskStatus,
)
from cohort.services import meetings
from cohort.services.meeting_records import AtStake, MeetingChangeRefused
from tests.fixtures.web import PEOPLE, WEB_NOW


@pytest.fixture
def cohort(engine, make_cohort):
    return make_cohort(engine, people=PEOPLE, now=WEB_NOW)


def _week_later(engine, cohort_id, key="webinar-2"):
    with db.transaction(engine) as session:
        meeting = meetings.get_meeting(session, cohort_id, key)
        return meeting.starts_at + timedelta(days=7)


def test_preview_matches_what_reschedule_does(engine, cohort):
    new_start = _week_later(engine, cohort.id)
    with db.transaction(engine) as session:
        preview = meetings.preview_reschedule(session, cohort, "webinar-2", new_start, WEB_NOW)
    assert preview.after.starts_at == new_start
    moved_tasks = {c.key for c in preview.changes if c.item == "task"}
    assert "case-work@webinar-2" in moved_tasks and "questions@webinar-1" in moved_tasks
    pending = {(d.move.kind, d.move.anchor): d.pending for d in preview.deliveries}
    after = {(d.move.kind, d.move.anchor): d.move.after for d in preview.deliveries}
    assert pending[("task_released", "task:case-work@webinar-2")] == len(PEOPLE)
    assert preview.sent == []
    with db.transaction(engine) as session:
        plan = meetings.reschedule(session, cohort.id, "webinar-2", new_start, None, WEB_NOW)
    assert plan == preview.plan_after
    with db.transaction(engine) as session:
        task = session.scalars(select(Task).where(
            Task.cohort_id == cohort.id, Task.key == "case-work@webinar-2")).one()
        planned = next(t for t in preview.plan_after.tasks if t.key == task.key)
        assert task.release_at == planned.release_at
        rows = session.scalars(select(Delivery).where(
            Delivery.cohort_id == cohort.id, Delivery.anchor == "task:case-work@webinar-2",
            Delivery.kind == "task_released")).all()
        # the email goes when the mail policy says, as the preview said (a working day, after
        # the release)
        assert {r.send_at for r in rows} == {after["task_released", "task:case-work@webinar-2"]}
        assert min(r.send_at for r in rows) >= planned.release_at
        meeting = meetings.get_meeting(session, cohort.id, "webinar-2")
        assert meeting.sequence == 1 and meeting.starts_at == new_start
        entry = session.scalars(select(ActivityEntry)).one()
        assert entry.action == "meeting_rescheduled" and entry.actor == "system"
        assert entry.details["meeting"] == "webinar-2"


def test_preview_lists_already_sent_deliveries(engine, cohort):
    with db.transaction(engine) as session:
        row = session.scalars(select(Delivery).where(
            Delivery.cohort_id == cohort.id, Delivery.kind == "meeting_invitation",
            Delivery.anchor == "meeting:webinar-2")).first()
        row.state, row.sent_at = "sent", WEB_NOW
    with db.transaction(engine) as session:
        preview = meetings.preview_reschedule(session, cohort, "webinar-2",
                                              _week_later(engine, cohort.id), WEB_NOW)
    assert [(s.kind, s.anchor, s.count) for s in preview.sent] == [
        ("meeting_invitation", "meeting:webinar-2", 1)]


def test_moving_into_the_past_is_flagged(engine, cohort):
    late_now = datetime(2025, 6, 1, tzinfo=UTC)
    with db.transaction(engine) as session:
        preview = meetings.preview_reschedule(
            session, cohort, "webinar-2", datetime(2025, 6, 2, 11, tzinfo=UTC), late_now)
    assert any(d.goes_out_at_once for d in preview.deliveries)


def test_cancel_meeting(engine, cohort):
    with db.transaction(engine) as session:
        preview = meetings.preview_cancel(session, cohort, "webinar-2", WEB_NOW)
        meetings.cancel_meeting(session, cohort.id, "webinar-2", None, WEB_NOW)
    assert any(c.key == "case-work@webinar-2" and c.after is None for c in preview.changes)
    with db.transaction(engine) as session:
        meeting = session.scalars(select(Meeting).where(
            Meeting.cohort_id == cohort.id, Meeting.key == "webinar-2")).one()
        assert (meeting.status, meeting.sequence) == ("cancelled", 1)
        states = set(session.scalars(select(Delivery.state).where(
            Delivery.cohort_id == cohort.id, Delivery.anchor == "task:case-work@webinar-2")))
        assert states == {"cancelled"}
        assert session.scalars(select(Task).where(
            Task.cohort_id == cohort.id, Task.key == "case-work@webinar-2")).first() is None
    with pytest.raises(ValueError, match="already cancelled"), \
            db.transaction(engine) as session:
        meetings.cancel_meeting(session, cohort.id, "webinar-2", None, WEB_NOW)
    with pytest.raises(ValueError, match="is cancelled; restore it"), \
            db.transaction(engine) as session:
        meetings.reschedule(session, cohort.id, "webinar-2",
                            meeting.starts_at + timedelta(days=7), None, WEB_NOW)


def _first_person(engine, cohort_id) -> int:
    with db.transaction(engine) as session:
        return session.scalars(select(Participant.id).where(
            Participant.cohort_id == cohort_id).order_by(Participant.id)).first()


def _kickoff(engine, cohort_id) -> Meeting:
    with db.transaction(engine) as session:
        return meetings.get_meeting(session, cohort_id, "kickoff")


def test_a_meeting_held_can_be_neither_cancelled_nor_moved(engine, cohort):
    """Attendance recorded says the meeting took place: cancelling it (which deleted its
    evaluation survey and the answers) or moving it would rewrite what was held."""
    kickoff = _kickoff(engine, cohort.id)
    after = kickoff.ends_at + timedelta(days=30)
    with db.transaction(engine) as session:
        services.set_marks(session, cohort.id, "kickoff",
                           {_first_person(engine, cohort.id): Mark(PRESENT)}, now=after)
    with db.transaction(engine) as session:
        preview = meetings.preview_cancel(session, cohort, "kickoff", after)
        assert preview.at_stake.refused and preview.at_stake.attendance == 1
        moved = meetings.preview_reschedule(session, cohort, "kickoff",
                                            kickoff.starts_at + timedelta(hours=1), after)
        assert moved.at_stake.refused
    with pytest.raises(MeetingChangeRefused, match="'kickoff' cannot be changed: 1 "
                       "attendance"), db.transaction(engine) as session:
        meetings.cancel_meeting(session, cohort.id, "kickoff", None, after)
    with pytest.raises(MeetingChangeRefused), db.transaction(engine) as session:
        meetings.reschedule(session, cohort.id, "kickoff",
                            kickoff.starts_at + timedelta(hours=1), None, after)
    with db.transaction(engine) as session:
        meeting = meetings.get_meeting(session, cohort.id, "kickoff")
        assert (meeting.status, meeting.starts_at, meeting.sequence) == (
            "scheduled", kickoff.starts_at, 0)
        assert session.scalars(select(Survey).where(
            Survey.cohort_id == cohort.id, Survey.key == "meeting-evaluation@kickoff")).one()


def test_survey_answers_block_cancelling_and_moving_a_meeting_that_has_begun(engine, cohort):
    """Without attendance recorded, the answers to its evaluation survey say it was held."""
    kickoff = _kickoff(engine, cohort.id)
    after = kickoff.ends_at + timedelta(days=2)
    with db.transaction(engine) as session:
        survey = session.scalars(select(Survey).where(
            Survey.cohort_id == cohort.id, Survey.key == "meeting-evaluation@kickoff")).one()
        session.add(AnonymousResponse(id="a" * 32, survey_id=survey.id,
                                      submitted_on=after.date(), answers={}))
    with db.transaction(engine) as session:
        assert meetings.preview_cancel(session, cohort, "kickoff", after).at_stake == AtStake(
            answers=1)
        assert meetings.preview_reschedule(
            session, cohort, "kickoff", kickoff.starts_at + timedelta(days=1), after
        ).at_stake == AtStake(answers=1)
    for change in (lambda s: meetings.cancel_meeting(s, cohort.id, "kickoff", None, after),
                   lambda s: meetings.reschedule(s, cohort.id, "kickoff",
                                                 kickoff.starts_at + timedelta(days=1), None,
                                                 after)):
        with pytest.raises(MeetingChangeRefused, match="1 survey answer"), \
                db.transaction(engine) as session:
            change(session)


def test_a_meeting_that_did_not_take_place_can_be_cancelled_or_moved_after_its_time(
        engine, cohort):
    """The facilitator fell ill: nothing was recorded, so the meeting can still be moved, or
    cancelled, once its time has passed. Someone excused in advance does not make it held."""
    kickoff = _kickoff(engine, cohort.id)
    with db.transaction(engine) as session:
        services.set_marks(session, cohort.id, "kickoff",
                           {_first_person(engine, cohort.id): Mark(EXCUSED)},
                           now=kickoff.starts_at - timedelta(days=1))
    later = kickoff.ends_at + timedelta(hours=2)
    with db.transaction(engine) as session:
        assert not meetings.preview_cancel(session, cohort, "kickoff", later).at_stake.refused
        meetings.reschedule(session, cohort.id, "kickoff",
                            kickoff.starts_at + timedelta(days=1), None, later)
    with db.transaction(engine) as session:
        meetings.cancel_meeting(session, cohort.id, "kickoff", None, later)
        assert meetings.get_meeting(session, cohort.id, "kickoff").status == "cancelled"


def test_cancelling_counts_the_participants_work_it_deletes(engine, cohort):
    """A mark on a task that leaves the plan with the meeting does not block cancelling it,
    but the preview says it is deleted."""
    person = _first_person(engine, cohort.id)
    with db.transaction(engine) as session:
        task = session.scalars(select(Task).where(
            Task.cohort_id == cohort.id, Task.key == "case-work@webinar-2")).one()
        session.add(TaskStatus(participant_id=person, task_id=task.id, done_at=WEB_NOW))
    with db.transaction(engine) as session:
        stake = meetings.preview_cancel(session, cohort, "webinar-2", WEB_NOW).at_stake
        assert stake == AtStake(task_marks=1) and not stake.refused
        # Moving keeps the task's row: nothing is at stake.
        assert meetings.preview_reschedule(
            session, cohort, "webinar-2", _week_later(engine, cohort.id), WEB_NOW
        ).at_stake == AtStake()
        meetings.cancel_meeting(session, cohort.id, "webinar-2", None, WEB_NOW)
    with db.transaction(engine) as session:
        assert session.scalars(select(TaskStatus)).all() == []


def test_unknown_meeting_is_not_found(engine, cohort):
    with pytest.raises(services.NotFound), db.transaction(engine) as session:
        meetings.preview_cancel(session, cohort, "webinar-9", WEB_NOW)


def _states(engine, cohort_id, **where) -> dict[str, int]:
    with db.transaction(engine) as session:
        query = select(Delivery.state).where(Delivery.cohort_id == cohort_id)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return dict(Counter(session.scalars(query)))


def test_restoring_a_cancelled_meeting_brings_back_what_hung_on_it(engine, cohort):
    invitation = dict(kind="meeting_invitation", anchor="meeting:webinar-2")
    with db.transaction(engine) as session:
        # Half the invitations have gone out before the meeting is cancelled.
        first_half = [p.id for p in session.scalars(select(Participant).where(
            Participant.cohort_id == cohort.id).order_by(Participant.id))][:len(PEOPLE) // 2]
        session.execute(update(Delivery).where(
            Delivery.cohort_id == cohort.id, Delivery.kind == "meeting_invitation",
            Delivery.anchor == "meeting:webinar-2", Delivery.participant_id.in_(first_half),
        ).values(state="sent", sent_at=WEB_NOW))
        task_rows_before = _task_rows(session, cohort.id)
        meetings.cancel_meeting(session, cohort.id, "webinar-2", None, WEB_NOW)
    released = dict(kind="task_released", anchor="task:case-work@webinar-2")
    assert _states(engine, cohort.id, **released) == {"cancelled": len(PEOPLE)}
    later = WEB_NOW + timedelta(hours=2)
    with db.transaction(engine) as session:
        preview = meetings.preview_restore(session, cohort, "webinar-2", later)
        meetings.restore_meeting(session, cohort.id, "webinar-2", None, later)
    pending = {(d.move.kind, d.move.anchor): d.pending for d in preview.deliveries}
    assert pending[("task_released", "task:case-work@webinar-2")] == len(PEOPLE)
    assert any(c.key == "case-work@webinar-2" and c.before is None for c in preview.changes)
    with db.transaction(engine) as session:
        meeting = meetings.get_meeting(session, cohort.id, "webinar-2")
        assert (meeting.status, meeting.sequence) == ("scheduled", 2)
        # The same tasks at the same times, their emails pending again at their old times.
        assert _task_rows(session, cohort.id) == task_rows_before
        (entry,) = session.scalars(select(ActivityEntry).where(
            ActivityEntry.action == "meeting_restored"))
        assert entry.details["meeting"] == "webinar-2"
    assert _states(engine, cohort.id, **released) == {"pending": len(PEOPLE)}
    # Invitations stopped by the cancellation go out now; those already sent stay sent, and
    # their recipients get the meeting again as an update; the unsent cancellations are void.
    half = len(first_half)
    assert _states(engine, cohort.id, **invitation) == {"sent": half,
                                                        "pending": len(PEOPLE) - half}
    assert _states(engine, cohort.id, kind="meeting_update") == {"pending": half}
    assert _states(engine, cohort.id, kind="meeting_cancellation") == {"cancelled": half}
    with pytest.raises(ValueError, match="not cancelled"), db.transaction(engine) as session:
        meetings.restore_meeting(session, cohort.id, "webinar-2", None, later)


def _task_rows(session, cohort_id) -> list[tuple]:
    return sorted(session.execute(select(Task.key, Task.release_at, Task.due_at).where(
        Task.cohort_id == cohort_id)).all())
