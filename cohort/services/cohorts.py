"""Cohorts: create from a programme, add participants (meeting changes: services/meetings.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlmodel import Session

from ..core.deliveries import PlannedDelivery, plan_deliveries, plan_facilitator_deliveries
from ..core.participants import ParticipantRow, normalise_email, parse_participant_list
from ..core.planning import MeetingOverride, Plan, plan_cohort
from ..core.programme import Programme
from ..models import (
    Cohort,
    CohortRole,
    Delivery,
    Group,
    GroupMember,
    Invitation,
    Meeting,
    Participant,
    Prompt,
    Survey,
    Task,
    User,
    utcnow,
)
from . import accounts, activity, overdue
from ._lookup import NotFound, get_cohort
from .meetings import set_initial_overrides
from .plans import bulk_insert, current_plan, delivery_rows, insert_deliveries, write_plan


@dataclass(frozen=True)
class NewCohort:
    programme: Programme
    programme_source: str
    start: date
    title: str | None = None
    timezone: str | None = None
    language: str | None = None


def create_cohort(
    session: Session, new: NewCohort, participants: Sequence[ParticipantRow] = (),
    now: datetime | None = None,
) -> Cohort:
    """A cohort with its dated plan, participants, invitations and deliveries."""
    now = now or utcnow()
    programme = new.programme
    cohort = Cohort(
        title=new.title or f"{programme.title} {new.start.isoformat()}",
        programme_id=programme.id,
        programme={"source": new.programme_source},
        start_date=new.start,
        timezone=new.timezone or programme.timezone,
        language=new.language or programme.language,
        created_at=now,
    )
    session.add(cohort)
    session.flush()
    plan = plan_cohort(programme, cohort.start_date, cohort.timezone)
    write_plan(session, cohort.id, plan, now)
    insert_deliveries(session, cohort.id, plan_facilitator_deliveries(plan), {})
    _add_participants(session, cohort, plan, participants, now)
    _form_groups(session, cohort, now)
    return cohort


def create_cohort_as(
    session: Session, new: NewCohort, actor: User | None, *,
    overrides: Mapping[str, MeetingOverride] | None = None,
    participants: Sequence[ParticipantRow] = (), now: datetime | None = None,
) -> Cohort:
    """Someone creates a cohort: the use case behind the web's New cohort page and `cohort
    create`.

    The cohort (see `create_cohort`), then the dates and places changed on the preview
    (`overrides`: starts in the cohort's local time, naive or aware), then the creator as its
    owner, then a `cohort_created` entry in its activity log. `actor` None is the command
    line: the cohort has no owner yet and the log says "system".
    """
    now = now or utcnow()
    cohort = create_cohort(session, new, participants, now=now)
    if overrides:
        set_initial_overrides(session, cohort, _localised(overrides, cohort.timezone), now)
    if actor is not None:
        owner = accounts.get_user(session, actor.id)
        if owner is None:
            raise NotFound(f"no staff account {actor.id}")
        accounts.add_cohort_staff(session, cohort.id, owner, CohortRole.OWNER)
    activity.log_activity(session, cohort.id, actor, activity.COHORT_CREATED,
                          {"title": cohort.title, "programme": new.programme.id}, now)
    return cohort


def _localised(overrides: Mapping[str, MeetingOverride], timezone: str
               ) -> dict[str, MeetingOverride]:
    """Naive override starts read as wall-clock time in the cohort's zone."""
    zone = ZoneInfo(timezone)
    return {key: replace(o, starts_at=o.starts_at.replace(tzinfo=zone))
            if o.starts_at is not None and o.starts_at.tzinfo is None else o
            for key, o in overrides.items()}


def import_participants(
    session: Session, cohort_id: int, data: bytes | str, now: datetime | None = None,
    max_rows: int | None = None, *, overdue_limit: timedelta | None = None,
) -> list[ParticipantRow]:
    """Add the participants in a CSV file, or none of them if any row is bad (or if it has
    more than `max_rows` people: None is no limit). With `overdue_limit` (the outbox's, as
    the web and the CLI pass it) their emails already overdue in a running cohort are skipped
    at once (`_add_participants`)."""
    cohort = get_cohort(session, cohort_id)
    existing = session.scalars(select(Participant.email).where(Participant.cohort_id == cohort_id))
    rows = parse_participant_list(data, cohort.language, existing_emails=list(existing),
                                  max_rows=max_rows)
    _add_participants(session, cohort, current_plan(session, cohort), rows, now or utcnow(),
                      overdue_limit)
    _form_groups(session, cohort, now)
    return rows


def _form_groups(session: Session, cohort: Cohort, now: datetime | None = None) -> None:
    """Groups for each grouping that has none yet, when there are enough participants.

    Existing groups are left alone: newcomers show up as ungrouped until the facilitator
    repairs the groups (`cohort groups repair`).
    """
    from .grouping import form_missing_groups  # grouping.py imports this module

    form_missing_groups(session, cohort, now=now)


def add_participants(
    session: Session, cohort: Cohort, rows: Sequence[ParticipantRow], now: datetime | None = None,
    *, overdue_limit: timedelta | None = None,
) -> dict[str, int]:
    """Add already-validated participants with their invitations and deliveries; email -> id.
    `overdue_limit` as for `import_participants`."""
    return _add_participants(session, cohort, current_plan(session, cohort), rows,
                             now or utcnow(), overdue_limit)


def list_cohorts(session: Session) -> list[Cohort]:
    return list(session.scalars(select(Cohort).order_by(Cohort.start_date, Cohort.id)))


def count_cohorts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Cohort)) or 0


# Participants whose invitations and emails are written per insert: a 5,000-person cohort has
# half a million planned emails, and all their rows as one list of dicts peaked above 1 GB.
CHUNK = 500


def _add_participants(
    session: Session, cohort: Cohort, plan: Plan, rows: Sequence[ParticipantRow], now: datetime,
    overdue_limit: timedelta | None = None,
) -> dict[str, int]:
    """Everything is read first, then written in bulk: on SQLite the write lock is taken at the
    first write, so it is held for the inserts (and the planning of each chunk's emails, which
    is a copy of one schedule per person), not for the reads.

    The rows are written in the order one insert of everything would write them (participants;
    invitations survey by survey; emails person by person), CHUNK people at a time, so memory
    stays bounded however many people come.

    Joining a running cohort brings the emails of items already past at their past times;
    with `overdue_limit` those the outbox would skip as overdue, and the reminders of the
    first emails among them, are skipped here in the same transaction, by the outbox's own
    rule (services/overdue.py): until its next pass they showed as pending reminders."""
    if not rows:
        return {}
    values = [dict(cohort_id=cohort.id, name=r.name, email=normalise_email(r.email),
                   organisation=r.organisation, role=r.role, language=r.language,
                   created_at=now) for r in rows]
    emails = [v["email"] for v in values]
    invited_to = select(Survey.id).where(Survey.cohort_id == cohort.id)
    if cohort.launched_at is not None:
        # Someone joining a running cohort is not invited to the surveys that have closed:
        # no invitation reached them, and counting them would lower those surveys' response
        # rates. A draft (set up afterwards, for paper answers say) invites everyone.
        invited_to = invited_to.where(Survey.closes_at > now)
    surveys = session.scalars(invited_to).all()
    earlier = {(row.kind, row.anchor, row.recipient): row for row in session.scalars(
        select(Delivery).where(Delivery.cohort_id == cohort.id, Delivery.recipient.in_(emails)))}
    # The first write.
    result = session.execute(
        insert(Participant).returning(Participant.id, Participant.email,
                                      sort_by_parameter_order=True),
        values,
    )
    ids = {email: pid for pid, email in result}
    people = list(ids.values())
    for survey in surveys:
        for start in range(0, len(people), CHUNK * 10):
            bulk_insert(session, Invitation, [dict(survey_id=survey, participant_id=p)
                                              for p in people[start:start + CHUNK * 10]])
    for start in range(0, len(emails), CHUNK):
        planned = plan_deliveries(plan, emails[start:start + CHUNK], now)
        deliveries = delivery_rows(cohort.id, [d for d in planned
                                               if d.natural_key not in earlier])
        for row in deliveries:
            row["participant_id"] = ids[row["recipient"]]
        bulk_insert(session, Delivery, deliveries)
    if earlier:
        again = sorted({recipient for _, _, recipient in earlier})
        _revive_earlier_deliveries(session, plan_deliveries(plan, again, now), earlier, ids)
    if overdue_limit is not None and cohort.launched_at is not None:
        overdue.skip_overdue(session.connection(), now, overdue_limit, cohort_id=cohort.id,
                             recipients=emails, when=overdue.WHEN_THEY_JOINED)
        for row in earlier.values():  # revived rows the statements may have changed
            session.expire(row)
    return ids


def _revive_earlier_deliveries(
    session: Session, planned: list[PlannedDelivery], earlier: dict[tuple, Delivery],
    ids: dict[str, int],
) -> None:
    """Someone removed and added again: reuse their cancelled rows, never resend sent ones."""
    for delivery in planned:
        row = earlier.get(delivery.natural_key)
        if row is None:
            continue
        if row.state == "cancelled":
            row.state, row.send_at = "pending", delivery.send_at
            row.participant_id, row.attempts = ids[delivery.recipient], 0
        else:
            row.participant_id = ids[delivery.recipient]
    session.flush()


def group_rows(session: Session, cohort_id: int) -> list[tuple[Group, list[Participant]]]:
    """Every group with its members, in two queries (not one per group)."""
    groups = session.scalars(select(Group).where(Group.cohort_id == cohort_id)
                             .order_by(Group.grouping_key, Group.rotation, Group.number)).all()
    members: dict[int, list[Participant]] = {group.id: [] for group in groups}
    for group_id, participant in session.execute(
            select(GroupMember.group_id, Participant)
            .join(Participant, GroupMember.participant_id == Participant.id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.cohort_id == cohort_id).order_by(Participant.name)):
        members[group_id].append(participant)
    return [(group, members[group.id]) for group in groups]


def cohort_as_dict(session: Session, cohort: Cohort) -> dict:
    """Everything about a cohort as plain JSON-ready data (`cohort show --json`)."""
    def iso(value: datetime | None) -> str | None:
        return value.astimezone(zone).isoformat() if value else None

    from zoneinfo import ZoneInfo

    zone = ZoneInfo(cohort.timezone)
    cid = cohort.id
    meetings = session.scalars(select(Meeting).where(Meeting.cohort_id == cid)
                               .order_by(Meeting.starts_at)).all()
    participants = session.scalars(select(Participant).where(Participant.cohort_id == cid)
                                   .order_by(Participant.name)).all()
    tasks = session.scalars(select(Task).where(Task.cohort_id == cid)
                            .order_by(Task.release_at, Task.key)).all()
    prompts = session.scalars(select(Prompt).where(Prompt.cohort_id == cid)
                              .order_by(Prompt.send_at, Prompt.key)).all()
    surveys = session.scalars(select(Survey).where(Survey.cohort_id == cid)
                              .order_by(Survey.opens_at, Survey.key)).all()
    deliveries = session.scalars(select(Delivery).where(Delivery.cohort_id == cid)
                                 .order_by(Delivery.send_at, Delivery.id)).all()
    return {
        "id": cid, "title": cohort.title, "programme": cohort.programme_id,
        "start": cohort.start_date.isoformat(), "timezone": cohort.timezone,
        "language": cohort.language, "state": cohort.state,
        "launched_at": iso(cohort.launched_at),
        "meetings": [dict(key=m.key, kind=m.kind, title=m.title, format=m.format,
                          starts_at=iso(m.starts_at), ends_at=iso(m.ends_at), status=m.status,
                          location=m.location, online_url=m.online_url, sequence=m.sequence)
                     for m in meetings],
        "participants": [dict(name=p.name, email=p.email, organisation=p.organisation,
                              role=p.role, language=p.language) for p in participants],
        "tasks": [dict(key=t.key, kind=t.kind, title=t.title, meeting=t.meeting_key,
                       release_at=iso(t.release_at), due_at=iso(t.due_at)) for t in tasks],
        "prompts": [dict(key=p.key, meeting=p.meeting_key, question=p.question,
                         send_at=iso(p.send_at)) for p in prompts],
        "surveys": [dict(key=s.key, title=s.title, mode=s.mode, meeting=s.meeting_key,
                         opens_at=iso(s.opens_at), closes_at=iso(s.closes_at)) for s in surveys],
        "groups": [dict(grouping=g.grouping_key, rotation=g.rotation, number=g.number,
                        members=[m.email for m in members], explanation=g.explanation)
                   for g, members in group_rows(session, cid)],
        "deliveries": [dict(kind=d.kind, anchor=d.anchor, to=d.recipient,
                            send_at=iso(d.send_at), state=d.state) for d in deliveries],
    }
