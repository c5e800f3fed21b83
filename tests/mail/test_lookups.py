"""The rows composing reads once per batch (mail/lookups.py, `Lookups`): a meeting's
invitation made once per batch, and a batch's missing personal links and calendar feeds
written apart from its reads."""

from __future__ import annotations

from sqlalchemy import func, select

from cohort import db
from cohort.app import create_app
from cohort.mail import lookups as lookups_module
from cohort.mail.compose import message_data
from cohort.mail.dispatch import OutboxSettings
from cohort.mail.lookups import Lookups
from cohort.models import CalendarFeed, Delivery, ParticipantLink
from cohort.services.participant_access import access_by_token
from tests.fixtures.cohorts import CREATED
from tests.fixtures.paths import PROGRAMMES
from tests.mail import test_render_snapshots as snapshots
from tests.mail.test_render_snapshots import FEED, PEOPLE

outbox = snapshots.outbox  # the snapshots' cohort (a module-scoped fixture), used here too


def test_a_batch_makes_each_meetings_invitation_once(outbox, monkeypatch):
    """The outbox composes a batch with one `Lookups`: a meeting's invitation is made once and
    only its attendee differs from email to email."""
    made = []

    def counted(session, cohort_id, meeting_key, organizer, now=None):
        made.append(meeting_key)
        return invitation_to_all(session, cohort_id, meeting_key, organizer, now)

    invitation_to_all = lookups_module.meeting_invitation_to_all
    monkeypatch.setattr(lookups_module, "meeting_invitation_to_all", counted)
    settings = OutboxSettings.from_app(outbox)
    with outbox.app_context(), db.transaction(outbox.extensions["cohort.engine"]) as session:
        deliveries = list(session.scalars(select(Delivery).where(
            Delivery.kind == "meeting_invitation",
            Delivery.anchor != "meeting:webinar-3").order_by(Delivery.id)))  # cancelled
        lookups = Lookups(session, settings.context, CREATED)
        lookups.prefetch(deliveries)
        composed = [message_data(session, d, settings.context, CREATED, lookups)
                    for d in deliveries]
    meetings = {d.anchor for d in deliveries}
    assert len(deliveries) > len(meetings) > 1
    assert sorted(made) == sorted(m.removeprefix("meeting:") for m in meetings)
    calendars = [data.calendar.ics for data in composed]
    assert len(set(calendars)) == len(deliveries)  # each with its own attendee


def test_a_batchs_missing_links_and_feeds_are_written_apart_from_its_reads(tmp_path,
                                                                           make_cohort):
    """The outbox reads a batch's rows first (`Lookups.prefetch(issue=False)` writes nothing)
    and then writes the personal links and welcome calendar feeds it lacks in one step
    (`issue_missing`), which the dispatcher does under its SQLite writer lock: the emails
    carry links that let their participant in, and feeds that exist."""
    app = create_app({
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cohort.sqlite3'}", "SECRET_KEY": "test",
        "PROGRAMMES_DIR": str(PROGRAMMES), "MAIL_URL": f"file://{tmp_path / 'mail'}",
        "MAIL_FROM": "Kursus <kursus@cohort.example>", "BASE_URL": "https://cohort.example"})
    engine = app.extensions["cohort.engine"]
    db.create_schema(engine)
    make_cohort(engine, people=PEOPLE)
    settings = OutboxSettings.from_app(app)

    def count(session, model) -> int:
        return session.scalar(select(func.count()).select_from(model))

    with app.app_context(), db.transaction(engine) as session:
        deliveries = list(session.scalars(select(Delivery).where(
            Delivery.kind.in_(("welcome", "meeting_invitation"))).order_by(Delivery.id)))
        assert count(session, ParticipantLink) == count(session, CalendarFeed) == 0
        lookups = Lookups(session, settings.context, CREATED)
        lookups.prefetch(deliveries, issue=False)
        assert count(session, ParticipantLink) == count(session, CalendarFeed) == 0
        assert not session.new and not session.dirty
        lookups.issue_missing()
        assert count(session, ParticipantLink) == count(session, CalendarFeed) == len(PEOPLE)
        lookups.issue_missing()  # nothing left to issue
        assert count(session, ParticipantLink) == count(session, CalendarFeed) == len(PEOPLE)
        composed = [message_data(session, d, settings.context, CREATED, lookups)
                    for d in deliveries]
        assert count(session, ParticipantLink) == count(session, CalendarFeed) == len(PEOPLE)
        for delivery, data in zip(deliveries, composed, strict=True):
            token = data.personal_url.rsplit("/p/", 1)[1]
            assert access_by_token(session, token, CREATED).participant.id == \
                delivery.participant_id
            if delivery.kind == "welcome":
                assert FEED.fullmatch(data.calendar_url)
    engine.dispose()
