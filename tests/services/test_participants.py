"""One participant at a time: add, edit, remove, add again; and the group repair flags."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.models import Delivery, Group, GroupMember, Invitation, Participant, Survey
from cohort.services import participants
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
