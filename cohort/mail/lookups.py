"""The rows composing reads, read once per batch: `Lookups`, and what composing is told
(`MailContext`) and raises when the email's recipient or subject is gone (`Undeliverable`).

Split from compose.py, which says what each kind of email carries: this module only finds the
rows (cohorts, participants, their personal links and calendar feeds, the plan's meetings,
tasks, prompts and surveys, groups, materials, the meetings' invitations) and keeps them for
the batch, so composing a hundred emails reads each kind of row once (`Lookups.prefetch`), and
composing one email (a preview) reads what it needs on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select
from sqlmodel import Session

from ..core import deliveries as kinds
from ..core.calendars import CalendarMessage, Person, attendee_line
from ..core.joining import ITEM_KINDS, FirstEmail, is_late_joiner
from ..core.programme import Programme
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
    Task,
    TaskStatus,
    User,
)
from ..services._lookup import cohort_programme, get_cohort
from ..services.calendars import (
    calendar_feed_revoked,
    calendar_feed_token,
    calendar_feed_tokens,
    meeting_invitation_to_all,
)
from ..services.frozen_rounds import KeptPair, frozen_round_partners
from ..services.grouping import ParticipantGroup, participant_groups, participants_groups
from ..services.materials import visible_materials
from ..services.participant_access import issue_links, link_token, personal_token
from ..services.survey_responses import answered_surveys, has_answered
from .message import MaterialInfo, MeetingInfo

# Where a personal link to a material lands after "continue" (the participant pages' route;
# the link handler accepts only participant pages as targets).
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
    # The outbox's COHORT_OUTBOX_OVERDUE_LIMIT_HOURS: a late joiner's welcome lists what the
    # outbox skips as overdue (core/joining.py), previewed before the outbox has skipped it.
    overdue_limit: timedelta = timedelta(hours=72)


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
        self._kept_pairs: dict[int, dict[int, KeptPair] | None] = {}
        self._welcomed: set[int] = set()  # the batch's welcomed participants
        self._first_emails: dict[int, list[FirstEmail]] = {}

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
            self._welcomed.update(d.participant_id for d in deliveries
                                  if d.kind == kinds.WELCOME and d.participant_id in found)
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

    def plan_rows(self, model, cohort_id: int) -> list:
        """The cohort's meetings, tasks, prompts or surveys (read once per batch)."""
        return list(self._all(model, cohort_id).values())

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

    def first_emails(self, participant_id: int) -> list[FirstEmail]:
        """The participant's rows of first emails (a task's release, a prompt, a survey's
        invitation) as they are now, for a late joiner's welcome (core/joining.py). Read for
        the batch's welcomed late joiners at once, on the first welcome that needs them."""
        if participant_id not in self._first_emails:
            late = {pid for pid in self._welcomed if self._late(pid)}
            wanted = sorted((late | {participant_id}) - self._first_emails.keys())
            for chunk in (wanted[i:i + 500] for i in range(0, len(wanted), 500)):
                for pid in chunk:
                    self._first_emails[pid] = []
                for row in self.session.execute(select(
                        Delivery.participant_id, Delivery.kind, Delivery.anchor, Delivery.state,
                        Delivery.send_at, Delivery.attempts, Delivery.resend_number).where(
                        Delivery.participant_id.in_(chunk),
                        Delivery.kind.in_(sorted(ITEM_KINDS)))):
                    self._first_emails[row.participant_id].append(FirstEmail(
                        row.kind, row.anchor, row.state, row.send_at, row.attempts,
                        row.resend_number))
        return self._first_emails[participant_id]

    def _late(self, participant_id: int) -> bool:
        participant = self.participant(participant_id)
        return participant is not None and is_late_joiner(
            participant.created_at, self.cohort(participant.cohort_id).launched_at)

    def kept_pairs(self, task_id: int) -> dict[int, KeptPair] | None:
        """`frozen_rounds.frozen_round_partners`, read once per round and batch."""
        if task_id not in self._kept_pairs:
            self._kept_pairs[task_id] = frozen_round_partners(self.session, task_id)
        return self._kept_pairs[task_id]

    def task_done(self, participant_id: int, task_id: int) -> bool:
        if participant_id in self._done_tasks:
            return task_id in self._done_tasks[participant_id]
        return self.session.scalar(select(TaskStatus.done_at).where(
            TaskStatus.task_id == task_id, TaskStatus.participant_id == participant_id,
        )) is not None

    def survey_answered(self, participant_id: int, survey_id: int) -> bool:
        """`survey_responses.has_answered`, from the batch's prefetch when there is one."""
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
        """`meeting_info`, made once per batch and meeting (a welcome lists every meeting,
        and an invitation goes to each participant). A meeting is of one cohort, whose
        programme is its snapshot: the meeting's row, as the batch read it, is the key."""
        if meeting.id not in self._meeting_infos:
            self._meeting_infos[meeting.id] = meeting_info(meeting, programme)
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


def meeting_info(meeting: Meeting, programme: Programme) -> MeetingInfo:
    """A meeting's part of an email: its row with the programme's themes, content and question."""
    template = next((m for m in programme.meetings if m.key == meeting.key), None)
    return MeetingInfo(
        meeting.key, meeting.title, meeting.kind, meeting.format, meeting.starts_at,
        meeting.ends_at, meeting.location, meeting.online_url,
        tuple(template.themes) if template else (), tuple(template.content) if template else (),
        template.question if template else "", meeting.sequence,
        meeting.status == "cancelled")
