"""Use cases against real databases (each test runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cohort import db, services
from cohort.core.participants import ParticipantImportError, ParticipantRow
from cohort.models import Cohort, Delivery, Meeting, Participant, Task

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
PEOPLE = [ParticipantRow("Anne Jensen", "anne@vejle.example", "Vejle Kommune", "leder", "da"),
          ParticipantRow("Bo Holm", "bo@kolding.example", "Kolding Kommune", "leder", "da")]


def new_cohort(library) -> services.NewCohort:
    """What the tests of `create_cohort` itself create (the others use make_cohort)."""
    return services.NewCohort(library.programmes["digital-lederskab"],
                              library.sources["digital-lederskab"], date(2025, 4, 8))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def participant_deliveries(session) -> int:
    """Deliveries to participants (the facilitator's digests exist without any)."""
    return session.scalar(select(func.count()).select_from(Delivery)
                          .where(Delivery.participant_id.is_not(None)))


def test_create_cohort_writes_plan_participants_and_deliveries(engine, library):
    with db.transaction(engine) as session:
        cohort = services.create_cohort(session, new_cohort(library), PEOPLE, now=NOW)
    with db.transaction(engine) as session:
        data = services.cohort_as_dict(session, services.get_cohort(session, cohort.id))
    assert [m["starts_at"][:10] for m in data["meetings"]] == [
        "2025-04-08", "2025-04-17", "2025-05-15", "2025-06-12", "2025-08-21", "2025-09-04",
        "2025-10-02"]
    assert data["meetings"][0]["starts_at"] == "2025-04-08T13:00:00+02:00"
    assert {p["email"] for p in data["participants"]} == {"anne@vejle.example",
                                                         "bo@kolding.example"}
    assert data["tasks"] and data["prompts"] and data["surveys"]
    kinds = {d["kind"] for d in data["deliveries"]}
    assert {"welcome", "meeting_invitation", "task_released", "survey_invitation"} <= kinds
    assert all(d["state"] == "pending" for d in data["deliveries"])


def test_stored_times_come_back_as_utc(engine, library):
    with db.transaction(engine) as session:
        cohort = services.create_cohort(session, new_cohort(library), now=NOW)
    with db.transaction(engine) as session:
        first = session.scalars(select(Meeting).where(Meeting.cohort_id == cohort.id)
                                .order_by(Meeting.starts_at)).first()
    assert first.starts_at == datetime(2025, 4, 8, 11, 0, tzinfo=UTC)


def test_failed_creation_saves_nothing(engine, library):
    duplicate = [PEOPLE[0], PEOPLE[0]]  # violates the unique email constraint mid-way
    with pytest.raises(IntegrityError), db.transaction(engine) as session:
        services.create_cohort(session, new_cohort(library), duplicate, now=NOW)
    with db.transaction(engine) as session:
        assert [count(session, m) for m in (Cohort, Meeting, Task, Participant, Delivery)] == [
            0, 0, 0, 0, 0]


def test_bad_csv_imports_nothing(engine, make_cohort):
    cohort = make_cohort(engine, now=NOW)
    csv = b"name;email\nGood Person;good@x.example\nBad;not-an-email\n"
    with pytest.raises(ParticipantImportError) as caught, db.transaction(engine) as session:
        services.import_participants(session, cohort.id, csv, now=NOW)
    assert [str(e) for e in caught.value.errors] == [
        "row 3, column email: 'not-an-email' is not a valid email address"]
    with db.transaction(engine) as session:
        assert count(session, Participant) == 0
        assert participant_deliveries(session) == 0


def test_import_adds_participants_with_their_deliveries(engine, make_cohort):
    cohort = make_cohort(engine, people=PEOPLE[:1], now=NOW)
    with db.transaction(engine) as session:
        before = participant_deliveries(session)
        services.import_participants(session, cohort.id, b"name,email\nCarl,carl@x.example\n",
                                     now=NOW)
    with db.transaction(engine) as session:
        assert count(session, Participant) == 2
        assert participant_deliveries(session) == 2 * before
    with pytest.raises(ParticipantImportError), db.transaction(engine) as session:
        services.import_participants(session, cohort.id, b"name,email\nC,CARL@x.example\n")


def test_reschedule_moves_anchored_tasks_and_pending_deliveries(engine, make_cohort):
    cohort = make_cohort(engine, people=PEOPLE, now=NOW)

    def snapshot():
        with db.transaction(engine) as session:
            return services.cohort_as_dict(session, services.get_cohort(session, cohort.id))

    before = snapshot()
    with db.transaction(engine) as session:
        services.meetings.reschedule(session, cohort.id, "webinar-2",
                                     datetime(2025, 6, 19, 13, 0, tzinfo=UTC), None, now=NOW)
    after = snapshot()
    moved = next(m for m in after["meetings"] if m["key"] == "webinar-2")
    assert moved["starts_at"] == "2025-06-19T15:00:00+02:00" and moved["sequence"] == 1
    due_before = {t["key"]: t["due_at"] for t in before["tasks"]}
    changed = [t["key"] for t in after["tasks"] if t["due_at"] != due_before[t["key"]]]
    assert changed and all(k.endswith("@webinar-1") for k in changed)
    assert len(after["deliveries"]) == len(before["deliveries"])
    old = {(d["kind"], d["anchor"], d["to"]): d["send_at"] for d in before["deliveries"]}
    moved_deliveries = [d for d in after["deliveries"]
                        if old[(d["kind"], d["anchor"], d["to"])] != d["send_at"]]
    assert moved_deliveries
    assert all("webinar-2" in d["anchor"] or "webinar-1" in d["anchor"]
               for d in moved_deliveries)


def test_unknown_cohort_is_not_found(engine):
    with pytest.raises(services.NotFound), db.transaction(engine) as session:
        services.get_cohort(session, 999)


@pytest.mark.parametrize("launched", [True, False])
def test_someone_joining_after_a_survey_closed_is_not_counted_as_invited_to_it(
        engine, make_cohort, launched):
    """A launched cohort's late joiner never got the invitations of the surveys that had
    closed: counting them as invited lowered those surveys' response rates (29 of 33 where
    29 of the 32 invited answered) and named them among those who had not answered. A draft
    cohort (one being set up afterwards, for paper answers say) keeps inviting everyone."""
    cohort = make_cohort(engine, people=PEOPLE, now=NOW, launched=launched)
    with db.transaction(engine) as session:
        surveys = services.list_surveys(session, cohort.id)
        pre = next(s for s in surveys if s.key == "self-assessment-pre")
        joined = pre.closes_at.astimezone(UTC) + (pre.closes_at - pre.opens_at) / 2
        closed = {s.key for s in surveys if s.closes_at <= joined}
        assert "self-assessment-pre" in closed and len(closed) < len(surveys)
        services.import_participants(session, cohort.id, b"name,email\nCarl,carl@x.example\n",
                                     now=joined)
    with db.transaction(engine) as session:
        invited = {r.survey_key: r.invited for r in services.response_rates(session, cohort.id)}
        not_answered = {r.survey_key: r.not_answered
                        for r in services.response_rates(session, cohort.id)}
    for key, count_invited in invited.items():
        late = key in closed and launched
        assert count_invited == (2 if late else 3), key
    assert ("Carl" in not_answered["self-assessment-pre"]) is not launched
