"""What one delivery's email says, gathered from the database as plain data.

Emails are composed when they are sent (or previewed), from the rows as they are then: an
invitation still pending when its meeting moves simply shows the new time. Composing gathers
everything the email carries, its calendar attachment included, so the rendering into text and
HTML (`cohort/mail/render.py`) reads no database; the decision whether to send at all is
`core/sending.py`.

Meeting invitations, updates and cancellations to a participant carry the meeting itself as an
.ics (`MessageData.calendar`): `services.calendars.meeting_invitation_to_all` (core
`calendars.invitation_to_all`) with the participant put in as ATTENDEE
(`core.calendars.with_attendee`). It has the meeting's own UID and SEQUENCE, METHOD:REQUEST
while the meeting takes place (a moved meeting's update carries the higher SEQUENCE, so
calendars move the event instead of adding one) and METHOD:CANCEL once it is cancelled. The
ORGANIZER is the cohort's facilitator address (`facilitator_address`, falling back to the
app's MAIL_FROM). While the outbox composes a batch, `Lookups` makes the invitation once per
meeting and only the attendee differs from email to email.

The rows are found by `Lookups` (mail/lookups.py: read once per batch, or on first use for a
single email); this module says what each kind of email carries.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime
from email.utils import parseaddr
from functools import lru_cache

from sqlmodel import Session

from ..core import deliveries as kinds
from ..core.attendance import CATCH_UP
from ..core.calendars import CalendarMessage, Person, with_attendee
from ..core.joining import MissedSoFar, PlannedItem, is_late_joiner, missed_before_joining
from ..core.programme import Programme
from ..core.sending import message_id
from ..models import Delivery, Meeting, Participant, Prompt, Survey, Task
from ..services._lookup import NotFound
from ..services.announcements import announcement_of
from ..services.attendance import catch_up_content
from ..services.frozen_rounds import BUDDY_TASK
from ..services.participation import facilitator_digest
from ..services.progress import open_items
from .lookups import (  # noqa: F401  (re-exported: callers import them from here)
    MATERIAL_PAGE,
    PREVIEW_TOKEN,
    Lookups,
    MailContext,
    Undeliverable,
    facilitator_address,
    personal_link_to,
    webcal_link,
)
from .message import (  # noqa: F401  (re-exported: callers import them from here)
    BUNDLE,
    STAFF_ACTIVATION,
    AnnouncementInfo,
    CalendarAttachment,
    GroupInfo,
    MaterialInfo,
    MeetingInfo,
    MessageData,
    ReminderInfo,
    SurveyInfo,
    TaskInfo,
    bundle_data,
)

# Where a personal link lands after "continue" (the participant pages' routes; the link
# handler accepts only participant pages as targets).
SURVEY_PAGE = "/me/surveys/{survey_id}"
BUDDY_CHECK_IN_PAGE = "/me/buddy/{task_id}"


def message_data(session: Session, delivery: Delivery, context: MailContext, now: datetime,
                 lookups: Lookups | None = None) -> MessageData:
    lookups = lookups or Lookups(session, context, now)
    cohort = lookups.cohort(delivery.cohort_id)
    facilitator = lookups.facilitator(cohort.id)
    if delivery.recipient == kinds.FACILITATOR:
        participant = None
        to_name, to_address = parseaddr(facilitator)
        language = cohort.language
        personal_url = None
    else:
        participant = lookups.participant(delivery.participant_id) \
            if delivery.participant_id else None
        if participant is None or participant.cohort_id != cohort.id:
            raise Undeliverable("the participant has been removed from the cohort")
        if participant.erased_at is not None:
            raise Undeliverable("the participant's personal data has been erased")
        to_address, to_name, language = participant.email, participant.name, participant.language
        personal_url = lookups.personal_url(participant.id)
    base = dict(
        delivery_id=delivery.id, cohort_id=cohort.id, kind=delivery.kind,
        anchor=delivery.anchor,
        message_id=delivery.message_id or message_id(
            delivery.id, cohort.id, delivery.kind, delivery.anchor, delivery.recipient,
            delivery.resend_number, context.message_id_domain),
        to_address=to_address, to_name=to_name,
        greeting_name=participant.name if participant is not None else None, language=language,
        cohort_title=cohort.title, timezone=cohort.timezone,
        reply_to=facilitator if participant is not None else None, personal_url=personal_url,
        facilitator=facilitator,
    )
    subject = _subject_of(lookups, delivery, participant, now, personal_url)
    if participant is not None and delivery.kind in CALENDAR_KINDS:  # only participants attend
        attendee = Person(to_address, to_name)
        subject["calendar"] = meeting_attachment(
            lookups.invitation(cohort.id, subject["meeting"].key,
                               _person(facilitator or context.mail_from)),
            attendee, lookups.attendee_line(attendee))
    return MessageData(**base, **subject)


# The emails that carry the meeting as .ics.
CALENDAR_KINDS = (kinds.MEETING_INVITATION, kinds.MEETING_UPDATE, kinds.MEETING_CANCELLATION)


def meeting_attachment(invitation: CalendarMessage, attendee: Person,
                       line: bytes | None = None) -> CalendarAttachment:
    """The .ics of a meeting email: the meeting's invitation to all, for this attendee."""
    message = with_attendee(invitation, attendee, line)
    filename = "cancel.ics" if message.method == "CANCEL" else "invite.ics"
    return CalendarAttachment(message.method, message.ics, filename)


@lru_cache(maxsize=64)
def _person(address: str) -> Person:
    """The ORGANIZER of a meeting email: the cohort's facilitator (or COHORT_MAIL_FROM), the
    same few addresses for every email of a pass; kept, since parsing one costs more than the
    rest of the invitation's attendee."""
    name, email = parseaddr(address)
    return Person(email, name)


def _subject_of(lookups: Lookups, delivery: Delivery, participant: Participant | None,
                now: datetime, personal_url: str | None) -> dict:
    """The kind-specific part: the meeting, task, prompt, survey or digest it is about."""
    kind, cohort_id, session = delivery.kind, delivery.cohort_id, lookups.session
    programme = lookups.programme(cohort_id)
    if kind == kinds.WELCOME:
        meetings = [m for m in lookups.meetings(cohort_id) if m.status == "scheduled"]
        return dict(meetings=tuple(lookups.meeting_info(m, programme) for m in meetings),
                    calendar_url=lookups.calendar_url(participant.id)
                    if participant is not None else None,
                    groups=_groups_of(lookups, participant, programme),
                    missed=_missed_so_far(lookups, participant, now))
    if kind in (kinds.MEETING_INVITATION, kinds.MEETING_UPDATE, kinds.MEETING_CANCELLATION,
                kinds.FACILITATOR_DIGEST):
        meeting = lookups.keyed(Meeting, cohort_id, kinds.meeting_key_of(delivery.anchor) or "")
        if meeting.status == "cancelled" and kind != kinds.MEETING_CANCELLATION:
            raise Undeliverable(f"meeting '{meeting.key}' has been cancelled")
        extra: dict = {}
        info = lookups.meeting_info(meeting, programme)
        if kind == kinds.FACILITATOR_DIGEST:
            extra["digest"] = facilitator_digest(session, cohort_id, meeting.key, now)
        elif kind != kinds.MEETING_CANCELLATION and participant is not None:
            info = _with_materials(info, lookups.materials(meeting, personal_url))
        return dict(meeting=info, deadline=meeting.starts_at, **extra)
    if kind in (kinds.TASK_RELEASED, kinds.TASK_REMINDER):
        task = lookups.keyed(Task, cohort_id, kinds.item_key_of(delivery.anchor))
        template = next((t for t in programme.tasks if t.key == task.template_key), None)
        due_meeting = None
        if task.due_meeting_key is not None:
            with contextlib.suppress(Undeliverable):
                due_meeting = lookups.keyed(Meeting, cohort_id, task.due_meeting_key).title
        done = participant is not None and lookups.task_done(participant.id, task.id)
        buddies = (_round_buddies(lookups, participant, programme, task.id)
                   if task.kind == BUDDY_TASK else ())
        check_in_url = (personal_link_to(personal_url, BUDDY_CHECK_IN_PAGE.format(
            task_id=task.id)) if buddies and personal_url else None)
        return dict(task=TaskInfo(task.title, task.description,
                                  tuple(template.checklist) if template else (),
                                  task.release_at, task.due_at, due_meeting, check_in_url),
                    deadline=task.due_at, settled=done, groups=buddies)
    if kind == kinds.PROMPT:
        prompt = lookups.keyed(Prompt, cohort_id, kinds.item_key_of(delivery.anchor))
        meeting = lookups.keyed(Meeting, cohort_id, prompt.meeting_key or "")
        before = prompt.send_at <= meeting.starts_at
        info = lookups.meeting_info(meeting, programme)
        if participant is not None:
            info = _with_materials(info, lookups.materials(meeting, personal_url))
        return dict(prompt_question=prompt.question, meeting=info,
                    deadline=meeting.starts_at if before else None)
    if kind in (kinds.SURVEY_INVITATION, kinds.SURVEY_REMINDER):
        survey = lookups.keyed(Survey, cohort_id, kinds.item_key_of(delivery.anchor))
        number = int(delivery.anchor.rsplit("#", 1)[1]) if "#" in delivery.anchor else 0
        # Asked at send time: a reminder goes only to someone who has not answered (see
        # survey_responses.pending_reminder_recipients); answering cancels nothing, so it
        # leaves no trace.
        answered = participant is not None and lookups.survey_answered(participant.id,
                                                                       survey.id)
        url = personal_link_to(personal_url, SURVEY_PAGE.format(survey_id=survey.id)) \
            if personal_url else None
        return dict(survey=SurveyInfo(_survey_title(lookups, survey), survey.mode,
                                      survey.opens_at, survey.closes_at, number, url),
                    deadline=survey.closes_at, settled=answered)
    if kind == kinds.GROUPS_CHANGED:
        # The person's groups as they are now, in the grouping that changed
        # (services/group_changes.py queued it).
        groups = _groups_of(lookups, participant, programme,
                            grouping_key=kinds.item_key_of(delivery.anchor))
        if not groups:
            raise Undeliverable("the participant is in no group of that grouping any more")
        return dict(groups=groups)
    if kind == kinds.ANNOUNCEMENT:
        try:
            found = announcement_of(session, cohort_id, delivery.anchor)
        except NotFound as gone:
            raise Undeliverable(str(gone)) from None
        return dict(announcement=AnnouncementInfo(found.subject, found.body, found.urgent))
    if kind == kinds.PROGRESS_REMINDER:
        if participant is None:
            raise Undeliverable("a progress reminder goes to a participant")
        items = open_items(session, participant.id, now)
        return dict(reminder=ReminderInfo(items.tasks, items.surveys))
    if kind == CATCH_UP:
        # What the missed meeting covered; useless once the next meeting has begun.
        item = catch_up_content(session, delivery, now)
        return dict(catch_up=item, deadline=item.next_meeting_starts_at)
    raise Undeliverable(f"unknown kind of delivery '{kind}'")


def _missed_so_far(lookups: Lookups, participant: Participant | None,
                   now: datetime) -> MissedSoFar | None:
    """A late joiner's welcome: what was released before they joined and no email brings
    them (core/joining.py), from the plan and their first emails as they are `now`."""
    if participant is None:
        return None
    cohort = lookups.cohort(participant.cohort_id)
    if not is_late_joiner(participant.created_at, cohort.launched_at):
        return None
    meetings = {m.key: m for m in lookups.plan_rows(Meeting, cohort.id)}

    def at(meeting_key: str | None) -> dict:
        meeting = meetings.get(meeting_key or "")
        return dict(meeting_title=meeting.title, meeting_starts_at=meeting.starts_at) \
            if meeting is not None else {}

    items = [PlannedItem(kinds.TASK_RELEASED, f"task:{t.key}", t.title, t.release_at,
                         t.due_at, t.due_at, **at(t.meeting_key))
             for t in lookups.plan_rows(Task, cohort.id)]
    for prompt in lookups.plan_rows(Prompt, cohort.id):
        meeting = meetings.get(prompt.meeting_key)
        before = meeting is not None and prompt.send_at <= meeting.starts_at
        items.append(PlannedItem(kinds.PROMPT, f"prompt:{prompt.key}", prompt.question,
                                 prompt.send_at, None, meeting.starts_at if before else None,
                                 **at(prompt.meeting_key)))
    items += [PlannedItem(kinds.SURVEY_INVITATION, f"survey:{s.key}", s.title, s.opens_at,
                          s.closes_at, s.closes_at, **at(s.meeting_key))
              for s in lookups.plan_rows(Survey, cohort.id)]
    return missed_before_joining(
        participant.created_at, cohort.launched_at, lookups.first_emails(participant.id),
        items, [(m.title, m.starts_at) for m in meetings.values() if m.status == "scheduled"],
        now, lookups.context.overdue_limit)


def _survey_title(lookups: Lookups, survey: Survey) -> str:
    """The survey as the participant's page names it: a survey repeated for each meeting
    ("Evaluering af mødet" after each of them) with the meeting it is about, so its emails
    do not all read alike."""
    if survey.key == survey.template_key:
        return survey.title
    try:
        meeting = lookups.keyed(Meeting, survey.cohort_id, survey.meeting_key)
    except Undeliverable:  # the meeting left the plan: the survey's own title still holds
        return survey.title
    return f"{survey.title}: {meeting.title}"


def _groups_of(lookups: Lookups, participant: Participant | None, programme: Programme,
               kind: str | None = None, grouping_key: str | None = None
               ) -> tuple[GroupInfo, ...]:
    """The participant's groups with partners (of one kind of grouping, or of one grouping,
    or all), in the programme's order of groupings; none for the facilitator or a group of
    one."""
    if participant is None:
        return ()
    templates = {t.key: (index, t) for index, t in enumerate(programme.groupings)}
    found = []
    for group in lookups.groups(participant.id):
        index, template = templates.get(group.grouping_key, (len(templates), None))
        group_kind = template.kind if template else "buddy"
        if not group.partners or (kind is not None and group_kind != kind) or (
                grouping_key is not None and group.grouping_key != grouping_key):
            continue
        found.append((index, group.rotation, GroupInfo(
            group.title, group_kind, group.rotation,
            template.rotations if template else 1, group.partners)))
    return tuple(info for _index, _rotation, info in sorted(found, key=lambda f: f[:2]))


def _round_buddies(lookups: Lookups, participant: Participant | None, programme: Programme,
                   task_id: int) -> tuple[GroupInfo, ...]:
    """The buddies a buddy exchange task's email names: while the round follows the live
    groups, the participant's buddy groups now; once it keeps its pairs (frozen_rounds), the
    pair it counts their answer for, as their page asks about it (none: they were in no pair
    of it, and get no check-in link)."""
    if participant is None:  # the facilitator's copy names nobody's buddy
        return ()
    kept = lookups.kept_pairs(task_id)
    if kept is None:
        return _groups_of(lookups, participant, programme, kind="buddy")
    pair = kept.get(participant.id)
    if pair is None or not pair.partners:
        return ()
    template = next((g for g in programme.groupings if g.key == pair.grouping_key), None)
    if template is None:  # not in the programme: named by its key, as `_groups_of` does
        return (GroupInfo(pair.grouping_key, "buddy", pair.rotation, 1, pair.partners),)
    return (GroupInfo(template.title or template.key, "buddy", pair.rotation,
                      template.rotations, pair.partners),)


def _with_materials(info: MeetingInfo, materials: tuple[MaterialInfo, ...]) -> MeetingInfo:
    """`info` with the meeting's materials; most meetings have none, and `replace` costs as
    much as the rest of the meeting's part of the email."""
    return replace(info, materials=materials) if materials else info
