"""Cohorts: create from a programme, add participants (meeting changes: services/meetings.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, update
from sqlmodel import Session

from ..core.calendars import new_uid
from ..core.deliveries import PlannedDelivery, plan_deliveries, plan_facilitator_deliveries
from ..core.participants import ParticipantRow, normalise_email, parse_participants_csv
from ..core.planning import MeetingOverride, Plan, plan_cohort
from ..core.programme import Programme, parse_programme
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
from . import accounts, activity
from .errors import NotFound  # defined apart so services/deliveries.py can use it too


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
    _write_plan(session, cohort.id, plan, now)
    _insert_deliveries(session, cohort.id, plan_facilitator_deliveries(plan), {})
    _add_participants(session, cohort, plan, participants, now)
    _form_groups(session, cohort)
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
    from .meetings import set_initial_overrides  # meetings builds on this module

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


def cohort_programme(cohort: Cohort) -> Programme:
    """The template as it was when the cohort was created (later edits do not leak in)."""
    return _parse_snapshot(cohort.programme["source"], f"cohort {cohort.id} programme")


@lru_cache(maxsize=64)
def _parse_snapshot(source: str, name: str) -> Programme:
    """Snapshots never change, and parsing one costs ~50 ms: the outbox asks for each email."""
    return parse_programme(source, name)


def get_cohort(session: Session, cohort_id: int) -> Cohort:
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound(f"no cohort {cohort_id}")
    return cohort


def import_participants(
    session: Session, cohort_id: int, data: bytes | str, now: datetime | None = None
) -> list[ParticipantRow]:
    """Add the participants in a CSV file, or none of them if any row is bad."""
    cohort = get_cohort(session, cohort_id)
    existing = session.scalars(select(Participant.email).where(Participant.cohort_id == cohort_id))
    rows = parse_participants_csv(data, cohort.language, existing_emails=list(existing))
    _add_participants(session, cohort, current_plan(session, cohort), rows, now or utcnow())
    _form_groups(session, cohort)
    return rows


def _form_groups(session: Session, cohort: Cohort) -> None:
    """Groups for each grouping that has none yet, when there are enough participants.

    Existing groups are left alone: newcomers show up as ungrouped until the facilitator
    repairs the groups (`cohort groups repair`).
    """
    from .grouping import form_missing_groups  # grouping.py imports this module

    form_missing_groups(session, cohort)


def current_plan(session: Session, cohort: Cohort) -> Plan:
    """The cohort's plan with the facilitator's overrides applied."""
    return plan_cohort(cohort_programme(cohort), cohort.start_date, cohort.timezone,
                       meeting_overrides(session, cohort))


def meeting_overrides(session: Session, cohort: Cohort) -> dict[str, MeetingOverride]:
    """The facilitator's stored changes per meeting key (what-if previews start from these)."""
    meetings = session.scalars(select(Meeting).where(Meeting.cohort_id == cohort.id)).all()
    return {
        m.key: MeetingOverride(
            starts_at=m.override_starts_at,
            location=m.override_location,
            online_url=m.override_online_url,
            cancelled=m.status == "cancelled",
        )
        for m in meetings
    }


def add_participants(
    session: Session, cohort: Cohort, rows: Sequence[ParticipantRow], now: datetime | None = None
) -> dict[str, int]:
    """Add already-validated participants with their invitations and deliveries; email -> id."""
    return _add_participants(session, cohort, current_plan(session, cohort), rows,
                             now or utcnow())


def get_meeting(session: Session, cohort_id: int, meeting_key: str) -> Meeting:
    """A meeting of the cohort by key; NotFound (404 on the web) for anything else."""
    meeting = session.scalars(select(Meeting).where(
        Meeting.cohort_id == cohort_id, Meeting.key == meeting_key)).one_or_none()
    if meeting is None:
        raise NotFound(f"cohort {cohort_id} has no meeting '{meeting_key}'")
    return meeting


def list_cohorts(session: Session) -> list[Cohort]:
    return list(session.scalars(select(Cohort).order_by(Cohort.start_date, Cohort.id)))


def count_cohorts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Cohort)) or 0


def _write_plan(session: Session, cohort_id: int, plan: Plan, now: datetime) -> None:
    _bulk(session, Meeting, [
        dict(cohort_id=cohort_id, key=m.key, kind=m.kind, title=m.title, format=m.format,
             position=i, starts_at=m.starts_at, ends_at=m.ends_at, location=m.location,
             online_url=m.online_url, uid=new_uid(), updated_at=now)
        for i, m in enumerate(plan.meetings)
    ])
    _bulk(session, Task, [_task_row(cohort_id, t) for t in plan.tasks])
    _bulk(session, Prompt, [_prompt_row(cohort_id, p) for p in plan.prompts])
    _bulk(session, Survey, [_survey_row(cohort_id, s) for s in plan.surveys])


def _task_row(cohort_id: int, t) -> dict:
    return dict(cohort_id=cohort_id, key=t.key, template_key=t.template_key, kind=t.kind,
                title=t.title, description=t.description, meeting_key=t.meeting_key,
                due_meeting_key=t.due_meeting_key, release_at=t.release_at, due_at=t.due_at,
                reminder_at=t.reminder_at)


def _prompt_row(cohort_id: int, p) -> dict:
    return dict(cohort_id=cohort_id, key=p.key, template_key=p.template_key,
                meeting_key=p.meeting_key, question=p.question, send_at=p.send_at)


def _survey_row(cohort_id: int, s) -> dict:
    return dict(cohort_id=cohort_id, key=s.key, template_key=s.template_key, title=s.title,
                mode=s.mode, meeting_key=s.meeting_key, opens_at=s.opens_at,
                closes_at=s.closes_at)


def _sync_plan(session: Session, cohort_id: int, plan: Plan) -> None:
    """Update dated rows in place by key; rows whose item left the plan are removed."""
    for position, m in enumerate(plan.meetings):
        session.execute(update(Meeting).where(
            Meeting.cohort_id == cohort_id, Meeting.key == m.key
        ).values(starts_at=m.starts_at, ends_at=m.ends_at, position=position,
                 location=m.location, online_url=m.online_url))
    for model, planned, row in ((Task, plan.tasks, _task_row), (Prompt, plan.prompts, _prompt_row),
                                (Survey, plan.surveys, _survey_row)):
        rows = {r["key"]: r for r in (row(cohort_id, item) for item in planned)}
        stored = set(session.scalars(select(model.key).where(model.cohort_id == cohort_id)))
        for key in stored - rows.keys():
            session.execute(delete(model).where(model.cohort_id == cohort_id, model.key == key))
        for key, values in rows.items():
            if key in stored:
                session.execute(update(model).where(
                    model.cohort_id == cohort_id, model.key == key).values(**values))
        _bulk(session, model, [v for k, v in rows.items() if k not in stored])


def _add_participants(
    session: Session, cohort: Cohort, plan: Plan, rows: Sequence[ParticipantRow], now: datetime
) -> dict[str, int]:
    if not rows:
        return {}
    values = [dict(cohort_id=cohort.id, name=r.name, email=normalise_email(r.email),
                     organisation=r.organisation, role=r.role, language=r.language,
                     created_at=now) for r in rows]
    result = session.execute(
        insert(Participant).returning(Participant.id, Participant.email,
                                      sort_by_parameter_order=True),
        values,
    )
    ids = {email: pid for pid, email in result}
    surveys = session.scalars(select(Survey.id).where(Survey.cohort_id == cohort.id)).all()
    _bulk(session, Invitation, [dict(survey_id=s, participant_id=p) for s in surveys
                                for p in ids.values()])
    planned = plan_deliveries(plan, ids.keys(), now)
    _insert_deliveries(session, cohort.id, _revive_earlier_deliveries(session, cohort.id, planned,
                                                                      ids), ids)
    return ids


def _revive_earlier_deliveries(
    session: Session, cohort_id: int, planned: list[PlannedDelivery], ids: dict[str, int]
) -> list[PlannedDelivery]:
    """Someone removed and added again: reuse their cancelled rows, never resend sent ones.

    Returns the planned deliveries that still need a new row.
    """
    earlier = {(row.kind, row.anchor, row.recipient): row for row in session.scalars(
        select(Delivery).where(Delivery.cohort_id == cohort_id,
                               Delivery.recipient.in_(list(ids))))}
    if not earlier:
        return planned
    fresh = []
    for delivery in planned:
        row = earlier.get(delivery.natural_key)
        if row is None:
            fresh.append(delivery)
        elif row.state == "cancelled":
            row.state, row.send_at = "pending", delivery.send_at
            row.participant_id, row.attempts = ids[delivery.recipient], 0
        else:
            row.participant_id = ids[delivery.recipient]
    session.flush()
    return fresh


def _insert_deliveries(
    session: Session, cohort_id: int, planned: Iterable[PlannedDelivery], ids: dict[str, int]
) -> None:
    _bulk(session, Delivery, [
        dict(cohort_id=cohort_id, participant_id=ids.get(d.recipient), kind=d.kind,
             anchor=d.anchor, recipient=d.recipient, send_at=d.send_at, state="pending",
             attempts=0)
        for d in planned
    ])


def _bulk(session: Session, model: type, rows: list[dict]) -> None:
    """Core insert(): an order of magnitude faster than ORM add_all for thousands of rows."""
    if rows:
        session.execute(insert(model), rows)


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
        "language": cohort.language,
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
