"""Draft cohorts send nothing; launching sends what the launch forecast promised.

Against the real SMTP sink, on SQLite and PostgreSQL, with the outbox run at simulated times.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from cohort import db, services
from cohort.core import deliveries as kinds
from cohort.core.launching import KIND_ORDER
from cohort.mail.dispatch import send_due
from cohort.models import Cohort, Delivery, Participant
from cohort.services.plans import POLICY_SKIPPED
from tests.fixtures.cohorts import CREATED  # when make_cohort creates its cohorts

from .test_dispatch import app as app  # noqa: F401  (the fixture)
from .test_dispatch import engine

LIMIT = timedelta(hours=72)  # COHORT_OUTBOX_OVERDUE_LIMIT_HOURS's default, as the app has it
CSV = "name,email,organisation,role,language\n" + "".join(
    f"Leder {n},leder{n}@kommune{n % 4}.example,Kommune {n % 4},Leder,{'da' if n % 3 else 'nb'}\n"
    for n in range(20))


def draft(app, library, start: date) -> int:
    """A draft cohort as the web makes it, with 20 participants imported from a CSV file."""
    new = services.NewCohort(library.programmes["digital-lederskab"],
                             library.sources["digital-lederskab"], start)
    with db.transaction(engine(app)) as session:
        cohort = services.create_cohort_as(session, new, None, now=CREATED)
        services.import_participants(session, cohort.id, CSV, now=CREATED)
        assert cohort.state == "draft"
        return cohort.id


def pending_times(app, cohort_id: int) -> list[datetime]:
    with db.transaction(engine(app)) as session:
        return sorted(set(session.scalars(select(Delivery.send_at).where(
            Delivery.cohort_id == cohort_id, Delivery.state == kinds.PENDING))))


def states(app, cohort_id: int) -> Counter:
    with db.transaction(engine(app)) as session:
        return Counter(session.scalars(select(Delivery.state).where(
            Delivery.cohort_id == cohort_id)))


def test_a_draft_sends_nothing_for_a_fortnight(app, library, smtp_sink):
    # It starts a week after it was created, so every planned kind falls due in the fortnight.
    cohort_id = draft(app, library, date(2025, 3, 11))
    with db.transaction(engine(app)) as session:
        services.meetings.reschedule(session, cohort_id, "webinar-1",
                                     datetime(2025, 3, 20, 12, 0, tzinfo=UTC), None,
                                     now=CREATED)
        # Notices and catch-ups, whatever made them: the claim skips every kind of a draft.
        soren = session.scalars(select(Participant).where(
            Participant.cohort_id == cohort_id)).first()
        session.execute(insert(Delivery), [dict(
            cohort_id=cohort_id, participant_id=soren.id, kind=kind,
            anchor=f"meeting:kickoff#{n}", recipient=soren.email, send_at=CREATED,
            state=kinds.PENDING, attempts=0)
            for n, kind in enumerate((kinds.MEETING_UPDATE, kinds.MEETING_CANCELLATION), 1)])
    moment = CREATED
    while moment <= CREATED + timedelta(days=14):
        report = send_due(app, now=moment)
        assert (report.sent, report.skipped, report.failed) == (0, 0, 0), moment
        moment += timedelta(hours=6)
    assert smtp_sink.count() == 0
    with db.transaction(engine(app)) as session:
        # Pending, or skipped by the mail policy when planned (the moved webinar leaves no
        # working day for some items): a plan decision, which the launch makes again.
        rows = session.execute(select(Delivery.state, Delivery.last_error).where(
            Delivery.cohort_id == cohort_id)).all()
    assert {state for state, _error in rows} == {kinds.PENDING, kinds.SKIPPED}
    assert all(error.startswith(POLICY_SKIPPED) for state, error in rows
               if state == kinds.SKIPPED)
    with db.transaction(engine(app)) as session:
        due = set(session.scalars(select(Delivery.kind).where(
            Delivery.cohort_id == cohort_id, Delivery.send_at <= moment)))
    assert due == set(kinds.KINDS)  # every kind was due and none went out


@pytest.mark.parametrize("launched_after", [timedelta(days=20), timedelta(days=45)])
def test_launch_sends_what_the_forecast_promised(app, library, smtp_sink,
                                                 launched_after):
    """Launched three weeks after creating a cohort that starts four months later, or on the
    kickoff's week of a cohort that started already: what goes out in the next 14 days is
    what the forecast said, per kind, and what the outbox skips is what it said would be."""
    start = date(2025, 7, 1) if launched_after.days == 20 else date(2025, 4, 8)
    cohort_id = draft(app, library, start)
    launch_at = CREATED + launched_after
    assert send_due(app, now=launch_at).sent == 0
    with db.transaction(engine(app)) as session:
        forecast = services.launch_forecast(session, cohort_id, launch_at, overdue_limit=LIMIT)
        services.launch_cohort(session, cohort_id, None, launch_at, overdue_limit=LIMIT)
    assert forecast.sending_total > 0
    if launched_after.days == 45:
        assert forecast.skipped_total > 0  # the cohort started a week before the launch
    sent: Counter[str] = Counter()  # items per kind, a bundle's too
    arrived: Counter[str] = Counter()  # emails, each under the kind of its first section
    with db.transaction(engine(app)) as session:  # what the mail policy skips at the launch
        skipped = session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.state == kinds.SKIPPED,
            Delivery.last_error.startswith(POLICY_SKIPPED)))
    for moment in [launch_at, *(t for t in pending_times(app, cohort_id)
                                if launch_at < t <= launch_at + timedelta(days=14))]:
        before = smtp_sink.count()
        report = send_due(app, now=moment)
        skipped += report.skipped
        for m in smtp_sink.messages[before:]:
            found = [item.split()[1] for item in m["X-Cohort-Delivery"].split("; ")]
            sent.update(found)
            arrived[min(found, key=KIND_ORDER.index)] += 1
        assert report.failed == 0
    assert dict(sent) == {k.kind: k.items for k in forecast.sending}
    # The forecast counts emails as they arrive, not outbox rows.
    assert {k: n for k, n in arrived.items()} == {k.kind: k.emails for k in forecast.sending
                                                  if k.emails}
    assert forecast.sending_total == smtp_sink.count()
    if launched_after.days == 45:  # in the programme's busy first weeks items share emails
        assert forecast.sending_total < forecast.items_total
    assert skipped == forecast.skipped_total
    assert len({m["To"].addresses[0].addr_spec for m in smtp_sink.messages}) == \
        forecast.recipients
    with db.transaction(engine(app)) as session:
        cohort = session.get(Cohort, cohort_id)
        assert cohort.state == "launched" and cohort.launched_at == launch_at
        (entry,) = services.activity.cohort_activity(session, cohort_id, limit=1)
    assert (entry.action, entry.details) == ("cohort_launched", {
        "sending": forecast.sending_total, "skipped": forecast.skipped_total,
        "recipients": forecast.recipients})


def test_welcome_and_invitations_are_due_at_the_launch_not_at_creation(app, library):
    cohort_id = draft(app, library, date(2025, 7, 1))
    launch_at = CREATED + timedelta(days=60)  # far past the overdue limit since creation
    with db.transaction(engine(app)) as session:
        services.launch_cohort(session, cohort_id, None, launch_at)
        with pytest.raises(services.AlreadyLaunched):
            services.launch_cohort(session, cohort_id, None, launch_at)
    report = send_due(app, now=launch_at)
    assert report.skipped == 0
    assert report.sent == 20 * (1 + 7)  # a welcome and seven meeting invitations each


def test_a_catch_up_marked_in_the_draft_goes_inside_the_welcome_at_the_launch(app, library,
                                                                              smtp_sink):
    """A draft whose kick-off has been held: an absence marked before the launch. Launched on
    a Sunday evening, the catch-up goes with the welcome on Monday morning (the mail policy),
    in the same email, as the forecast said."""
    from cohort.core.attendance import ABSENT, Mark

    cohort_id = draft(app, library, date(2025, 3, 4))  # kick-off Tuesday 4 March, 13-15
    kickoff_over = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)
    with db.transaction(engine(app)) as session:
        person = session.scalars(select(Participant).where(
            Participant.cohort_id == cohort_id).order_by(Participant.id)).first()
        services.set_marks(session, cohort_id, "kickoff", {person.id: Mark(ABSENT)}, "test",
                           kickoff_over)
    sunday_evening = datetime(2025, 3, 9, 19, 0, tzinfo=UTC)
    with db.transaction(engine(app)) as session:
        forecast = services.launch_forecast(session, cohort_id, sunday_evening,
                                            overdue_limit=LIMIT)
        services.launch_cohort(session, cohort_id, None, sunday_evening, overdue_limit=LIMIT)
    (catch_up,) = [k for k in forecast.sending if k.kind == "catch_up"]
    assert (catch_up.emails, catch_up.bundled) == (0, 1)  # inside the welcome
    assert send_due(app, now=sunday_evening).sent == 0  # quiet on a Sunday evening
    monday = datetime(2025, 3, 10, 7, 0, tzinfo=UTC)  # 08:00 local
    send_due(app, now=monday)
    (email,) = [m for m in smtp_sink.to(person.email)
                if "catch_up" in m["X-Cohort-Delivery"]]
    kinds_in_it = [item.split()[1] for item in email["X-Cohort-Delivery"].split("; ")]
    assert "welcome" in kinds_in_it and "catch_up" in kinds_in_it
