"""Planning: the seed's calendar, daylight-saving changes, overrides, warnings."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from cohort.core.planning import MeetingOverride, plan_cohort
from cohort.core.programme import parse_programme
from tests.fixtures.programmes import VALID

CPH = ZoneInfo("Europe/Copenhagen")


@pytest.fixture(scope="module")
def reference(library):
    return library.programmes["digital-lederskab"]


def local(dt: datetime, zone: ZoneInfo = CPH) -> datetime:
    return dt.astimezone(zone)


def test_reference_programme_reproduces_the_seed_calendar(reference):
    plan = plan_cohort(reference, date(2025, 4, 8))
    assert [local(m.starts_at).date() for m in plan.meetings] == [
        date(2025, 4, 8), date(2025, 4, 17), date(2025, 5, 15), date(2025, 6, 12),
        date(2025, 8, 21), date(2025, 9, 4), date(2025, 10, 2),
    ]
    assert [m.kind for m in plan.meetings] == [
        "kickoff", "workshop", "webinar", "webinar", "webinar", "workshop", "kickout"]


def test_all_planned_times_are_utc(reference):
    plan = plan_cohort(reference, date(2025, 4, 8))
    stamps = [m.starts_at for m in plan.meetings] + [t.release_at for t in plan.tasks]
    assert all(s.utcoffset().total_seconds() == 0 for s in stamps)


def test_local_start_times_survive_daylight_saving_changes():
    # Started 2025-03-25 the kick-off is in winter time (+01:00), webinar 1 in summer (+02:00).
    programme = parse_programme(VALID, "x.yaml")
    plan = plan_cohort(programme, date(2025, 3, 25))
    kickoff, webinar = plan.meetings
    assert local(kickoff.starts_at).time() == time(13, 0)
    assert local(webinar.starts_at).time() == time(13, 0)
    assert local(kickoff.starts_at).utcoffset() != local(webinar.starts_at).utcoffset()
    assert kickoff.starts_at.hour == 12 and webinar.starts_at.hour == 11  # UTC


def test_autumn_change_keeps_local_times_and_anchored_clock_times(reference):
    plan = plan_cohort(reference, date(2025, 10, 7))  # crosses 26 Oct 2025
    for meeting in plan.meetings:
        start = reference.meeting_start(reference.meeting(meeting.key))
        assert local(meeting.starts_at).time() == start
    anchored_at = {t.key: t.release.at for t in reference.tasks}
    for task in plan.tasks:
        if anchored_at[task.template_key] is not None:
            assert local(task.release_at).time() == anchored_at[task.template_key]


def test_oslo_cohort_plans_in_oslo_time(reference):
    plan = plan_cohort(reference, date(2025, 4, 8), "Europe/Oslo")
    assert plan.timezone == "Europe/Oslo"
    assert local(plan.meetings[0].starts_at, ZoneInfo("Europe/Oslo")).time() == time(13, 0)


def test_repeated_task_runs_between_consecutive_meetings():
    programme = parse_programme(VALID, "x.yaml")
    plan = plan_cohort(programme, date(2025, 4, 8))
    (task,) = plan.tasks  # nothing after the last meeting
    assert task.key == "questions@kickoff"
    assert task.meeting_key == "kickoff" and task.due_meeting_key == "webinar-1"
    assert local(task.release_at) == datetime(2025, 4, 9, 8, 0, tzinfo=CPH)
    assert local(task.due_at) == datetime(2025, 4, 16, 12, 0, tzinfo=CPH)


def test_override_moves_the_meeting_and_what_is_anchored_to_it():
    programme = parse_programme(VALID, "x.yaml")
    moved = plan_cohort(programme, date(2025, 4, 8),
                        overrides={"webinar-1": MeetingOverride(datetime(2025, 4, 24, 9, 30))})
    webinar = moved.meeting("webinar-1")
    assert local(webinar.starts_at) == datetime(2025, 4, 24, 9, 30, tzinfo=CPH)
    assert local(moved.tasks[0].due_at).date() == date(2025, 4, 23)
    assert local(moved.surveys[0].opens_at) == datetime(2025, 4, 24, 16, 0, tzinfo=CPH)


def test_cancelled_meeting_drops_its_repeated_items_and_next_skips_it(reference):
    plan = plan_cohort(reference, date(2025, 4, 8),
                       overrides={"webinar-2": MeetingOverride(cancelled=True)})
    assert plan.meeting("webinar-2").cancelled
    assert not [t for t in plan.tasks if t.key.endswith("@webinar-2")]
    after_webinar_1 = [t for t in plan.tasks if t.meeting_key == "webinar-1" and t.due_meeting_key]
    assert after_webinar_1 and all(t.due_meeting_key == "webinar-3" for t in after_webinar_1)


def test_no_task_is_due_before_it_is_released_in_shipped_programmes(library):
    for programme in library.programmes.values():
        plan = plan_cohort(programme, date(2026, 1, 6))
        for task in plan.tasks:
            assert task.due_at is None or task.due_at >= task.release_at, task.key
