"""The mail policy (core/mailpolicy.py) on the reference programme and on small cases.

The target of issue #20, for `digital-lederskab` with 32 people, whatever the day and hour of
launch: at most 35 emails per participant, at most one non-meeting email a day, none on a
weekend or a Danish public holiday, none outside 08:00-17:00 local time, and no reminder for
something whose first email was skipped.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cohort.core import deliveries as kinds
from cohort.core.deliveries import (
    bundle_key,
    emails_per_recipient,
    plan_deliveries,
)
from cohort.core.mailpolicy import MailItem, MailPolicy, WorkingTime, schedule_mail
from cohort.core.planning import plan_cohort
from cohort.core.programme import ProgrammeError, load_programme_file, parse_programme
from tests.fixtures.paths import REPO
from tests.fixtures.properties import property_settings

ZONE = ZoneInfo("Europe/Copenhagen")
PEOPLE = [f"leader{n}@kommune.example" for n in range(32)]
START = date(2025, 4, 8)  # workshop 1 falls on Maundy Thursday: a holiday in the plan
DK = holidays.country_holidays("DK", years=range(2024, 2030))
REFERENCE = load_programme_file(REPO / "programmes" / "digital-lederskab.yaml")


def _planned(launch: datetime, start: date = START, policy=True):
    plan = plan_cohort(REFERENCE, start)
    return plan, plan_deliveries(plan, PEOPLE, launch, policy)


@given(days_before=st.integers(min_value=8, max_value=60),
       minute=st.integers(min_value=0, max_value=24 * 60 - 1),
       start_weeks=st.integers(min_value=0, max_value=52))
@example(days_before=9, minute=21 * 60, start_weeks=0)  # a Sunday evening launch
@example(days_before=8, minute=7 * 60 + 59, start_weeks=0)
@property_settings(40)
def test_the_reference_programme_meets_the_target_whatever_the_launch(
        days_before, minute, start_weeks):
    start = START + timedelta(weeks=start_weeks)  # a Tuesday, as the programme is written
    local = datetime.combine(start - timedelta(days=days_before), time(0), tzinfo=ZONE) \
        + timedelta(minutes=minute)
    launch = local.astimezone(UTC)
    plan, planned = _planned(launch, start)
    counts = emails_per_recipient(planned)
    assert max(counts.values()) <= 35
    by_key = {(d.kind, d.anchor): d for d in planned if d.recipient == PEOPLE[0]}
    for delivery in by_key.values():
        if delivery.skip:
            continue
        local_time = delivery.send_at.astimezone(ZONE)
        assert local_time.weekday() < 5, delivery
        assert local_time.date() not in DK, delivery
        assert time(8) <= local_time.time() < time(17), delivery
        assert delivery.send_at >= launch or delivery.kind not in (
            kinds.WELCOME, kinds.MEETING_INVITATION), delivery
    bundles = {d.send_at for d in by_key.values()
               if not d.skip and bundle_key(1, d.kind, d.recipient, d.send_at)}
    per_day = Counter(moment.astimezone(ZONE).date() for moment in bundles)
    assert max(per_day.values()) == 1
    for delivery in by_key.values():  # a reminder only after its first email, never alone
        if delivery.kind in (kinds.TASK_REMINDER, kinds.SURVEY_REMINDER) and not delivery.skip:
            first_kind = kinds.TASK_RELEASED if delivery.kind == kinds.TASK_REMINDER \
                else kinds.SURVEY_INVITATION
            first = by_key[first_kind, delivery.anchor.split("#", 1)[0]]
            assert not first.skip
            assert delivery.send_at > first.send_at


def test_before_and_after_on_the_reference_programme():
    """The numbers of benchmarks/mail_policy.py: about 99 emails each before (101 with the
    level-3 follow-up survey's invitation and reminder), at most 35 after."""
    launch = datetime(2025, 3, 3, 9, tzinfo=UTC)
    _plan, before = _planned(launch, policy=None)
    _plan, after = _planned(launch)
    old = emails_per_recipient(before, bundled=False)
    new = emails_per_recipient(after)
    assert statistics.median(old.values()) == 101
    assert max(new.values()) <= 35
    assert len(after) == len(before)  # nothing is lost: every item is planned or skipped


def test_meeting_evaluations_open_when_the_meeting_ends():
    plan, planned = _planned(datetime(2025, 3, 3, 9, tzinfo=UTC))
    for survey in plan.surveys:
        if survey.template_key == "meeting-evaluation":
            meeting = plan.meeting(survey.meeting_key)
            assert survey.opens_at == meeting.ends_at
    invitation = next(d for d in planned if d.anchor == "survey:meeting-evaluation@webinar-1")
    assert invitation.send_at == plan.meeting("webinar-1").ends_at  # 15:00, a Tuesday


def _policy(**changes) -> MailPolicy:
    return replace(MailPolicy(timezone="Europe/Copenhagen"), **changes)


def _at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=ZONE).astimezone(UTC)


def test_a_sunday_evening_launch_greets_on_monday_morning():
    sunday = _at("2025-03-02", "21:00")
    items = [MailItem(kinds.WELCOME, "cohort", sunday, sunday),
             MailItem(kinds.MEETING_INVITATION, "meeting:kickoff", sunday, sunday,
                      _at("2025-04-08", "13:00"), alone=True)]
    schedule = schedule_mail(items, _policy())
    assert [slot.send_at for slot in schedule.slots] == [_at("2025-03-03", "08:00")] * 2


def test_easter_and_weekends_are_days_off_and_norway_has_its_own():
    clock = WorkingTime(_policy())
    assert clock.next_allowed(_at("2025-04-17", "09:00")) == _at("2025-04-22", "08:00")
    norway = WorkingTime(_policy(timezone="Europe/Oslo", country="NO"))
    # 17 May is Norway's constitution day (a Wednesday in 2028), a working day in Denmark
    assert norway.next_allowed(_at("2028-05-17", "09:00")).astimezone(ZONE).date() \
        == date(2028, 5, 18)
    assert WorkingTime(_policy()).allowed(_at("2028-05-17", "09:00"))


def test_what_cannot_wait_goes_earlier_or_is_skipped_and_its_reminder_too():
    friday_evening = _at("2025-03-07", "18:00")
    due = _at("2025-03-08", "12:00")  # a Saturday: nothing allowed before the deadline
    items = [
        MailItem(kinds.TASK_RELEASED, "task:t", friday_evening, friday_evening, due),
        MailItem(kinds.TASK_REMINDER, "task:t", friday_evening, friday_evening, due,
                 follows=(kinds.TASK_RELEASED, "task:t")),
        # a reflection question before a meeting may come earlier, on Friday morning
        MailItem(kinds.PROMPT, "prompt:p", friday_evening, _at("2025-03-01", "08:00"), due,
                 gathers=True),
    ]
    schedule = schedule_mail(items, _policy())
    assert schedule.skip_reasons() == {
        (kinds.TASK_RELEASED, "task:t"): "no allowed time before it stops being useful",
        (kinds.TASK_REMINDER, "task:t"): "its first email was not sent"}
    assert schedule.send_times() == {(kinds.PROMPT, "prompt:p"): _at("2025-03-07", "08:00")}


def test_one_email_a_day_moves_later_within_the_day_when_it_may():
    day = "2025-03-04"
    items = [
        MailItem(kinds.TASK_RELEASED, "task:a", _at(day, "08:00"), _at(day, "08:00"),
                 _at("2025-03-10", "12:00")),
        MailItem(kinds.SURVEY_INVITATION, "survey:s", _at(day, "15:00"), _at(day, "15:00"),
                 _at("2025-03-11", "15:00")),
    ]
    schedule = schedule_mail(items, _policy())
    assert len(schedule.slots) == 1
    assert schedule.slots[0].send_at == _at(day, "15:00")


def test_without_a_policy_every_item_keeps_its_time():
    items = [MailItem(kinds.PROMPT, f"prompt:{n}", _at("2025-03-01", f"0{n}:00"),
                      _at("2025-03-01", "00:00")) for n in range(3)]
    assert [s.send_at for s in schedule_mail(items, None).slots] == [i.at for i in items]


MINIMAL = """\
id: tiny
title: Tiny
language: nb
meetings:
  - {key: kickoff, kind: kickoff, title: Start, offset: 0d}
mail:
  bundle: weekly
  hours: 09:00-15:00
  holidays: NO
"""


def test_the_mail_block_is_read_and_checked_with_file_and_line():
    programme = parse_programme(MINIMAL, "tiny.yaml")
    assert programme.mail.bundle == "weekly"
    assert programme.mail.hours == (time(9), time(15))
    assert programme.mail.holidays == "NO"  # a bare NO is Norway, not false
    plan = plan_cohort(programme, date(2025, 5, 12), "Europe/Oslo")
    assert plan.mail.country == "NO" and plan.mail.reach_back == timedelta(days=6)
    for bad, message in (("  bundle: daily\n  holidays: DK\n  days: [sat]\n  gather: 1d\n"
                          "  hours: 17:00-08:00\n", "end before they start"),
                         ("  bundle: hourly\n", "bundle"),
                         ("  days: []\n", "at least one day"),
                         ("  gather: 9d\n", "0 to 6 days")):
        text = MINIMAL.replace("  bundle: weekly\n  hours: 09:00-15:00\n  holidays: NO\n", bad)
        with pytest.raises(ProgrammeError) as error:
            parse_programme(text, "tiny.yaml")
        line = 7 + bad.count("\n") - 1
        assert f"tiny.yaml:{line}: mail." in str(error.value), error.value
        assert message in str(error.value)


def test_an_extra_item_joins_the_days_email_or_waits_for_a_working_morning():
    """A catch-up marked on a Friday evening goes on Monday morning, inside Monday's email if
    there is one; with every day before the next meeting taken, on the first allowed day; with
    no allowed time before the meeting at all, not at all."""
    from cohort.core.mailpolicy import extra_item_time

    policy = MailPolicy("Europe/Copenhagen")
    friday_evening = datetime(2025, 4, 11, 17, 0, tzinfo=UTC)  # 19:00 local
    monday_8 = datetime(2025, 4, 14, 6, 0, tzinfo=UTC)
    monday_11 = datetime(2025, 4, 14, 9, 0, tzinfo=UTC)
    meeting = datetime(2025, 4, 17, 7, 0, tzinfo=UTC)
    assert extra_item_time(policy, friday_evening, meeting, []) == monday_8
    assert extra_item_time(policy, friday_evening, meeting, [monday_11]) == monday_11
    # Monday's email went already at 08:00 (marked on Monday at 10:00): Tuesday morning.
    monday_10 = datetime(2025, 4, 14, 8, 0, tzinfo=UTC)
    assert extra_item_time(policy, monday_10, meeting, [monday_8]) == datetime(
        2025, 4, 15, 6, 0, tzinfo=UTC)
    # Easter: marked after workshop 1 on Maundy Thursday, the next working day is Tuesday.
    thursday = datetime(2025, 4, 17, 14, 0, tzinfo=UTC)
    assert extra_item_time(policy, thursday, None, []) == datetime(2025, 4, 22, 6, 0, tzinfo=UTC)
    # Tuesday's email is still to go: it carries the catch-up too.
    taken = [datetime(2025, 4, d, 6, 0, tzinfo=UTC) for d in (14, 15, 16)]
    assert extra_item_time(policy, monday_10, meeting, taken) == datetime(
        2025, 4, 15, 6, 0, tzinfo=UTC)
    # Monday's email went and the meeting is on Tuesday at 07:00: Monday all the same.
    tuesday_7 = datetime(2025, 4, 15, 5, 0, tzinfo=UTC)
    assert extra_item_time(policy, monday_10, tuesday_7, [monday_8]) == monday_10
    # No working hour left before the meeting.
    assert extra_item_time(policy, friday_evening, monday_8, []) is None
