"""Attendance rules without an app: check-in, codes, summaries, catch-up plans."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cohort.core import attendance as att
from cohort.core.attendance import (
    ABSENT,
    EXCUSED,
    PRESENT,
    AttendanceError,
    CheckInPolicy,
    Mark,
    MeetingInfo,
    MeetingSlot,
    PersonInfo,
    decide_check_in,
)
from cohort.core.planning import plan_cohort

START = datetime(2025, 5, 15, 11, 0, tzinfo=UTC)  # 13:00 in Copenhagen
END = START + timedelta(hours=2)


def slot(fmt="in_person", code="HPWKJ7", cohort_id=1, cancelled=False) -> MeetingSlot:
    return MeetingSlot(id=7, cohort_id=cohort_id, format=fmt, starts_at=START, ends_at=END,
                       cancelled=cancelled, code=code)


@pytest.mark.parametrize("now, code, reason", [
    (START + timedelta(minutes=10), "HPW-KJ7", att.OPEN),
    (START - timedelta(minutes=15), "hpw kj7", att.OPEN),  # opens 15 min early, any spelling
    (END + timedelta(minutes=30), "HPWKJ7", att.OPEN),  # grace period after the end
    (START - timedelta(minutes=16), "HPWKJ7", att.TOO_EARLY),
    (START - timedelta(days=1), "HPWKJ7", att.TOO_EARLY),
    (END + timedelta(minutes=31), "HPWKJ7", att.TOO_LATE),
    (START + timedelta(minutes=10), "HPWKJ9", att.WRONG_CODE),
    (START + timedelta(minutes=10), "", att.WRONG_CODE),
    (START + timedelta(minutes=10), None, att.WRONG_CODE),
])
def test_in_person_check_in_window_and_code(now, code, reason):
    decision = decide_check_in(slot(), participant_cohort_id=1, code=code, now=now)
    assert decision.reason == reason
    assert decision.accepted is (reason == att.OPEN)


def test_someone_elses_meeting_is_refused_even_with_the_right_code():
    decision = decide_check_in(slot(cohort_id=2), 1, "HPWKJ7", START + timedelta(minutes=5))
    assert decision.reason == att.NOT_YOUR_MEETING and not decision.accepted


def test_cancelled_meeting_and_missing_code_are_refused():
    now = START + timedelta(minutes=5)
    assert decide_check_in(slot(cancelled=True), 1, "HPWKJ7", now).reason == att.CANCELLED
    assert decide_check_in(slot(code=None), 1, "HPWKJ7", now).reason == att.NO_CODE_YET


def test_online_meeting_needs_no_code_unless_one_was_shown():
    now = START + timedelta(minutes=5)
    assert decide_check_in(slot("online", code=None), 1, None, now).accepted
    assert decide_check_in(slot("online", code="HPWKJ7"), 1, None, now).reason == att.WRONG_CODE


def test_policy_is_configurable_and_message_names_the_time():
    policy = CheckInPolicy(open_before=timedelta(0), grace=timedelta(minutes=5))
    early = decide_check_in(slot(), 1, "HPWKJ7", START - timedelta(minutes=1), policy)
    assert early.reason == att.TOO_EARLY and "2025-05-15T11:00+00:00" in early.message
    late = decide_check_in(slot(), 1, "HPWKJ7", END + timedelta(minutes=6), policy)
    assert late.reason == att.TOO_LATE and "13:05" in late.message


def test_codes_use_only_the_unambiguous_alphabet():
    codes = {att.new_check_in_code() for _ in range(300)}
    assert len(codes) > 290  # random, not a constant
    for code in codes:
        assert len(code) == 6 and set(code) <= set(att.CODE_ALPHABET)
    assert not set("0O1IL2Z5S8BUVQDGN6M") & set(att.CODE_ALPHABET)
    assert att.format_code("HPWKJ7") == "HPW-KJ7"
    assert att.new_check_in_code(lambda n: 0) == "AAAAAA"


def test_marks_validate_state_and_when_they_may_be_recorded():
    with pytest.raises(AttendanceError, match="not an attendance state"):
        Mark("maybe")
    with pytest.raises(AttendanceError, match="at most"):
        Mark(EXCUSED, "x" * 501)
    assert Mark(EXCUSED).missed and Mark(ABSENT).missed and not Mark(PRESENT).missed
    day_before = START - timedelta(days=1)
    att.check_markable(EXCUSED, START, False, day_before)  # known in advance: fine
    with pytest.raises(AttendanceError, match="not started"):
        att.check_markable(ABSENT, START, False, day_before)
    with pytest.raises(AttendanceError, match="cancelled"):
        att.check_markable(PRESENT, START, True, END)


def test_import_never_overwrites_a_persons_own_mark():
    assert att.import_may_overwrite(None) and att.import_may_overwrite(att.SOURCE_IMPORT)
    assert not att.import_may_overwrite(att.SOURCE_FACILITATOR)
    assert not att.import_may_overwrite(att.SOURCE_CHECK_IN)


def _people(n):
    return [PersonInfo(i, f"Person {i}", f"p{i}@x.example", "Vejle") for i in range(1, n + 1)]


MEETINGS = [MeetingInfo("kickoff", "Kick-off", "kickoff", START),
            MeetingInfo("workshop-1", "Workshop 1", "workshop", START + timedelta(days=9)),
            MeetingInfo("webinar-1", "Webinar 1", "webinar", START + timedelta(days=37)),
            MeetingInfo("gone", "Cancelled", "webinar", START + timedelta(days=40), True)]


def test_summary_rates_distribution_and_follow_up():
    people = _people(6)
    marks = {("kickoff", p.id): PRESENT for p in people}
    marks[("kickoff", 6)] = ABSENT
    marks.update({("workshop-1", p.id): PRESENT for p in people[:4]})
    marks[("workshop-1", 5)] = EXCUSED
    marks[("workshop-1", 6)] = ABSENT
    summary = att.summarise(MEETINGS, people, marks, min_group=5)
    assert [m.key for m in summary.meetings] == ["kickoff", "workshop-1", "webinar-1"]
    kickoff, workshop, webinar = summary.meetings
    assert (kickoff.present, kickoff.absent, kickoff.unmarked) == (5, 1, 0)
    assert (workshop.present, workshop.absent, workshop.excused) == (4, 1, 1)
    assert not webinar.recorded and "webinar-1" not in summary.rates
    assert summary.rates["kickoff"].value == pytest.approx(5 / 6)
    assert summary.rates["workshop-1"].value == pytest.approx(4 / 6)
    assert summary.recorded_meetings == ("kickoff", "workshop-1")
    assert summary.distribution == {0: 1, 1: 1, 2: 4}
    assert [p.person.id for p in summary.follow_up] == [6]
    six = summary.people[5]
    assert six.missed == ("kickoff", "workshop-1") and six.count(ABSENT) == 2


def test_small_groups_are_suppressed_in_report_figures():
    people = _people(4)
    marks = {("kickoff", p.id): PRESENT for p in people}
    summary = att.summarise(MEETINGS, people, marks, min_group=5)
    assert summary.rates["kickoff"].suppressed and summary.rates["kickoff"].value is None
    assert summary.rates["kickoff"].base == 4
    assert summary.distribution is None and summary.distribution_base == 4
    # the facilitator's own per-meeting and per-person figures are not report figures
    assert summary.meetings[0].present == 4
    shown = att.summarise(MEETINGS, people, marks, min_group=4)
    assert shown.rates["kickoff"].value == 1.0 and shown.distribution == {0: 0, 1: 4}


def test_distribution_leaves_out_people_with_gaps():
    people = _people(6)
    marks = {("kickoff", p.id): PRESENT for p in people}
    marks.update({("workshop-1", p.id): ABSENT for p in people[:5]})  # person 6 unmarked
    summary = att.summarise(MEETINGS, people, marks, min_group=5)
    assert summary.distribution_base == 5 and summary.distribution == {0: 0, 1: 5, 2: 0}


@pytest.fixture(scope="module")
def plan(library):
    return plan_cohort(library.programmes["digital-lederskab"], date(2025, 4, 8))


def test_catch_up_carries_material_question_and_tasks_due_before_next(plan):
    now = datetime(2025, 4, 17, 15, 30, tzinfo=UTC)  # workshop 1 ended at 15:00 local
    item = att.plan_catch_up(plan, "workshop-1", "anne@vejle.example", now)
    assert item.natural_key == ("catch_up", "catch-up:workshop-1", "anne@vejle.example")
    assert item.themes == ("Forståelsesrammer",) and "Teknologiradaren" in item.content
    assert item.question.startswith("Hvad er din ledelsesrolle")
    assert item.next_meeting_key == "webinar-1"
    keys = {t.key for t in item.tasks}
    assert {"questions@workshop-1", "case-work@workshop-1", "material@workshop-1"} <= keys
    assert all(t.due_at <= item.next_meeting_starts_at for t in item.tasks)
    # the next morning at 08:00 Copenhagen (06:00 UTC in summer)
    assert item.send_at == datetime(2025, 4, 18, 6, 0, tzinfo=UTC)


def test_catch_up_send_time_leaves_room_to_correct(plan):
    ends = datetime(2025, 4, 8, 13, 0, tzinfo=UTC)  # kickoff ended 15:00 local
    late = datetime(2025, 4, 10, 5, 30, tzinfo=UTC)  # marked 07:30 local two days later
    assert att.catch_up_send_at(ends, late, "Europe/Copenhagen") == datetime(
        2025, 4, 11, 6, 0, tzinfo=UTC)
    early = datetime(2025, 4, 10, 4, 0, tzinfo=UTC)  # 06:00 local: today 08:00 is 2 h away
    assert att.catch_up_send_at(ends, early, "Europe/Copenhagen") == datetime(
        2025, 4, 10, 6, 0, tzinfo=UTC)
    last = att.plan_catch_up(plan, "kickout", "a@x.example", ends)
    assert last.next_meeting_key is None and last.tasks == ()
