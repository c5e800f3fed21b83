"""What an email carries, as plain data: `MessageData` and its parts (split from compose.py).

`compose.py` fills these from the database; `render.py` turns them into text and HTML and reads
nothing else. Kept apart so that neither the data's shape nor the gathering grows the other's
module.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from ..core.attendance import CatchUpItem
from ..core.digest import Digest
from ..core.joining import MissedSoFar


@dataclass(frozen=True)
class MaterialInfo:
    """A material of the meeting, as a link in its emails (never an attachment): a web link
    as it is, an uploaded file as the personal link continuing to its download."""

    title: str
    url: str
    kind: str  # link | file


@dataclass(frozen=True)
class MeetingInfo:
    key: str
    title: str
    kind: str
    format: str
    starts_at: datetime
    ends_at: datetime
    location: str | None
    online_url: str | None
    themes: tuple[str, ...] = ()
    content: tuple[str, ...] = ()
    question: str = ""
    sequence: int = 0
    cancelled: bool = False
    materials: tuple[MaterialInfo, ...] = ()


@dataclass(frozen=True)
class TaskInfo:
    title: str
    description: str
    checklist: tuple[str, ...]
    release_at: datetime
    due_at: datetime | None
    due_meeting: str | None
    # Buddy exchange tasks: the personal link that continues to the buddy check-in's page
    # (a page with a POST form, so a scanner that follows the link changes nothing).
    check_in_url: str | None = None


@dataclass(frozen=True)
class SurveyInfo:
    title: str
    mode: str
    opens_at: datetime
    closes_at: datetime
    reminder_number: int = 0
    # The personal link that opens this survey's page after "continue".
    url: str | None = None


@dataclass(frozen=True)
class GroupInfo:
    """A participant's buddies or team in one rotation, named in their emails so they know
    whom to contact."""

    title: str
    kind: str  # buddy | team
    rotation: int
    rotations: int  # how many rotations the grouping has (the rotation is named if > 1)
    partners: tuple[tuple[str, str], ...]  # (name, email), sorted by name


@dataclass(frozen=True)
class AnnouncementInfo:
    """A facilitator's announcement (services/announcements.py)."""

    subject: str
    body: str
    urgent: bool = False


@dataclass(frozen=True)
class ReminderInfo:
    """A nudge from the progress grid: what is still open for the participant when it goes
    (services.progress.open_items; anonymous surveys are never listed)."""

    tasks: tuple[tuple[str, datetime | None], ...] = ()
    surveys: tuple[tuple[str, datetime], ...] = ()


@dataclass(frozen=True)
class CalendarAttachment:
    """A meeting email's .ics: sent as a text/calendar alternative and as a file."""

    method: str  # REQUEST or CANCEL
    ics: bytes
    filename: str = "invite.ics"


@dataclass(frozen=True)
class MessageData:
    delivery_id: int
    cohort_id: int
    kind: str
    anchor: str
    message_id: str
    to_address: str
    to_name: str
    greeting_name: str | None  # participants are greeted by name; the facilitator is not
    language: str
    cohort_title: str
    timezone: str
    reply_to: str | None
    personal_url: str | None
    # The cohort's facilitator address (facilitator_address): ORGANIZER of meeting invitations.
    facilitator: str = ""
    meeting: MeetingInfo | None = None
    task: TaskInfo | None = None
    prompt_question: str | None = None
    survey: SurveyInfo | None = None
    digest: Digest | None = None
    catch_up: CatchUpItem | None = None
    meetings: tuple[MeetingInfo, ...] = field(default_factory=tuple)
    groups: tuple[GroupInfo, ...] = field(default_factory=tuple)
    # webcal:// subscription to the participant's own calendar (welcome email).
    calendar_url: str | None = None
    # A late joiner's welcome: what was released before they joined (core/joining.py).
    missed: MissedSoFar | None = None
    # For the send/skip decision (core.sending.skip_reason).
    deadline: datetime | None = None
    settled: bool = False
    # The meeting as .ics for a participant's meeting invitation, update or cancellation.
    calendar: CalendarAttachment | None = None
    announcement: AnnouncementInfo | None = None
    reminder: ReminderInfo | None = None
    # A bundle (kind BUNDLE): the items of one recipient due together, one section each.
    sections: tuple[MessageData, ...] = ()
    # A colleague's invitation (STAFF_ACTIVATION, mail/invitations.py): the activation link.
    activation_url: str | None = None
    activation_expires_at: datetime | None = None


# The kind of a message that carries several rows (core.deliveries.bundle_key).
BUNDLE = "bundle"
# A colleague's invitation to work on a cohort (mail/invitations.py): sent at once, not a row.
STAFF_ACTIVATION = "staff_activation"


def bundle_data(items: list[MessageData]) -> MessageData:
    """One message for several items of one recipient: the first item's addressing and
    Message-ID, each item a section (mail/render.py renders `emails/bundle.*`)."""
    if len(items) == 1:
        return items[0]
    first = items[0]
    return replace(first, kind=BUNDLE, anchor=BUNDLE, meeting=None, task=None,
                   prompt_question=None, survey=None, digest=None, catch_up=None, groups=(),
                   calendar=None, deadline=None, settled=False, announcement=None,
                   reminder=None, missed=None, sections=tuple(items))
