"""The demo tells one consistent story, whatever day `make run` is started on: one finished
cohort (every meeting held, every survey closed and answered, report ready) and one running
cohort (between two meetings, only surveys that have opened answered); meetings on working days
only; no answer before its survey opened or after now; nobody told "answered" about a survey
that has not opened; no free-text answer twice in a survey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select

from cohort import db, services
from cohort.core.planning import free_day_name
from cohort.demo import load_demo
from cohort.models import (
    AnonymousResponse,
    Attendance,
    BuddyCheckIn,
    Delivery,
    IdentifiedResponse,
    Invitation,
    Meeting,
    Participant,
    Quote,
    Survey,
    Task,
)
from cohort.services.participation import participant_page
from tests.fixtures.paths import PROGRAMMES
from tests.fixtures.properties import property_settings

ZONE = ZoneInfo("Europe/Copenhagen")


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'demo.sqlite3'}"  # one store is enough: this is about dates


def _check_story(engine, now: datetime) -> None:
    demo = load_demo(engine, PROGRAMMES, now=now)
    assert demo is not None
    with db.transaction(engine) as session:
        for cohort_id in (demo.running, demo.finished):
            meetings = session.scalars(select(Meeting).where(
                Meeting.cohort_id == cohort_id, Meeting.status != "cancelled")
                .order_by(Meeting.starts_at)).all()
            for m in meetings:  # working days only (no webinar on Christmas Eve)
                day = m.starts_at.astimezone(ZONE).date()
                assert free_day_name(day, "DK") is None, (m.key, day, free_day_name(day, "DK"))
            assert not [m.key for m in meetings if m.starts_at < now < m.ends_at]
            surveys = {s.id: s for s in session.scalars(select(Survey).where(
                Survey.cohort_id == cohort_id))}
            _check_answers(session, surveys, now)
            _check_attendance(session, cohort_id, meetings, now)
            _check_buddy_check_ins(session, cohort_id, now)
            assert not session.scalar(select(Delivery.id).where(
                Delivery.cohort_id == cohort_id, Delivery.state == "pending",
                Delivery.send_at <= now))
            for person in session.scalars(select(Participant).where(
                    Participant.cohort_id == cohort_id).limit(4)):
                page = participant_page(session, person, now)
                for item in page.surveys:
                    if item.status == "done":
                        assert item.opens_at <= now
        running = session.scalars(select(Meeting).where(Meeting.cohort_id == demo.running)).all()
        assert any(m.ends_at <= now for m in running) and any(m.starts_at > now for m in running)
        finished_surveys = session.scalars(select(Survey).where(
            Survey.cohort_id == demo.finished)).all()
        assert all(s.closes_at <= now for s in finished_surveys)
        assert all(m.ends_at <= now for m in session.scalars(select(Meeting).where(
            Meeting.cohort_id == demo.finished)))
        # Every survey of the finished cohort answered; its final results and quotes shown.
        rates = services.response_rates(session, demo.finished)
        assert rates and all(r.answered > 0 for r in rates)
        final = services.get_survey(session, demo.finished, "final")
        assert not services.survey_results(session, final.id, now=now).suppressed
        assert session.scalar(select(Quote.id).where(Quote.cohort_id == demo.finished))
        # Its Behaviour chapter: the follow-up answered, and every buddy round shown.
        behaviour = services.cohort_report(session, demo.finished, "da", now=now).behaviour
        assert [f.responses for f in behaviour.follow_up if f.responses]
        assert behaviour.buddy_rounds
        assert all(r.met and r.met.interval for r in behaviour.buddy_rounds)
        assert not session.scalar(select(Quote.id).where(Quote.cohort_id == demo.running))


def _check_answers(session, surveys: dict[int, Survey], now: datetime) -> None:
    ids = list(surveys)
    texts: dict[int, list[str]] = {}
    identified = session.execute(select(IdentifiedResponse.survey_id,
                                        IdentifiedResponse.submitted_at,
                                        IdentifiedResponse.answers)
                                 .where(IdentifiedResponse.survey_id.in_(ids))).all()
    for survey_id, submitted_at, answers in identified:
        survey = surveys[survey_id]
        assert survey.opens_at <= submitted_at <= min(survey.closes_at, now), survey.key
        texts.setdefault(survey_id, []).extend(v for v in answers.values() if isinstance(v, str))
    anonymous = session.execute(select(AnonymousResponse.survey_id,
                                       AnonymousResponse.submitted_on,
                                       AnonymousResponse.answers)
                                .where(AnonymousResponse.survey_id.in_(ids))).all()
    for survey_id, submitted_on, answers in anonymous:
        survey = surveys[survey_id]
        opened = survey.opens_at.astimezone(ZONE).date()
        assert opened <= submitted_on <= min(survey.closes_at, now).astimezone(ZONE).date()
        texts.setdefault(survey_id, []).extend(v for v in answers.values() if isinstance(v, str))
    assert texts, "no free-text answers"
    for survey_id, written in texts.items():
        assert len(written) == len(set(written)), f"{surveys[survey_id].key}: a text given twice"
    completed = session.scalars(select(Invitation.survey_id).where(
        Invitation.survey_id.in_(ids), Invitation.completed.is_(True))).all()
    assert all(surveys[s].opens_at <= now for s in completed)


def _check_buddy_check_ins(session, cohort_id: int, now: datetime) -> None:
    """Check-ins only for buddy exchanges released by now, each given after its release."""
    rows = session.execute(select(BuddyCheckIn.updated_at, Task.release_at).join(
        Task, Task.id == BuddyCheckIn.task_id).where(Task.cohort_id == cohort_id)).all()
    assert all(released <= given <= now for given, released in rows)
    released = session.scalar(select(Task.id).where(
        Task.cohort_id == cohort_id, Task.kind == "buddy_exchange", Task.release_at <= now))
    assert bool(rows) == bool(released)


def _check_attendance(session, cohort_id: int, meetings, now: datetime) -> None:
    recorded = set(session.scalars(select(Attendance.meeting_id).where(
        Attendance.cohort_id == cohort_id)))
    assert recorded == {m.id for m in meetings if m.ends_at <= now}


@pytest.mark.parametrize("now", [
    datetime(2026, 12, 6, 19, 55, tzinfo=UTC),  # the day Webinar 2 fell on Christmas Eve
    datetime(2027, 2, 10, 9, 0, tzinfo=UTC),
])
def test_demo_tells_one_story(engine, now):
    _check_story(engine, now)


@property_settings(6)
@given(moment=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)))
@example(moment=datetime(2027, 12, 30, 10, 0))
def test_demo_tells_one_story_on_any_day(tmp_path_factory, moment):
    engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}")
    db.create_schema(engine)
    try:
        _check_story(engine, moment.replace(tzinfo=UTC) + timedelta(0))
    finally:
        engine.dispose()
