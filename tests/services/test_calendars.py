"""Calendar use cases on real databases (SQLite and PostgreSQL), with golden files."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.core.calendars import Person
from cohort.core.participants import ParticipantRow
from cohort.models import CalendarFeed, Meeting, Task
from tests.fixtures.ics import normalise, parse_both, unfold
from tests.fixtures.paths import REPO

GOLDEN = REPO / "tests" / "golden"
ZONE = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2025, 4, 20, 10, 30, tzinfo=UTC)
SECRET = "test-secret"
FACILITATOR = Person("facilitator@cohort.example", "Fie Facilitator")
PEOPLE = [ParticipantRow("Anne Ærø", "anne@vejle.example", "Vejle Kommune", "leder", "en"),
          ParticipantRow("Bo Holm", "bo@kolding.example", "Kolding Kommune", "leder", "en")]


@pytest.fixture
def cohort_id(engine, make_cohort):
    """The reference programme started 2025-04-08 in Copenhagen; English so the golden files
    do not depend on which translations are installed."""
    return make_cohort(engine, people=PEOPLE, title="Reference cohort", language="en",
                       now=NOW).id


def assert_golden(name: str, ics: bytes) -> None:
    """Compare with tests/golden/NAME; COHORT_UPDATE_GOLDEN=1 rewrites the file instead."""
    path = GOLDEN / name
    if os.environ.get("COHORT_UPDATE_GOLDEN"):
        path.write_text(normalise(ics), encoding="utf-8")
    assert normalise(ics) == path.read_text(encoding="utf-8")


def meeting_rows(engine, cohort_id) -> dict[str, Meeting]:
    with db.transaction(engine) as session:
        rows = session.scalars(select(Meeting).where(Meeting.cohort_id == cohort_id)).all()
    return {m.key: m for m in rows}


def test_cohort_calendar_matches_golden_file(engine, cohort_id):
    with db.transaction(engine) as session:
        document = services.cohort_calendar(session, cohort_id)
    assert document.filename == "reference-cohort.ics"
    assert document.last_modified == NOW
    assert_golden("digital-lederskab-2025-04-08.ics", document.ics)


def test_participant_calendar_matches_golden_file(engine, cohort_id):
    with db.transaction(engine) as session:
        document = services.participant_calendar(session, cohort_id, "ANNE@vejle.example")
    assert document.filename == "reference-cohort-anne-aeroe.ics"
    assert_golden("digital-lederskab-2025-04-08-participant.ics", document.ics)


def test_invitation_matches_golden_file(engine, cohort_id):
    with db.transaction(engine) as session:
        message = services.meeting_invitation(session, cohort_id, "webinar-1",
                                              "anne@vejle.example", FACILITATOR, now=NOW)
    assert message.method == "REQUEST"
    assert_golden("digital-lederskab-2025-04-08-invitation-webinar-1.ics", message.ics)


def test_files_read_back_at_the_stored_local_times(engine, cohort_id):
    rows = meeting_rows(engine, cohort_id)
    with db.transaction(engine) as session:
        documents = [services.cohort_calendar(session, cohort_id).ics,
                     services.participant_calendar(session, cohort_id, "bo@kolding.example").ics]
    for ics in documents:
        events = {e.uid: e for e in parse_both(ics)}
        for row in rows.values():
            assert events[row.uid].start == row.starts_at
            assert events[row.uid].local_start("Europe/Copenhagen") == (
                row.starts_at.astimezone(ZONE).replace(tzinfo=None))
    assert {e.local_start("Europe/Copenhagen").time() for e in parse_both(documents[0])} == {
        time(13), time(9)}


def test_reschedule_keeps_uid_and_raises_sequence(engine, cohort_id):
    before = meeting_rows(engine, cohort_id)["webinar-1"]
    moves = [datetime(2025, 5, 22, 14, 0, tzinfo=ZONE),
             datetime(2025, 11, 6, 13, 0, tzinfo=ZONE)]  # past the October DST change
    sequences = [before.sequence]
    for number, new_start in enumerate(moves, start=1):
        with db.transaction(engine) as session:
            services.meetings.reschedule(session, cohort_id, "webinar-1", new_start, None,
                                         now=LATER + timedelta(days=number))
            document = services.participant_calendar(session, cohort_id, "anne@vejle.example")
            message = services.meeting_invitation(session, cohort_id, "webinar-1",
                                                  "anne@vejle.example", FACILITATOR,
                                                  now=LATER + timedelta(days=number))
        event = next(e for e in parse_both(document.ics) if e.uid == before.uid)
        invited = parse_both(message.ics)[0]
        assert invited.uid == before.uid and invited.sequence == event.sequence
        assert event.local_start("Europe/Copenhagen") == new_start.replace(tzinfo=None)
        assert document.last_modified == LATER + timedelta(days=number)
        assert f"LAST-MODIFIED:{(LATER + timedelta(days=number)):%Y%m%dT%H%M%SZ}" in unfold(
            document.ics)
        sequences.append(event.sequence)
    assert sequences == sorted(set(sequences)) and len(sequences) == 3
    with db.transaction(engine) as session:
        # Tasks due before webinar-1 moved with it; it is now the last meeting, after kick-out.
        due = dict(session.execute(select(Task.key, Task.due_at).where(
            Task.cohort_id == cohort_id, Task.due_meeting_key == "webinar-1")).all())
    assert due["questions@kickout"].astimezone(ZONE) == datetime(2025, 11, 5, 12, 0,
                                                                   tzinfo=ZONE)


def test_cancelled_meeting_is_cancelled_in_feed_and_invitation_until_restored(engine, cohort_id):
    uid = meeting_rows(engine, cohort_id)["webinar-2"].uid
    with db.transaction(engine) as session:
        services.meetings.cancel_meeting(session, cohort_id, "webinar-2", None, now=LATER)
    with db.transaction(engine) as session:
        document = services.cohort_calendar(session, cohort_id)
        message = services.meeting_invitation(session, cohort_id, "webinar-2",
                                              "bo@kolding.example", FACILITATOR, now=LATER)
    event = next(e for e in parse_both(document.ics) if e.uid == uid)
    assert (event.status, event.sequence) == ("CANCELLED", 1)
    assert message.method == "CANCEL"
    assert (parse_both(message.ics)[0].uid, parse_both(message.ics)[0].status) == (
        uid, "CANCELLED")
    assert "METHOD:CANCEL\n" in unfold(message.ics)
    # Restored: confirmed again with a higher SEQUENCE, so calendars put it back.
    with db.transaction(engine) as session:
        services.meetings.restore_meeting(session, cohort_id, "webinar-2", None,
                                          now=LATER + timedelta(hours=1))
    with db.transaction(engine) as session:
        document = services.cohort_calendar(session, cohort_id)
        message = services.meeting_invitation(session, cohort_id, "webinar-2",
                                              "bo@kolding.example", FACILITATOR, now=LATER)
    event = next(e for e in parse_both(document.ics) if e.uid == uid)
    assert (event.status, event.sequence) == ("CONFIRMED", 2)
    assert message.method == "REQUEST" and parse_both(message.ics)[0].sequence == 2


def test_uids_are_unique_across_cohorts(engine, make_cohort, cohort_id):
    other = make_cohort(engine, people=PEOPLE, now=NOW)
    with db.transaction(engine) as session:
        first = services.participant_calendar(session, cohort_id, "anne@vejle.example")
        second = services.participant_calendar(session, other.id, "anne@vejle.example")
    uids = [e.uid for e in parse_both(first.ics) + parse_both(second.ics)]
    assert len(uids) == len(set(uids))


def test_unknown_cohort_meeting_or_participant(engine, cohort_id):
    with db.transaction(engine) as session, pytest.raises(services.NotFound):
        services.cohort_calendar(session, 999)
    with db.transaction(engine) as session, pytest.raises(services.NotFound, match="nobody"):
        services.participant_calendar(session, cohort_id, "nobody@x.example")
    with db.transaction(engine) as session, pytest.raises(services.NotFound, match="no-such"):
        services.meeting_invitation(session, cohort_id, "no-such", "anne@vejle.example",
                                    FACILITATOR)


def test_feed_token_is_stable_secret_and_stored_hashed(engine, cohort_id):
    with db.transaction(engine) as session:
        anne = services.participant_by_email(session, cohort_id, "anne@vejle.example")
        token = services.calendar_feed_token(session, anne.id, SECRET)
    with db.transaction(engine) as session:
        assert services.calendar_feed_token(session, anne.id, SECRET) == token
        stored = session.scalars(select(CalendarFeed)).one()
        document = services.feed_calendar(session, token, NOW)
    assert len(token) >= 43
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {stored.salt, stored.token_hash}
    assert b"BEGIN:VCALENDAR" in document.ics and b"Deadline" in document.ics
    with db.transaction(engine) as session, pytest.raises(services.NotFound):
        services.feed_calendar(session, token[:-1] + ("A" if token[-1] != "A" else "B"), NOW)
    with db.transaction(engine) as session:
        bo = services.participant_by_email(session, cohort_id, "bo@kolding.example")
        assert services.calendar_feed_token(session, bo.id, SECRET) != token
        assert services.calendar_feed_token(session, anne.id, "another secret") != token


def test_feed_tokens_of_many_participants_are_each_ones_token(engine, cohort_id):
    """The outbox makes a batch's feeds at once (calendar_feed_tokens): an existing feed
    keeps its token, a missing one is made once, a revoked one gives None."""
    with db.transaction(engine) as session:
        anne = services.participant_by_email(session, cohort_id, "anne@vejle.example")
        bo = services.participant_by_email(session, cohort_id, "bo@kolding.example")
        annes = services.calendar_feed_token(session, anne.id, SECRET)
        tokens = services.calendar_feed_tokens(session, [anne.id, bo.id, bo.id, 999], SECRET)
    assert tokens == {anne.id: annes, bo.id: tokens[bo.id]}
    with db.transaction(engine) as session:
        assert services.calendar_feed_token(session, bo.id, SECRET) == tokens[bo.id]
        assert len(session.scalars(select(CalendarFeed)).all()) == 2
        services.revoke_calendar_feed(session, bo.id)
    with db.transaction(engine) as session:
        assert services.calendar_feed_tokens(session, [anne.id, bo.id], SECRET) == {
            anne.id: annes, bo.id: None}


def test_renewed_or_revoked_token_stops_working(engine, cohort_id):
    with db.transaction(engine) as session:
        anne = services.participant_by_email(session, cohort_id, "anne@vejle.example")
        old = services.calendar_feed_token(session, anne.id, SECRET)
        new = services.renew_calendar_feed(session, anne.id, SECRET)
    assert new != old
    with db.transaction(engine) as session:
        services.feed_calendar(session, new, NOW)
        with pytest.raises(services.NotFound):
            services.feed_calendar(session, old, NOW)
        assert services.revoke_calendar_feed(session, anne.id) is True
        assert services.revoke_calendar_feed(session, anne.id) is False
    with db.transaction(engine) as session:
        with pytest.raises(services.NotFound):
            services.feed_calendar(session, new, NOW)
        assert services.calendar_feed_token(session, anne.id, SECRET) is None
        renewed = services.renew_calendar_feed(session, anne.id, SECRET)
    with db.transaction(engine) as session:
        services.feed_calendar(session, renewed, NOW)
        with pytest.raises(services.NotFound):
            services.renew_calendar_feed(session, 999, SECRET)


def test_the_feed_stops_when_the_personal_links_are_revoked(engine, cohort_id):
    """A forwarded email carries both URLs: revoking the links stops the feed as well, and the
    fresh link comes with a fresh feed URL (a feed stopped on purpose stays stopped)."""
    with db.transaction(engine) as session:
        anne = services.participant_by_email(session, cohort_id, "anne@vejle.example")
        bo = services.participant_by_email(session, cohort_id, "bo@kolding.example")
        old = services.calendar_feed_token(session, anne.id, SECRET)
        services.calendar_feed_token(session, bo.id, SECRET)
        services.revoke_calendar_feed(session, bo.id, NOW)
    with db.transaction(engine) as session:
        services.revoke_links(session, anne.id, SECRET, NOW)
        services.revoke_links(session, bo.id, SECRET, NOW)
    with db.transaction(engine) as session:
        with pytest.raises(services.NotFound):
            services.feed_calendar(session, old, NOW)
        new = services.calendar_feed_token(session, anne.id, SECRET)
        assert new not in {None, old}
        assert b"BEGIN:VCALENDAR" in services.feed_calendar(session, new, NOW).ics
        assert services.calendar_feed_token(session, bo.id, SECRET) is None
        services.revoke_links(session, anne.id, SECRET, NOW, reissue=False)  # erasure-style
    with db.transaction(engine) as session:
        with pytest.raises(services.NotFound):
            services.feed_calendar(session, new, NOW)
        assert services.calendar_feed_token(session, anne.id, SECRET) is None


def test_the_feed_stops_after_the_cohort_ends_plus_grace(engine, cohort_id):
    with db.transaction(engine) as session:
        anne = services.participant_by_email(session, cohort_id, "anne@vejle.example")
        token = services.calendar_feed_token(session, anne.id, SECRET)
        ends = services.participant_access.cohort_ends_at(
            session, services.get_cohort(session, cohort_id))
    grace = timedelta(days=10)
    with db.transaction(engine) as session:
        assert services.feed_calendar(session, token, ends + grace - timedelta(seconds=1),
                                      grace).ics
        with pytest.raises(services.NotFound):
            services.feed_calendar(session, token, ends + grace, grace)
        with pytest.raises(services.NotFound):  # the default grace: 30 days
            services.feed_calendar(session, token, ends + timedelta(days=30))
