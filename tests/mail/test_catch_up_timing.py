"""Catch-ups keep the mail policy like every other participant email: marked absent on a
Friday evening, the catch-up goes on Monday morning inside Monday's email; after a meeting on
Maundy Thursday, on the Tuesday after Easter. Sent through the real SMTP sink, the outbox run
at every quarter of an hour in between (each test on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from cohort import db, services
from cohort.core.attendance import ABSENT, Mark
from cohort.mail.dispatch import send_due
from cohort.models import Participant

from .test_dispatch import PEOPLE, engine
from .test_dispatch import app as app  # noqa: F401  (the fixture)

ZONE = ZoneInfo("Europe/Copenhagen")


def absent_then_run(app, cohort_id, meeting_key, marked_at, until, smtp_sink) -> list:
    """Mark Søren absent at `marked_at`, run the outbox every 15 minutes until `until`, and
    return the messages he got after the mark."""
    with db.transaction(engine(app)) as session:
        soren = session.scalars(select(Participant).where(
            Participant.email == "soren@vejle.example")).one()
        services.set_marks(session, cohort_id, meeting_key, {soren.id: Mark(ABSENT)}, "test",
                           marked_at)
    before = len(smtp_sink.to("soren@vejle.example"))
    moment = marked_at
    while moment <= until:
        assert send_due(app, now=moment).failed == 0
        moment += timedelta(minutes=15)
    return smtp_sink.to("soren@vejle.example")[before:]


def items(message) -> list[str]:
    return [item.split()[1] for item in message["X-Cohort-Delivery"].split("; ")]


def test_a_catch_up_marked_on_friday_evening_goes_inside_mondays_email(app, make_cohort,
                                                                      smtp_sink):
    cohort_id = make_cohort(engine(app), people=PEOPLE).id
    send_due(app, now=datetime(2025, 4, 11, 16, 0, tzinfo=UTC))  # everything due went
    friday_evening = datetime(2025, 4, 11, 17, 0, tzinfo=UTC)  # 19:00 local, after kick-off
    got = absent_then_run(app, cohort_id, "kickoff", friday_evening,
                          datetime(2025, 4, 14, 12, 0, tzinfo=UTC), smtp_sink)
    (catch_up,) = [m for m in got if "catch_up" in items(m)]
    sent_at = catch_up["Date"].datetime.astimezone(ZONE)
    assert (sent_at.strftime("%a"), sent_at.hour) == ("Mon", 8)  # not on Saturday morning
    assert len(items(catch_up)) > 1  # the reminders Søren gets on Monday carry it
    assert len(got) == 1  # one email that day, not two


def test_after_maundy_thursday_the_catch_up_waits_for_the_tuesday_after_easter(
        app, make_cohort, smtp_sink):
    cohort_id = make_cohort(engine(app), people=PEOPLE).id
    ended = datetime(2025, 4, 17, 13, 0, tzinfo=UTC)  # workshop 1 ended 15:00 local
    send_due(app, now=ended)
    got = absent_then_run(app, cohort_id, "workshop-1", ended + timedelta(minutes=30),
                          datetime(2025, 4, 22, 10, 0, tzinfo=UTC), smtp_sink)
    (catch_up,) = [m for m in got if "catch_up" in items(m)]
    sent_at = catch_up["Date"].datetime.astimezone(ZONE)
    assert sent_at.date().isoformat() == "2025-04-22" and sent_at.hour == 8
    assert all(m["Date"].datetime.astimezone(ZONE).date().isoformat() >= "2025-04-22"
               for m in got)  # nothing on Good Friday, the weekend or Easter Monday
    assert "task_released" in items(catch_up)
