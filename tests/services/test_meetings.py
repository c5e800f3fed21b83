"""Rescheduling, cancelling and restoring through the services: the preview is what
confirming does."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from cohort import db, services
from cohort.models import ActivityEntry, Delivery, Meeting, Participant, Survey, Task
from cohort.services import meetings
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


def test_a_meeting_that_has_begun_cannot_be_cancelled(engine, cohort):
    """Cancelling deletes what hangs on the meeting; of a meeting held, that was its
    evaluation survey with every answer (and restoring it brought the survey back empty)."""
    with db.transaction(engine) as session:
        kickoff = meetings.get_meeting(session, cohort.id, "kickoff")
    for now in (kickoff.starts_at, kickoff.ends_at + timedelta(days=30)):
        with pytest.raises(ValueError, match="'kickoff' has already begun"), \
                db.transaction(engine) as session:
            meetings.cancel_meeting(session, cohort.id, "kickoff", None, now)
    with db.transaction(engine) as session:
        assert meetings.get_meeting(session, cohort.id, "kickoff").status == "scheduled"
        assert session.scalars(select(Survey).where(
            Survey.cohort_id == cohort.id, Survey.key == "meeting-evaluation@kickoff")).one()
        # A minute before it begins it still can be.
        meetings.cancel_meeting(session, cohort.id, "kickoff", None,
                                kickoff.starts_at - timedelta(minutes=1))
        assert meetings.get_meeting(session, cohort.id, "kickoff").status == "cancelled"


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
