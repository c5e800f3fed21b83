"""Diffing two plans: what a meeting change moves, adds and removes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cohort.core.planning import MeetingOverride, plan_cohort
from cohort.core.replanning import ADDED, MOVED, REMOVED, delivery_moves, plan_changes
from cohort.core.timeline import plan_timeline

START = date(2025, 4, 8)
NOW = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def programme(library):
    return library.programmes["digital-lederskab"]


def test_moving_a_meeting_moves_what_is_anchored_to_it(programme):
    before = plan_cohort(programme, START)
    webinar_2 = before.meeting("webinar-2").starts_at
    moved_to = datetime(2025, 6, 19, 11, 0, tzinfo=UTC)  # a week later, 13:00 local
    after = plan_cohort(programme, START, overrides={
        "webinar-2": MeetingOverride(starts_at=moved_to)})
    changes = plan_changes(before, after)
    by_key = {(c.item, c.key, c.field): c for c in changes}
    meeting = by_key["meeting", "webinar-2", "starts_at"]
    assert (meeting.before, meeting.after, meeting.status) == (webinar_2, moved_to, MOVED)
    # Tasks given at webinar 1 are due before webinar 2: their due date moves a week.
    due = by_key["task", "questions@webinar-1", "due_at"]
    assert (due.after - due.before).days == 7
    # Tasks released after webinar 2 move too; tasks of webinar 3 do not.
    assert ("task", "case-work@webinar-2", "release_at") in by_key
    assert not any(c.key.endswith("@webinar-3") and c.field == "release_at" for c in changes)
    assert all(c.status == MOVED for c in changes)
    assert changes == sorted(changes, key=lambda c: min(c.before, c.after))


def test_cancelling_a_meeting_removes_its_items_and_reanchors_next(programme):
    before = plan_cohort(programme, START)
    after = plan_cohort(programme, START, overrides={
        "webinar-2": MeetingOverride(cancelled=True)})
    changes = plan_changes(before, after)
    removed = {c.key for c in changes if c.status == REMOVED}
    assert "webinar-2" in removed and "case-work@webinar-2" in removed
    # "Due before the next meeting" now points at webinar 3.
    due = next(c for c in changes if c.key == "questions@webinar-1" and c.field == "due_at")
    assert due.status == MOVED and due.after.date() == date(2025, 8, 20)
    assert not any(c.status == ADDED for c in changes)


def test_delivery_moves_follow_the_plan_and_skip_immediate_mail(programme):
    before = plan_cohort(programme, START)
    after = plan_cohort(programme, START, overrides={
        "webinar-2": MeetingOverride(starts_at=datetime(2025, 6, 19, 11, tzinfo=UTC))})
    moves = delivery_moves(before, after, NOW)
    anchors = {(m.kind, m.anchor) for m in moves}
    assert ("task_released", "task:case-work@webinar-2") in anchors
    assert ("prompt", "prompt:leading-question@webinar-2") in anchors
    assert ("survey_invitation", "survey:meeting-evaluation@webinar-2") in anchors
    assert not any(kind in ("welcome", "meeting_invitation") for kind, _ in anchors)
    assert delivery_moves(before, before, NOW) == []


def test_timeline_puts_items_after_the_meeting_they_follow(programme):
    plan = plan_cohort(programme, START)
    segments = plan_timeline(plan)
    assert segments[0].meeting is None  # the kick-off question goes out before the kick-off
    assert [s.meeting.key for s in segments[1:]] == [m.key for m in plan.meetings]
    for segment in segments[1:]:
        assert all(item.at >= segment.meeting.starts_at for item in segment.items)
    webinar_2 = next(s for s in segments if s.meeting and s.meeting.key == "webinar-2")
    assert any(i.key == "case-work@webinar-2" for i in webinar_2.items)
