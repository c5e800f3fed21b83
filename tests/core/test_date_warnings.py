"""Dates worth a second look: past items, deadlines and meetings on weekends and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from cohort.core.date_warnings import (
    HOLIDAY,
    PAST,
    WEEKEND,
    date_warnings,
    plan_years,
)
from cohort.core.deliveries import first_email_of
from cohort.core.holidays_calendar import holiday_country, public_holidays
from cohort.core.launching import EVERY_PARTICIPANT, forecast_launch, planned_emails
from cohort.core.planning import MeetingOverride, plan_cohort
from cohort.core.programme import parse_programme
from cohort.core.replanning import plan_changes
from tests.fixtures.programmes import VALID
from tests.fixtures.properties import property_settings

START = date(2025, 4, 8)
BEFORE = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def plan(library, **overrides):
    programme = library.programmes["digital-lederskab"]
    return plan_cohort(programme, START, programme.timezone,
                       {k: MeetingOverride(starts_at=v) for k, v in overrides.items()})


def test_holidays_by_country_and_language():
    danish = public_holidays("DK", [2025], "da")
    assert danish[date(2025, 5, 29)] == "Kristi himmelfartsdag"
    assert public_holidays("NO", [2025], "no")[date(2025, 5, 17)] == "Grunnlovsdag"
    assert date(2025, 5, 17) not in danish
    assert public_holidays("DK", [2025])[date(2025, 12, 25)] == "Christmas Day"
    assert public_holidays("ZZ", [2025]) == {}
    assert holiday_country("Europe/Oslo", "da") == "NO"
    assert holiday_country("UTC", "da") == "DK" and holiday_country("UTC", "en") is None


def test_the_reference_plan_has_two_holidays_and_nothing_past_before_it_starts(library):
    reference = plan(library)
    found = date_warnings(reference, BEFORE, public_holidays("DK", plan_years(reference)))
    assert [(w.code, w.item, w.key, w.field, w.day) for w in found] == [
        (HOLIDAY, "meeting", "workshop-1", "starts_at", date(2025, 4, 17)),
        (HOLIDAY, "task", "buddy-exchange@webinar-1", "due_at", date(2025, 6, 9)),
    ]
    assert found[0].holiday == "Maundy Thursday" and found[0].title == "Workshop 1"


def test_a_move_to_a_monday_puts_the_deadlines_before_it_on_a_weekend(library):
    before = plan(library)
    after = plan(library, **{"webinar-2": datetime(2025, 6, 16, 13, 0)})
    moved = {(c.item, c.key, c.field) for c in plan_changes(before, after) if c.after}
    found = date_warnings(after, BEFORE, {}, only=moved)
    assert {w.code for w in found} == {WEEKEND}
    assert {(w.key, w.field) for w in found} >= {("questions@webinar-1", "due_at")}
    assert all(w.day.weekday() >= 5 and w.item == "task" for w in found)
    # Without `only`, weekends elsewhere in the plan would be listed too; none are here.
    assert date_warnings(after, BEFORE, {}) == found


def test_a_weekend_holiday_is_one_warning_that_names_the_holiday(library):
    """A deadline on a Saturday that is also a holiday was listed twice on the overview (once
    a weekend day, once a holiday); the holiday is the stronger reason, and the date the page
    shows already says it is a Saturday. A weekend asked for alone is still a weekend."""
    after = plan(library, **{"webinar-2": datetime(2025, 6, 16, 13, 0)})
    weekend = date_warnings(after, BEFORE, {})
    assert weekend and {w.code for w in weekend} == {WEEKEND}
    holidays = {w.day: "Grundlovsdag" for w in weekend}
    found = date_warnings(after, BEFORE, holidays, codes=(WEEKEND, HOLIDAY))
    assert [(w.code, w.ref, w.holiday) for w in found] == [
        (HOLIDAY, w.ref, "Grundlovsdag") for w in weekend]
    assert date_warnings(after, BEFORE, holidays, codes=(WEEKEND,)) == weekend


def test_a_move_into_the_past_lists_what_is_lost(library):
    now = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    before = plan(library)
    after = plan(library, kickoff=datetime(2025, 3, 5, 13, 0))
    moved = {(c.item, c.key, c.field) for c in plan_changes(before, after) if c.after}
    found = date_warnings(after, now, {}, only=moved)
    assert {w.code for w in found} == {PAST} and all(w.at < now for w in found)
    assert ("meeting", "kickoff", "starts_at") in {w.ref for w in found}
    assert ("task", "choose-case", "release_at") in {w.ref for w in found}
    # Weekends and holidays of what is already past are not worth a warning.
    assert date_warnings(after, now, {date(2025, 3, 5): "x"}, codes=(HOLIDAY,),
                         only=moved) == []


@given(days=st.integers(-60, 200))
@property_settings(30)
def test_every_warning_is_true_of_its_date(library, days):
    now = BEFORE + timedelta(days=days)
    reference = plan(library)
    holidays = public_holidays("DK", plan_years(reference))
    for w in date_warnings(reference, now, holidays):
        assert w.day == w.at.astimezone(ZoneInfo(reference.timezone)).date()
        if w.code == PAST:
            assert w.at < now
        elif w.code == WEEKEND:
            assert w.at >= now and w.day.weekday() >= 5
        else:
            assert w.at >= now and holidays[w.day] == w.holiday


def test_a_late_plan_skips_the_first_items_for_every_participant(library):
    reference = plan(library)
    limit = timedelta(hours=72)
    early = forecast_launch(planned_emails(reference, BEFORE), BEFORE, overdue_limit=limit)
    assert early.skipped_items == () and early.skipped_total == 0
    late_now = datetime(2025, 4, 12, 9, 0, tzinfo=UTC)  # four days after the kickoff
    late = forecast_launch(planned_emails(reference, late_now), late_now,
                           overdue_limit=limit)
    skipped = {(i.kind, i.anchor) for i in late.skipped_items}
    assert ("survey_invitation", "survey:self-assessment-pre") in skipped
    assert ("meeting_invitation", "meeting:kickoff") in skipped  # it has been held
    assert ("meeting_invitation", "meeting:workshop-1") not in skipped
    # Each is overdue by now, or a later reminder of a first email that is (never remind of
    # something never told about).
    assert all(i.emails == 1 for i in late.skipped_items)
    assert all(i.send_at <= late_now or first_email_of(i.kind, i.anchor) in skipped
               for i in late.skipped_items)
    assert any(i.send_at > late_now for i in late.skipped_items)
    pre = next(i for i in late.skipped_items if i.anchor == "survey:self-assessment-pre")
    assert pre.title == "Selvvurdering før forløbet"
    assert {e.recipient for e in planned_emails(reference, late_now)} == {
        EVERY_PARTICIPANT, "facilitator"}


def _meeting_day_codes(plan, language: str) -> set[tuple[str, str]]:
    """What the new-cohort preview warns of: meetings on a weekend or holiday, the plan
    judged on its own (no `now`: nothing is past)."""
    country = holiday_country(plan.timezone, language)
    holidays = public_holidays(country, plan_years(plan)) if country else {}
    found = date_warnings(plan, None, holidays)
    assert PAST not in {w.code for w in found}
    return {(w.key, w.code) for w in found if w.item == "meeting"}


def test_a_meeting_on_a_weekend_or_holiday_is_warned_of():
    programme = parse_programme(VALID.replace("offset: 9d", "offset: 4d"), "x.yaml")
    # 2025-05-29 is Ascension Day in Denmark; +4 days is Monday 2 June.
    assert _meeting_day_codes(plan_cohort(programme, date(2025, 5, 29)), programme.language) == {
        ("kickoff", "holiday")}
    assert _meeting_day_codes(plan_cohort(programme, date(2025, 5, 31)), programme.language) == {
        ("kickoff", "weekend")}


def test_norwegian_holidays_for_oslo_cohorts():
    programme = parse_programme(VALID, "x.yaml")
    plan = plan_cohort(programme, date(2025, 5, 17), "Europe/Oslo")  # Grunnlovsdag, a Saturday
    found = _meeting_day_codes(plan, programme.language)
    # A Saturday that is a holiday is warned of once, as the holiday.
    assert {code for key, code in found if key == "kickoff"} == {"holiday"}
