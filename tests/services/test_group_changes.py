"""Groups that participants were told about change only when confirmed, and the people who
get a new partner (and only they) are emailed (each test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from cohort import db, services
from cohort.core import deliveries as kinds
from cohort.core.participants import ParticipantRow
from cohort.demo import demo_participants
from cohort.models import ActivityEntry, Delivery, Participant
from cohort.services import group_changes

NOW = datetime(2025, 3, 2, 10, 0, tzinfo=UTC)  # a Sunday
MONDAY_MORNING = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 in Copenhagen


def partners_of(session, cohort_id) -> dict[str, frozenset[str]]:
    view = services.list_groups(session, cohort_id)
    return {m: frozenset(group.members) - {m} for group in view.result.rotations[0].groups
            for m in group.members}


def mark_sent(engine, cohort_id, kind=kinds.WELCOME, recipients=None) -> None:
    """What the outbox records once these emails went out (tests/mail sends them for real)."""
    with db.transaction(engine) as session:
        query = update(Delivery).where(Delivery.cohort_id == cohort_id, Delivery.kind == kind)
        if recipients is not None:
            query = query.where(Delivery.recipient.in_(recipients))
        session.execute(query.values(state=kinds.SENT, sent_at=NOW))


def notices(engine, cohort_id) -> list[Delivery]:
    with db.transaction(engine) as session:
        return list(session.scalars(select(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.kind == kinds.GROUPS_CHANGED)
            .order_by(Delivery.recipient, Delivery.id)))


def test_a_draft_plans_again_without_asking_and_tells_nobody(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(12), launched=False).id
    with db.transaction(engine) as session:
        before = partners_of(session, cohort_id)
        preview = group_changes.preview(session, cohort_id, "plan", seed=7)
        result = group_changes.apply(session, cohort_id, "plan", seed=7, now=NOW)
        after = partners_of(session, cohort_id)
        logged = session.scalars(select(ActivityEntry.action)).all()
    assert preview.changes and not preview.launched
    assert not preview.needs_confirmation and preview.to_notify == ()
    assert before != after and result.notified == ()
    assert notices(engine, cohort_id) == [] and "groups_changed" not in logged


def test_launched_but_untold_groups_change_without_asking(engine, make_cohort):
    """Launched, but no welcome has gone out yet: the welcome will name the new groups."""
    cohort_id = make_cohort(engine, people=demo_participants(12)).id
    with db.transaction(engine) as session:
        result = group_changes.apply(session, cohort_id, "plan", seed=7, now=NOW)
    assert result.preview.changes and result.notified == ()
    assert notices(engine, cohort_id) == []


def test_announced_groups_need_the_previewed_confirmation(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(12)).id
    mark_sent(engine, cohort_id)
    with db.transaction(engine) as session:
        before = partners_of(session, cohort_id)
        preview = group_changes.preview(session, cohort_id, "plan", seed=7)
        with pytest.raises(group_changes.ConfirmationNeeded) as refused:
            group_changes.apply(session, cohort_id, "plan", seed=7, now=NOW)
        with pytest.raises(group_changes.ConfirmationNeeded):  # confirmed another change
            group_changes.apply(session, cohort_id, "plan", seed=8, now=NOW,
                                confirmed=preview.fingerprint)
        assert partners_of(session, cohort_id) == before
    assert refused.value.preview.fingerprint == preview.fingerprint
    assert notices(engine, cohort_id) == []
    # The diff: exactly the people whose partners differ, with the old and new partners.
    with db.transaction(engine) as session:
        result = group_changes.apply(session, cohort_id, "plan", seed=7, now=NOW,
                                     confirmed=preview.fingerprint)
        after = partners_of(session, cohort_id)
    changed = {p for p in after if after[p] != before[p]}
    assert changed and changed != set(after)  # some, not everyone, get a new partner
    assert {c.person for c in preview.changes} == changed
    assert all(set(c.before) == before[c.person] and set(c.after) == after[c.person]
               for c in preview.changes)
    assert set(result.notified) == changed
    sent = notices(engine, cohort_id)
    assert {d.recipient for d in sent} == changed and len(sent) == len(changed)
    # Confirmed on a Sunday: the email keeps the mail policy's quiet days, Monday at 08:00.
    assert {(d.anchor, d.state, d.send_at) for d in sent} == {
        ("groups:buddies#1", kinds.PENDING, MONDAY_MORNING)}
    with db.transaction(engine) as session:
        ids = dict(session.execute(select(Participant.email, Participant.id)).all())
        entry = session.scalars(select(ActivityEntry).where(
            ActivityEntry.action == "groups_changed")).one()
    assert all(d.participant_id == ids[d.recipient] for d in sent)
    assert entry.details["changed"] == len(changed) == entry.details["notified"]


def test_only_people_told_the_old_groups_are_emailed(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(12)).id
    with db.transaction(engine) as session:
        everyone = sorted(partners_of(session, cohort_id))
    told = everyone[:5]
    mark_sent(engine, cohort_id, recipients=told)
    with db.transaction(engine) as session:
        preview = group_changes.preview(session, cohort_id, "plan", seed=7)
        result = group_changes.apply(session, cohort_id, "plan", seed=7, now=NOW,
                                     confirmed=preview.fingerprint)
    changed = set(preview.changed_people)
    assert set(result.notified) == changed & set(told)
    assert {d.recipient for d in notices(engine, cohort_id)} == changed & set(told)


def test_a_buddy_task_email_counts_as_telling(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(12)).id
    with db.transaction(engine) as session:
        buddy_anchors = set(session.scalars(select(Delivery.anchor).where(
            Delivery.cohort_id == cohort_id, Delivery.kind == kinds.TASK_RELEASED,
            Delivery.anchor.like("task:buddy%"))))
        other = session.scalars(select(Delivery.anchor).where(
            Delivery.cohort_id == cohort_id, Delivery.kind == kinds.TASK_RELEASED,
            Delivery.anchor.not_in(buddy_anchors))).first()
    assert buddy_anchors and other
    with db.transaction(engine) as session:  # a task that names no buddy tells nothing
        session.execute(update(Delivery).where(Delivery.anchor == other)
                        .values(state=kinds.SENT))
        assert not group_changes.preview(session, cohort_id, "plan", seed=7).needs_confirmation
        session.execute(update(Delivery).where(Delivery.anchor.in_(buddy_anchors))
                        .values(state=kinds.SENT))
        assert group_changes.preview(session, cohort_id, "plan", seed=7).needs_confirmation


def test_repair_after_people_leave_and_join_emails_the_few_who_change(engine, make_cohort):
    people = demo_participants(14)
    cohort_id = make_cohort(engine, people=people[:12]).id
    mark_sent(engine, cohort_id)
    with db.transaction(engine) as session:
        before = partners_of(session, cohort_id)
        cohort = services.get_cohort(session, cohort_id)
        services.add_participants(session, cohort, [people[12], people[13]], now=NOW)
        leaving = session.scalars(select(Participant).where(
            Participant.email == people[0].email)).one()
        services.participants.remove_participant(session, cohort_id, leaving.id, None, NOW)
    with db.transaction(engine) as session:
        preview = group_changes.preview(session, cohort_id, "repair")
        result = group_changes.apply(session, cohort_id, "repair", now=NOW,
                                     confirmed=preview.fingerprint)
        after = partners_of(session, cohort_id)
    changed = {p for p in after if after[p] != before.get(p, frozenset())}
    assert people[0].email not in after
    assert {c.person for c in preview.changes} == changed
    assert len(changed) < len(after) / 2  # a repair changes few groups
    # The newcomers were never told anything: their welcome (pending) names the groups.
    newcomers = {people[12].email, people[13].email}
    assert set(result.notified) == changed - newcomers
    assert {d.recipient for d in notices(engine, cohort_id)} == changed - newcomers


def test_a_second_change_supersedes_a_pending_notice(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(12)).id
    mark_sent(engine, cohort_id)
    for seed in (7, 8):
        with db.transaction(engine) as session:
            preview = group_changes.preview(session, cohort_id, "plan", seed=seed)
            group_changes.apply(session, cohort_id, "plan", seed=seed, now=NOW,
                                confirmed=preview.fingerprint)
    rows = notices(engine, cohort_id)
    pending = [d for d in rows if d.state == kinds.PENDING]
    assert {d.anchor for d in pending} == {"groups:buddies#2"}
    assert len({d.recipient for d in pending}) == len(pending)
    cancelled = [d for d in rows if d.state == kinds.CANCELLED]
    assert all(d.anchor == "groups:buddies#1" for d in cancelled)
    assert {d.recipient for d in cancelled} <= {d.recipient for d in pending}


def test_teams_of_a_programme_with_two_groupings(engine, make_cohort):
    roles = ["Leder", "Ressursperson", "Ansatt i hjemmetjenesten"]
    rows = [ParticipantRow(f"Person {i}", f"p{i}@kommune{i % 4}.example", f"Kommune {i % 4}",
                           roles[i % 3], "nb") for i in range(18)]
    cohort_id = make_cohort(engine, people=rows, programme="digital-helsekompetanse").id
    mark_sent(engine, cohort_id)
    with db.transaction(engine) as session:
        preview = group_changes.preview(session, cohort_id, "plan", "praksisgrupper", seed=3)
        result = group_changes.apply(session, cohort_id, "plan", "praksisgrupper", seed=3,
                                     now=NOW, confirmed=preview.fingerprint)
    assert result.notified and {d.anchor for d in notices(engine, cohort_id)} == {
        "groups:praksisgrupper#1"}


def test_someone_who_only_loses_a_partner_gets_no_new_buddy_email(engine, make_cohort):
    """Nine people: three pairs and a trio. One of the trio leaves (which takes them out of
    their group at once): the other two stay together and gain nobody, so the repair changes
    nothing, asks nothing and emails nobody."""
    people = demo_participants(9)
    cohort_id = make_cohort(engine, people=people).id
    mark_sent(engine, cohort_id)
    with db.transaction(engine) as session:
        view = services.list_groups(session, cohort_id)
        trio = next(g.members for g in view.result.rotations[0].groups if len(g.members) == 3)
        services.participants.remove_participant_by_email(session, cohort_id, trio[0],
                                                          now=NOW)
    with db.transaction(engine) as session:
        preview = group_changes.preview(session, cohort_id, "repair")
        result = group_changes.apply(session, cohort_id, "repair", now=NOW)
    assert preview.changes == () and not preview.needs_confirmation
    assert result.notified == ()
    assert notices(engine, cohort_id) == []


def test_moving_a_person_in_announced_groups_asks_and_emails_those_with_someone_new(
        engine, make_cohort):
    """Moving one person after the welcome named the buddies: the preview names the mover
    and their new partners; without the previewed confirmation nothing moves; confirmed, the
    mover and the group they join are emailed, the partners they leave (who gain nobody) not."""
    cohort_id = make_cohort(engine, people=demo_participants(12)).id
    mark_sent(engine, cohort_id)
    with db.transaction(engine) as session:
        view = services.list_groups(session, cohort_id)
        groups, second = view.result.rotations[0].groups, view.numbers[0][1]
        first_members, second_members = groups[0].members, groups[1].members
        mover = first_members[0]
        move = group_changes.Move(mover, second)
        before = partners_of(session, cohort_id)
        preview = group_changes.preview(session, cohort_id, "move", move=move)
        with pytest.raises(group_changes.ConfirmationNeeded):
            group_changes.apply(session, cohort_id, "move", move=move, now=NOW)
        assert partners_of(session, cohort_id) == before
        result = group_changes.apply(session, cohort_id, "move", move=move, now=NOW,
                                     confirmed=preview.fingerprint)
        after = partners_of(session, cohort_id)
    assert preview.needs_confirmation and preview.action == "move"
    assert after[mover] == frozenset(second_members)
    assert set(result.notified) == {mover, *second_members}
    assert not set(result.notified) & (set(first_members) - {mover})
    assert {d.recipient for d in notices(engine, cohort_id)} == set(result.notified)
    # A draft moves at once and tells nobody.
    draft_id = make_cohort(engine, people=demo_participants(12), launched=False).id
    with db.transaction(engine) as session:
        draft = services.list_groups(session, draft_id)
        done = group_changes.apply(session, draft_id, "move", now=NOW, move=group_changes.Move(
            draft.result.rotations[0].groups[0].members[0], draft.numbers[0][1]))
    assert done.notified == () and notices(engine, draft_id) == []
