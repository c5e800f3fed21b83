"""One participant at a time: add, edit, remove, and which groups need repair afterwards.

(CSV import of many at once is `cohorts.import_participants`.) Removing someone cancels their
pending deliveries but keeps the sent ones as history; the groups they were in are not
re-formed here (that is the grouping feature's job) but flagged for the facilitator. Removal
takes the person out of everything, the released buddy rounds' pairs too (frozen first, so the
other pairs of those rounds stay as released: services/frozen_rounds.py); erasure
(services/privacy.py) is what keeps a person's part in the figures, and it is what removing
someone who has answered a survey does (`remove_participant` says why).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from ..core.participants import (
    TEXT_COLUMNS,
    WEB_ROWS_MAX,
    ParticipantRow,
    is_valid_email,
    normalise_email,
    text_problem,
)
from ..core.programme import LANGUAGES
from ..models import (
    Cohort,
    Delivery,
    Group,
    GroupMember,
    Invitation,
    Participant,
    User,
    utcnow,
)
from . import activity
from ._lookup import NotFound, cohort_programme, get_cohort
from .cohorts import add_participants
from .deliveries import cancel_participant_deliveries
from .frozen_rounds import freeze_released_rounds
from .privacy import erase_participant


class ParticipantError(ValueError):
    """Bad participant input; `field` names the form field to show it next to."""

    def __init__(self, field: str, code: str, message: str):
        super().__init__(message)
        self.field, self.code = field, code


@dataclass(frozen=True)
class RepairFlag:
    """A group that no longer fits its grouping's rules, or people left outside all groups."""

    grouping_key: str
    rotation: int
    code: str  # "too_small" (group number given) or "unassigned" (count given)
    group_number: int | None = None
    count: int = 0
    grouping_title: str = ""  # the programme's title for the grouping ("" if it has none)

    @property
    def grouping_name(self) -> str:
        return self.grouping_title or self.grouping_key


def get_participant(session: Session, cohort_id: int, participant_id: int) -> Participant:
    participant = session.get(Participant, participant_id)
    if participant is None or participant.cohort_id != cohort_id:
        raise NotFound(f"cohort {cohort_id} has no participant {participant_id}")
    return participant


def list_participants(session: Session, cohort_id: int) -> list[Participant]:
    return list(session.scalars(select(Participant).where(Participant.cohort_id == cohort_id,
                                                          Participant.erased_at.is_(None))
                                .order_by(Participant.name, Participant.id)))


def _checked(session: Session, cohort_id: int, row: ParticipantRow,
             exclude_id: int | None = None) -> ParticipantRow:
    name, email = row.name.strip(), normalise_email(row.email)
    for field, limit in TEXT_COLUMNS.items():
        problem = text_problem(field, getattr(row, field), limit)
        if problem is not None:
            raise ParticipantError(field, problem[1], problem[0])
    if not name:
        raise ParticipantError("name", "name_missing", "name is missing")
    if not is_valid_email(email):
        raise ParticipantError("email", "email_invalid", f"'{email}' is not a valid email")
    if row.language not in LANGUAGES:
        raise ParticipantError("language", "language_invalid", f"'{row.language}' is unknown")
    clash = select(Participant.id).where(Participant.cohort_id == cohort_id,
                                         Participant.email == email)
    if exclude_id is not None:
        clash = clash.where(Participant.id != exclude_id)
    if session.scalar(clash) is not None:
        raise ParticipantError("email", "email_duplicate", f"{email} is already in this cohort")
    return ParticipantRow(name, email, row.organisation.strip(), row.role.strip(), row.language)


def add_participant(session: Session, cohort_id: int, row: ParticipantRow, actor: User | None,
                    now: datetime | None = None, *,
                    overdue_limit: timedelta | None = None) -> Participant:
    """Add one person with their invitations and deliveries, as a CSV import would (emails
    already overdue in a running cohort skipped at once with `overdue_limit`, the outbox's)."""
    now = now or utcnow()
    cohort = get_cohort(session, cohort_id)
    row = _checked(session, cohort_id, row)
    ids = add_participants(session, cohort, [row], now, overdue_limit=overdue_limit)
    activity.log_activity(session, cohort_id, actor, activity.PARTICIPANT_ADDED,
                          {"name": row.name, "email": row.email}, now)
    return session.get(Participant, ids[row.email])


def update_participant(session: Session, cohort_id: int, participant_id: int,
                       row: ParticipantRow, actor: User | None,
                       now: datetime | None = None) -> Participant:
    """Edit someone; a new email address takes over their pending (not their sent) emails."""
    participant = get_participant(session, cohort_id, participant_id)
    row = _checked(session, cohort_id, row, exclude_id=participant_id)
    old_email = participant.email
    if row.email != old_email:
        # Rows a removed namesake left behind would clash with the unique delivery key.
        session.execute(delete(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.recipient == row.email,
            Delivery.state == "cancelled"))
        session.execute(update(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.participant_id == participant_id,
            Delivery.state == "pending").values(recipient=row.email))
    participant.name, participant.email = row.name, row.email
    participant.organisation, participant.role = row.organisation, row.role
    participant.language = row.language
    session.add(participant)
    session.flush()
    details = {"name": row.name, "email": row.email}
    if old_email != row.email:
        details["old_email"] = old_email
    activity.log_activity(session, cohort_id, actor, activity.PARTICIPANT_UPDATED, details, now)
    return participant


def participant_groups(session: Session, participant_id: int) -> list[Group]:
    return list(session.scalars(select(Group).join(GroupMember, GroupMember.group_id == Group.id)
                                .where(GroupMember.participant_id == participant_id)
                                .order_by(Group.grouping_key, Group.rotation, Group.number)))


@dataclass(frozen=True)
class Removal:
    groups: list[Group]  # the groups they left (which may need repair)
    erased: bool  # kept as an erased row, because they had answered a survey


def surveys_answered(session: Session, participant_id: int) -> int:
    """How many surveys someone has answered: named or anonymous, on the web or on paper."""
    return session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.participant_id == participant_id, Invitation.completed.is_(True))) or 0


def remove_participant(session: Session, cohort_id: int, participant_id: int,
                       actor: User | None, now: datetime | None = None) -> Removal:
    """Remove someone: pending emails cancelled, sent ones kept, out of the list and groups.

    Someone who has answered a survey is erased (services/privacy.py), not deleted. Deleting
    them took their named answers, and their marks as having answered, out of figures that
    may already have been seen, and the difference showed what they answered (a named
    survey's figures), or that they answered at all (an anonymous survey's count, which the
    pages do not show per person). Erased, the row stays without anything that names them,
    and every figure stays as it was."""
    now = now or utcnow()
    participant = get_participant(session, cohort_id, participant_id)
    freeze_released_rounds(session, cohort_id, now)
    groups = participant_groups(session, participant_id)
    if surveys_answered(session, participant_id):
        erase_participant(session, participant, actor, now)
        return Removal(groups, erased=True)
    cancel_participant_deliveries(session, participant)
    activity.log_activity(session, cohort_id, actor, activity.PARTICIPANT_REMOVED, {
        "name": participant.name, "email": participant.email,
        "groups": [[g.grouping_key, g.rotation, g.number] for g in groups],
    }, now)
    session.delete(participant)
    session.flush()
    return Removal(groups, erased=False)


def remove_participant_by_email(session: Session, cohort_id: int, email: str,
                                actor: User | None = None, now: datetime | None = None,
                                ) -> Removal:
    """The command line names people by email."""
    participant = session.scalars(select(Participant).where(
        Participant.cohort_id == cohort_id, Participant.email == normalise_email(email),
    )).one_or_none()
    if participant is None:
        raise NotFound(f"cohort {cohort_id} has no participant '{email}'")
    return remove_participant(session, cohort_id, participant.id, actor, now)


@dataclass(frozen=True)
class RotationSummary:
    """One rotation of a grouping in a line: how many groups, their sizes, who is placed."""

    grouping_key: str
    rotation: int
    groups: int
    smallest: int
    largest: int
    placed: int
    grouping_title: str = ""  # the programme's title for the grouping ("" if it has none)

    @property
    def grouping_name(self) -> str:
        """What people read: the grouping's title, its key only if the programme has none."""
        return self.grouping_title or self.grouping_key


def groups_overview(session: Session, cohort: Cohort, everyone: int | None = None,
                    ) -> tuple[list[RotationSummary], list[RepairFlag]]:
    """The groups counted in the database (a big cohort has hundreds), with the repair flags:
    groups smaller than the programme allows, and people left outside a rotation.
    `everyone` (the cohort's participant count, erased ones too, if the caller has it)
    saves a query."""
    groupings = {g.key: g for g in cohort_programme(cohort).groupings}
    groups = session.execute(
        select(Group.grouping_key, Group.rotation, Group.number, func.count(GroupMember.id))
        .outerjoin(GroupMember, GroupMember.group_id == Group.id)
        .where(Group.cohort_id == cohort.id)
        .group_by(Group.id, Group.grouping_key, Group.rotation, Group.number)
        .order_by(Group.grouping_key, Group.rotation, Group.number)).all()
    placed = {(key, rotation): n for key, rotation, n in session.execute(
        select(Group.grouping_key, Group.rotation,
               func.count(func.distinct(GroupMember.participant_id)))
        .join(Group, Group.id == GroupMember.group_id)
        .where(Group.cohort_id == cohort.id)
        .group_by(Group.grouping_key, Group.rotation))}
    if everyone is None:
        everyone = session.scalar(select(func.count()).select_from(Participant)
                                  .where(Participant.cohort_id == cohort.id)) or 0
    return summarise_groups(groupings, groups, placed, everyone)


def summarise_groups(groupings: dict, groups: Sequence[tuple[str, int, int, int]],
                     placed: dict[tuple[str, int], int],
                     total: int) -> tuple[list[RotationSummary], list[RepairFlag]]:
    """One cohort's groups as counted in the database (grouping key, rotation, number, size),
    its people placed per rotation and its participant count, judged against the programme's
    groupings: shared by the overview and the dashboard, which counts for many cohorts at once."""
    flags: list[RepairFlag] = []
    sizes: dict[tuple[str, int], list[int]] = {}
    titles = {key: g.title for key, g in groupings.items()}
    for grouping_key, rotation, number, size in groups:
        sizes.setdefault((grouping_key, rotation), []).append(size)
        grouping = groupings.get(grouping_key)
        if grouping is not None and size < grouping.size[0]:
            flags.append(RepairFlag(grouping_key, rotation, "too_small", number, size,
                                    grouping_title=titles.get(grouping_key, "")))
    for grouping_key, rotation in sorted(sizes):
        missing = total - placed.get((grouping_key, rotation), 0)
        if missing > 0:
            flags.append(RepairFlag(grouping_key, rotation, "unassigned", count=missing,
                                    grouping_title=titles.get(grouping_key, "")))
    summaries = [RotationSummary(key, rotation, len(found), min(found), max(found),
                                 placed.get((key, rotation), 0), titles.get(key, ""))
                 for (key, rotation), found in sorted(sizes.items())]
    return summaries, flags


def groups_needing_repair(session: Session, cohort: Cohort) -> list[RepairFlag]:
    """Compare stored groups with the programme's group sizes, and find people left out."""
    return groups_overview(session, cohort)[1]


def import_csv(session: Session, cohort_id: int, data: bytes, actor: User | None,
               now: datetime | None = None,
               max_rows: int | None = WEB_ROWS_MAX, *,
               overdue_limit: timedelta | None = None) -> list[ParticipantRow]:
    """A CSV upload from the web: all rows or none (ParticipantImportError), then logged.

    At most `max_rows` people a file: each brings about a hundred outbox rows, written in the
    request's one transaction, which holds SQLite's write lock until it ends.
    """
    from .cohorts import import_participants

    rows = import_participants(session, cohort_id, data, now, max_rows=max_rows,
                               overdue_limit=overdue_limit)
    activity.log_activity(session, cohort_id, actor, activity.PARTICIPANTS_IMPORTED,
                          {"count": len(rows)}, now)
    return rows


def pending_deliveries(session: Session, participant_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.participant_id == participant_id, Delivery.state == "pending")) or 0
