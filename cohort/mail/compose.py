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
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime
from email.headerregistry import Address
from email.utils import parseaddr
from functools import lru_cache
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select
from sqlmodel import Session

from ..core import deliveries as kinds
from ..core.attendance import CATCH_UP
from ..core.calendars import CalendarMessage, Person, attendee_line, with_attendee
from ..core.programme import Programme
from ..core.sending import message_id
from ..core.text import one_line
from ..models import (
    Cohort,
    CohortMailSettings,
    CohortRole,
    CohortStaff,
    Delivery,
    Meeting,
    Participant,
    ParticipantLink,
    Prompt,
    Survey,
    Task,
    TaskStatus,
    User,
)
from ..services._lookup import NotFound, cohort_programme, get_cohort
from ..services.announcements import announcement_of
from ..services.attendance import catch_up_content
from ..services.calendars import (
    calendar_feed_revoked,
    calendar_feed_token,
    calendar_feed_tokens,
    meeting_invitation_to_all,
)
from ..services.grouping import ParticipantGroup, participant_groups, participants_groups
from ..services.materials import visible_materials
from ..services.participant_access import issue_links, link_token, personal_token
from ..services.participation import facilitator_digest
from ..services.progress import open_items
from ..services.surveys import answered_surveys, has_answered
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
MATERIAL_PAGE = "/me/materials/{material_id}"

# What a preview shows instead of a participant's credentials: `/p/PREVIEW` and
# `/calendar/PREVIEW.ics` are valid-looking URLs on the site that match no link or feed (real
# tokens are 43 characters of HMAC), so opening them grants nothing.
PREVIEW_TOKEN = "PREVIEW"


class Undeliverable(LookupError):
    """The delivery's recipient or subject is gone (participant removed, task re-planned)."""


@dataclass(frozen=True)
class MailContext:
    """What composing needs from the app's settings."""

    base_url: str
    mail_from: str
    secret_key: str
    message_id_domain: str


class Lookups:
    """The rows composing needs, read once per batch instead of once per email.

    The outbox composes a batch of emails in one transaction: each cohort, its programme,
    facilitator address, meetings, tasks, prompts and surveys, and the batch's participants,
    their personal links, task statuses and answered surveys are each read with one query
    (`prefetch`). Anything not prefetched is read on first use and kept, so a single email
    (preview) costs what it always did. A meeting's calendar invitation is likewise made once
    for the batch (`invitation`), before its attendee is put in.

    With `preview=True` (the outbox preview on the web and the CLI: staff read the email, it
    is not sent) the participant's personal link, survey links and calendar feed are
    placeholders (`PREVIEW_TOKEN`) and nothing is issued: a preview neither shows a credential
    nor creates a ParticipantLink or CalendarFeed row.
    """

    def __init__(self, session: Session, context: MailContext, now: datetime,
                 preview: bool = False, invitations: dict | None = None) -> None:
        self.session, self.context, self.now = session, context, now
        self.preview = preview
        self._cohorts: dict[int, Cohort] = {}
        self._facilitators: dict[int, str] = {}
        self._rows: dict[tuple[type, int], dict[str, object]] = {}
        self._participants: dict[int, Participant | None] = {}
        self._urls: dict[int, str] = {}
        self._done_tasks: dict[int, set[int]] = {}
        self._answered: dict[int, set[int]] = {}
        # A pass's batches share their invitations and attendee lines (`invitations`, kept by
        # the dispatcher for one pass): each invitation is keyed by what it says, so a meeting
        # changed between batches is made again.
        self._invitations: dict[tuple, object] = {} if invitations is None else invitations
        self._invitation_keys: dict[tuple, tuple] = {}
        self._meeting_infos: dict[int, MeetingInfo] = {}
        self._unlinked: list[int] = []  # prefetched participants without a personal link
        self._unfed: list[int] = []  # welcomed participants whose calendar feed is to be read
        self._materials: dict[int, dict[int, list]] = {}
        self._feeds: dict[int, str | None] = {}
        self._groups: dict[int, list[ParticipantGroup]] = {}

    def prefetch(self, deliveries: list[Delivery], issue: bool = True) -> None:
        """Read the batch's rows at once. With `issue=False` the personal links and calendar
        feeds the batch lacks are only noted, for `issue_missing` (the outbox writes them
        apart from the reads, under its SQLite writer lock)."""
        ids = sorted({d.participant_id for d in deliveries if d.participant_id} -
                     self._participants.keys())
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            found = {p.id: p for p in self.session.scalars(
                select(Participant).where(Participant.id.in_(chunk)))}
            for pid in chunk:
                self._participants[pid] = found.get(pid)
                self._done_tasks[pid] = set()
            links = self.session.scalars(select(ParticipantLink).where(
                ParticipantLink.participant_id.in_(chunk), ParticipantLink.revoked_at.is_(None),
            ).order_by(ParticipantLink.id))
            for link in links:  # the newest unrevoked link wins, as personal_token() says
                self._urls[link.participant_id] = self._url(link_token(
                    link, self.context.secret_key))
            self._unlinked += [pid for pid in chunk if found.get(pid) and pid not in self._urls]
            for pid, task_id in self.session.execute(select(
                    TaskStatus.participant_id, TaskStatus.task_id).where(
                    TaskStatus.participant_id.in_(chunk), TaskStatus.done_at.is_not(None))):
                self._done_tasks[pid].add(task_id)
            self._answered.update(answered_surveys(self.session, chunk))
            present = [found[pid] for pid in chunk if found.get(pid)]
            self._groups.update(participants_groups(self.session, present))
            if not self.preview:  # the feeds a welcome links to, made at once
                self._unfed += sorted({d.participant_id for d in deliveries
                                       if d.kind == kinds.WELCOME and d.participant_id in found})
        if issue:
            self.issue_missing()

    def issue_missing(self) -> None:
        """The personal links and welcome calendar feeds `prefetch` found missing, made (and
        their rows added to the session) in one go."""
        unlinked, self._unlinked = self._unlinked, []
        for pid, token in issue_links(self.session, unlinked, self.context.secret_key,
                                      self.now).items():
            self._urls[pid] = self._url(token)
        unfed, self._unfed = self._unfed, []
        if unfed:
            self._feeds.update(calendar_feed_tokens(self.session, unfed,
                                                    self.context.secret_key))

    def cohort(self, cohort_id: int) -> Cohort:
        if cohort_id not in self._cohorts:
            self._cohorts[cohort_id] = get_cohort(self.session, cohort_id)
        return self._cohorts[cohort_id]

    def facilitator(self, cohort_id: int) -> str:
        if cohort_id not in self._facilitators:
            self._facilitators[cohort_id] = facilitator_address(self.session, cohort_id,
                                                                self.context.mail_from)
        return self._facilitators[cohort_id]

    def programme(self, cohort_id: int) -> Programme:
        return cohort_programme(self.cohort(cohort_id))

    def participant(self, participant_id: int) -> Participant | None:
        if participant_id not in self._participants:
            self._participants[participant_id] = self.session.get(Participant, participant_id)
        return self._participants[participant_id]

    def personal_url(self, participant_id: int) -> str:
        if self.preview:
            return self._url(PREVIEW_TOKEN)
        if participant_id not in self._urls:
            self._urls[participant_id] = self._url(personal_token(
                self.session, participant_id, self.context.secret_key, self.now))
        return self._urls[participant_id]

    def _url(self, token: str) -> str:
        return f"{self.context.base_url.rstrip('/')}/p/{token}"

    def calendar_url(self, participant_id: int) -> str | None:
        """The participant's webcal:// feed (made on first use), None once revoked; in a
        preview a placeholder, and no feed is made."""
        if self.preview:
            revoked = calendar_feed_revoked(self.session, participant_id)
            token = None if revoked else PREVIEW_TOKEN
        elif participant_id in self._feeds:
            token = self._feeds[participant_id]
        else:
            token = calendar_feed_token(self.session, participant_id, self.context.secret_key)
        return webcal_link(self.context.base_url, token) if token else None

    def keyed(self, model, cohort_id: int, key: str):
        """A meeting, task, prompt or survey of the cohort by its key (all read at once)."""
        row = self._all(model, cohort_id).get(key)
        if row is None:
            raise Undeliverable(f"'{key}' is no longer in the cohort's plan")
        return row

    def meetings(self, cohort_id: int) -> list[Meeting]:
        return sorted(self._all(Meeting, cohort_id).values(), key=lambda m: m.starts_at)

    def _all(self, model, cohort_id: int) -> dict[str, object]:
        if (model, cohort_id) not in self._rows:
            self._rows[model, cohort_id] = {row.key: row for row in self.session.scalars(
                select(model).where(model.cohort_id == cohort_id))}
        return self._rows[model, cohort_id]

    def groups(self, participant_id: int) -> list[ParticipantGroup]:
        """`grouping.participant_groups`, from the batch's prefetch when there is one."""
        if participant_id not in self._groups:
            self._groups[participant_id] = participant_groups(self.session, participant_id)
        return self._groups[participant_id]

    def task_done(self, participant_id: int, task_id: int) -> bool:
        if participant_id in self._done_tasks:
            return task_id in self._done_tasks[participant_id]
        return self.session.scalar(select(TaskStatus.done_at).where(
            TaskStatus.task_id == task_id, TaskStatus.participant_id == participant_id,
        )) is not None

    def survey_answered(self, participant_id: int, survey_id: int) -> bool:
        """`surveys.has_answered`, from the batch's prefetch when there is one."""
        if participant_id in self._answered:
            return survey_id in self._answered[participant_id]
        return has_answered(self.session, survey_id, participant_id)

    def materials(self, meeting: Meeting, personal_url: str | None) -> tuple[MaterialInfo, ...]:
        """The meeting's materials participants see now, as links (uploaded files through
        the personal link, which continues to the download); read once per cohort."""
        if meeting.cohort_id not in self._materials:
            self._materials[meeting.cohort_id] = visible_materials(
                self.session, meeting.cohort_id, self.now)
        found = []
        for material in self._materials[meeting.cohort_id].get(meeting.id, []):
            if material.url:
                found.append(MaterialInfo(material.title, material.url, material.kind))
            elif personal_url:
                found.append(MaterialInfo(material.title, personal_link_to(
                    personal_url, MATERIAL_PAGE.format(material_id=material.id)),
                    material.kind))
        return tuple(found)

    def meeting_info(self, meeting: Meeting, programme: Programme) -> MeetingInfo:
        """`_meeting_info`, made once per batch and meeting (a welcome lists every meeting,
        and an invitation goes to each participant). A meeting is of one cohort, whose
        programme is its snapshot: the meeting's row, as the batch read it, is the key."""
        if meeting.id not in self._meeting_infos:
            self._meeting_infos[meeting.id] = _meeting_info(meeting, programme)
        return self._meeting_infos[meeting.id]

    def attendee_line(self, attendee: Person) -> bytes:
        """`core.calendars.attendee_line`, made once per pass and person (one person gets an
        invitation to each meeting). Kept with the pass's invitations, not in a process-wide
        cache: it names the person, and is forgotten when the pass ends."""
        key = ("attendee", attendee)
        if key not in self._invitations:
            self._invitations[key] = attendee_line(attendee)
        return self._invitations[key]

    def invitation(self, cohort_id: int, meeting_key: str, organizer: Person) -> CalendarMessage:
        """The meeting's invitation before its attendee is put in, made once per batch, or
        once per pass while nothing it shows has changed: the key holds the cohort's and the
        meeting's rows as this batch read them, and the tasks due at the meeting."""
        # The key, worked out once per batch (its rows do not change while it is composed).
        key = self._invitation_keys.get((cohort_id, meeting_key, organizer))
        if key is None:
            cohort = self.cohort(cohort_id)
            meeting = self._all(Meeting, cohort_id).get(meeting_key)
            due = tuple(sorted((t.title, t.due_at) for t in self._all(Task, cohort_id).values()
                               if t.due_meeting_key == meeting_key and t.due_at is not None))
            key = (cohort_id, cohort.title, cohort.timezone, cohort.language,
                   cohort.programme.get("source") if isinstance(cohort.programme, dict)
                   else None, meeting_key, organizer, _meeting_fingerprint(meeting), due)
            self._invitation_keys[cohort_id, meeting_key, organizer] = key
        if key not in self._invitations:
            self._invitations[key] = meeting_invitation_to_all(self.session, cohort_id,
                                                               meeting_key, organizer)
        return self._invitations[key]


def _meeting_fingerprint(meeting: Meeting | None) -> tuple | None:
    """Everything of a meeting's row its invitation can show (services.calendars)."""
    if meeting is None:
        return None
    return (meeting.id, meeting.uid, meeting.sequence, meeting.status, meeting.title,
            meeting.starts_at, meeting.ends_at, meeting.updated_at, meeting.location,
            meeting.online_url)


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


def facilitator_address(session: Session, cohort_id: int, fallback: str) -> str:
    """The cohort's facilitator as an address: the one set for the cohort's emails, else the
    cohort owner's account, else `fallback` (COHORT_MAIL_FROM). Replies, the digest and the
    ORGANIZER of meeting invitations all use it."""
    settings = session.get(CohortMailSettings, cohort_id)
    if settings is not None and settings.facilitator_email:
        return settings.facilitator_email
    owner = session.execute(
        select(User.name, User.email)
        .join(CohortStaff, CohortStaff.user_id == User.id)
        .where(CohortStaff.cohort_id == cohort_id, CohortStaff.role == CohortRole.OWNER)
        .order_by(CohortStaff.id)).first()
    if owner is not None:
        return str(Address(display_name=one_line(owner.name), addr_spec=owner.email))
    return fallback


def personal_link_to(personal_url: str, page: str) -> str:
    """The personal link that continues to `page` (a path on the participant's pages)."""
    return f"{personal_url}?{urlencode({'next': page})}"


def webcal_link(base_url: str, token: str) -> str:
    """The participant's calendar subscription (the `calendars.feed` route) as webcal://."""
    parts = urlsplit(base_url.rstrip("/"))
    return f"webcal://{parts.netloc}{parts.path}/calendar/{token}.ics"


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
                    groups=_groups_of(lookups, participant, programme))
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
        buddies = (_groups_of(lookups, participant, programme, kind="buddy")
                   if task.kind == "buddy_exchange" else ())
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
        # surveys.pending_reminder_recipients); answering cancels nothing, so it leaves no trace.
        answered = participant is not None and lookups.survey_answered(participant.id,
                                                                       survey.id)
        url = personal_link_to(personal_url, SURVEY_PAGE.format(survey_id=survey.id)) \
            if personal_url else None
        return dict(survey=SurveyInfo(survey.title, survey.mode, survey.opens_at,
                                      survey.closes_at, number, url),
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


def _with_materials(info: MeetingInfo, materials: tuple[MaterialInfo, ...]) -> MeetingInfo:
    """`info` with the meeting's materials; most meetings have none, and `replace` costs as
    much as the rest of the meeting's part of the email."""
    return replace(info, materials=materials) if materials else info


def _meeting_info(meeting: Meeting, programme: Programme) -> MeetingInfo:
    template = next((m for m in programme.meetings if m.key == meeting.key), None)
    return MeetingInfo(
        meeting.key, meeting.title, meeting.kind, meeting.format, meeting.starts_at,
        meeting.ends_at, meeting.location, meeting.online_url,
        tuple(template.themes) if template else (), tuple(template.content) if template else (),
        template.question if template else "", meeting.sequence,
        meeting.status == "cancelled")
