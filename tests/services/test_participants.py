"""One participant at a time: add, edit, remove, add again; and the group repair flags."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from cohort import db, services
from cohort.core.deliveries import first_email_of
from cohort.core.participants import ParticipantRow
from cohort.models import Delivery, Group, GroupMember, Invitation, Participant, Survey
from cohort.services import overdue, participants
from cohort.services.participants import ParticipantError
from tests.fixtures.web import PEOPLE, WEB_NOW

NEW = ParticipantRow("Dorte Lund", "Dorte@Svendborg.example", "Svendborg Kommune", "Leder", "da")


@pytest.fixture
def cohort(engine, make_cohort):
    return make_cohort(engine, people=PEOPLE, now=WEB_NOW)


def _states(session, email):
    return dict(session.execute(select(Delivery.state, func.count()).where(
        Delivery.recipient == email).group_by(Delivery.state)).all())


def test_add_edit_remove_and_add_again(engine, cohort):
    with db.transaction(engine) as session:
        person = participants.add_participant(session, cohort.id, NEW, None, WEB_NOW)
        assert person.email == "dorte@svendborg.example"
        total = _states(session, person.email)["pending"]
        assert total > 50 and session.scalar(select(func.count()).select_from(Invitation).where(
            Invitation.participant_id == person.id)) > 0
    with db.transaction(engine) as session:
        edited = ParticipantRow("Dorte Lund", "dorte.lund@svendborg.example", "Svendborg", "Leder",
                                "nb")
        participants.update_participant(session, cohort.id, person.id, edited, None, WEB_NOW)
        assert _states(session, "dorte.lund@svendborg.example") == {"pending": total}
        assert _states(session, "dorte@svendborg.example") == {}
        # One email already went out before she leaves.
        sent = session.scalars(select(Delivery).where(
            Delivery.participant_id == person.id, Delivery.kind == "welcome")).one()
        sent.state = "sent"
    with db.transaction(engine) as session:
        participants.remove_participant(session, cohort.id, person.id, None, WEB_NOW)
        assert _states(session, "dorte.lund@svendborg.example") == {
            "cancelled": total - 1, "sent": 1}
    with db.transaction(engine) as session:
        again = ParticipantRow("Dorte Lund", "dorte.lund@svendborg.example")
        back = participants.add_participant(session, cohort.id, again, None, WEB_NOW)
        # Cancelled rows come back to life; the sent welcome is not sent twice.
        assert _states(session, back.email) == {"pending": total - 1, "sent": 1}
        actions = [e.action for e in services.activity.cohort_activity(session, cohort.id)]
        assert actions == ["participant_added", "participant_removed", "participant_updated",
                           "participant_added"]


@pytest.mark.parametrize("row, field, code", [
    (ParticipantRow("", "x@y.example"), "name", "name_missing"),
    (ParticipantRow("X", "not-an-email"), "email", "email_invalid"),
    (ParticipantRow("X", "ANNE@vejle.example"), "email", "email_duplicate"),
    (ParticipantRow("X", "x@y.example", language="sv"), "language", "language_invalid"),
])
def test_bad_participant_is_refused(engine, cohort, row, field, code):
    with pytest.raises(ParticipantError) as caught, db.transaction(engine) as session:
        participants.add_participant(session, cohort.id, row, None, WEB_NOW)
    assert (caught.value.field, caught.value.code) == (field, code)


def test_removing_a_group_member_flags_the_group(engine, cohort):
    with db.transaction(engine) as session:
        session.execute(delete(Group).where(Group.cohort_id == cohort.id))  # formed at creation
        people = participants.list_participants(session, cohort.id)
        group = Group(cohort_id=cohort.id, grouping_key="buddies", number=1)
        session.add(group)
        session.flush()
        for person in people[:2]:
            session.add(GroupMember(group_id=group.id, participant_id=person.id))
        session.flush()
        # The third participant is in no buddy group yet.
        flags = participants.groups_needing_repair(session, cohort)
        assert [(f.code, f.count) for f in flags] == [("unassigned", 1)]
        left = participants.remove_participant(session, cohort.id, people[0].id, None, WEB_NOW)
        assert [g.id for g in left.groups] == [group.id] and not left.erased
        flags = participants.groups_needing_repair(session, cohort)
        assert [(f.code, f.group_number) for f in flags] == [("too_small", 1), ("unassigned", None)]


def test_removing_someone_who_answered_a_survey_erases_them_and_keeps_every_figure(
        engine, make_cohort):
    """Deleting them took their named answers, and their marks as having answered, out of the
    figures, and the difference showed what they answered, or that they answered an anonymous
    survey at all: they are erased instead, out of the list, and nothing published changes."""
    from cohort.services.dashboard import response_rates
    from tests.fixtures.surveys import (
        AFTER_FINAL,
        DURING_FINAL,
        DURING_PRE,
        FINAL_ANSWERS,
        PRE_ANSWERS,
        close_final,
        submit,
    )
    from tests.fixtures.surveys import PEOPLE as SURVEYED

    cohort_id = make_cohort(engine, people=SURVEYED).id
    for person in SURVEYED:
        submit(engine, cohort_id, "self-assessment-pre", person.email, PRE_ANSWERS, DURING_PRE)
        submit(engine, cohort_id, "final", person.email, FINAL_ANSWERS, DURING_FINAL)
    close_final(engine)

    def published() -> tuple:
        with db.transaction(engine) as session:
            surveys = {s.key: s.id for s in session.scalars(select(Survey).where(
                Survey.cohort_id == cohort_id))}
            by_organisation = services.survey_breakdown(
                session, surveys["self-assessment-pre"], "organisation", now=AFTER_FINAL)
            final = services.survey_results(session, surveys["final"], now=AFTER_FINAL)
            rates = response_rates(session, cohort_id, AFTER_FINAL)
            return ([(g.label, g.responses) for g in by_organisation.groups],
                    final.responses, [(q.id, q.n, q.distribution) for q in final.questions],
                    [(r.survey.key, r.invited, r.completed) for r in rates])

    before = published()
    with db.transaction(engine) as session:
        leaving = next(p for p in participants.list_participants(session, cohort_id)
                       if p.email == SURVEYED[0].email)
        removal = participants.remove_participant(session, cohort_id, leaving.id, None,
                                                  AFTER_FINAL)
    assert removal.erased
    assert published() == before
    with db.transaction(engine) as session:
        assert SURVEYED[0].email not in {
            p.email for p in participants.list_participants(session, cohort_id)}
        kept = session.get(Participant, leaving.id)
        assert kept.erased_at is not None and kept.name != SURVEYED[0].name
        assert not session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.participant_id == leaving.id, Delivery.state == "pending"))
    # Someone who answered nothing is deleted, as before.
    with db.transaction(engine) as session:
        newcomer = participants.add_participant(
            session, cohort_id, ParticipantRow("Ny Leder", "ny@example.org"), None, AFTER_FINAL)
        removal = participants.remove_participant(session, cohort_id, newcomer.id, None,
                                                  AFTER_FINAL)
        assert not removal.erased and session.get(Participant, newcomer.id) is None


LIMIT = timedelta(hours=72)  # the outbox's default overdue limit


def _joined_late(engine, cohort_id: int) -> tuple[datetime, str]:
    """A moment 73 hours after a task was released whose reminder is days later, with what
    the course sent by then marked sent; and that task's anchor."""
    with db.transaction(engine) as session:
        rows = session.scalars(select(Delivery).where(Delivery.cohort_id == cohort_id)).all()
        released = {r.anchor: r.send_at for r in rows if r.kind == "task_released"}
        reminded = {r.anchor: r.send_at for r in rows if r.kind == "task_reminder"}
        anchor = min((a for a in reminded if reminded[a] - released[a] > timedelta(days=4)),
                     key=released.get)
        joined = released[anchor] + timedelta(hours=73)
        session.execute(update(Delivery).where(Delivery.send_at <= joined).values(
            state="sent", sent_at=Delivery.send_at))
    return joined, anchor


def _rows_of(session, email: str) -> dict[tuple[str, str], Delivery]:
    return {(r.kind, r.anchor): r for r in session.scalars(select(Delivery).where(
        Delivery.recipient == email))}


def test_joining_a_running_cohort_skips_at_once_what_the_outbox_would(engine, cohort):
    """Someone joining weeks in gets the whole plan; the emails of items already past are
    overdue, and the outbox's next pass skipped them and the reminders of them. Until then
    the outbox and the overview showed those reminders as pending, as if about to go. The
    join applies the pass's rule itself, in its own transaction: nothing is left for the
    pass to skip, and every reminder still pending reminds of a first email that goes."""
    joined, anchor = _joined_late(engine, cohort.id)
    with db.transaction(engine) as session:
        person = participants.add_participant(session, cohort.id, NEW, None, joined,
                                              overdue_limit=LIMIT)
        late = _rows_of(session, person.email)
    first, reminder = late["task_released", anchor], late["task_reminder", anchor]
    assert (first.state, first.last_error) == (
        "skipped", "skipped: overdue by more than 72 hour(s) when they joined")
    assert (reminder.state, reminder.last_error) == (
        "skipped", "skipped: its first email was not sent")
    for (kind, item), row in late.items():
        if row.state == "pending" and first_email_of(kind, item):
            assert late[first_email_of(kind, item)].state == "pending", row
        if row.state == "pending":
            assert row.send_at >= joined - LIMIT, row
    with db.transaction(engine) as session:  # the pass at that moment finds nothing to skip
        assert overdue.skip_overdue(session.connection(), joined, LIMIT,
                                    cohort_id=cohort.id) == 0
        # Those there from the start keep their reminder of that task.
        assert {r.state for r in session.scalars(select(Delivery).where(
            Delivery.kind == "task_reminder", Delivery.anchor == anchor,
            Delivery.recipient != person.email))} == {"pending"}


def test_joining_a_paused_cohort_skips_nothing_as_the_paused_outbox_does(engine, cohort):
    joined, anchor = _joined_late(engine, cohort.id)
    with db.transaction(engine) as session:
        services.set_paused(session, cohort.id, True, joined)
    with db.transaction(engine) as session:
        person = participants.add_participant(session, cohort.id, NEW, None, joined,
                                              overdue_limit=LIMIT)
        late = _rows_of(session, person.email)
    assert late["task_released", anchor].state == late["task_reminder", anchor].state == \
        "pending"
    assert not [r for r in late.values() if "when they joined" in (r.last_error or "")]
