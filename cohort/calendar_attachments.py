"""Meeting emails carry the meeting itself: the calendar module's invitation as an .ics.

`emails.build_message` asks the plug-in point `app.extensions["cohort.calendar_attachment"]`
for the attachment of meeting invitations, updates and cancellations; `init_app` puts
`meeting_attachment` there. It is `services.meeting_invitation` (core `calendars.invitation`):
the meeting's own UID and SEQUENCE, METHOD:REQUEST while the meeting takes place (a moved
meeting's update carries the higher SEQUENCE, so calendars move the event instead of adding
one) and METHOD:CANCEL once it is cancelled. The ORGANIZER is the cohort's facilitator address
(`services.messages.facilitator_address`), the ATTENDEE the participant.

The attachment is composed from the rows as they are when the email is composed, like the rest
of the message, in a read-only session of its own (the outbox's composing transaction is not
passed through the plug-in point). While the outbox composes a batch
(`emails.composing_batch`), the invitation is made once per meeting and completed with each
participant as attendee (`core.calendars.with_attendee`).
"""

from __future__ import annotations

from email.utils import parseaddr

from flask import Flask, current_app
from sqlmodel import Session

from .core.calendars import Person, with_attendee
from .emails import CalendarAttachment, batch_memo
from .services.calendars import meeting_invitation_to_all
from .services.messages import MessageData

PLUG_IN = "cohort.calendar_attachment"


def init_app(app: Flask) -> None:
    app.extensions[PLUG_IN] = meeting_attachment


def meeting_attachment(data: MessageData) -> CalendarAttachment | None:
    """The .ics for one meeting email to one participant (None for other emails)."""
    if data.meeting is None or data.greeting_name is None:  # only participants are attendees
        return None
    name, address = parseaddr(data.facilitator or current_app.config["MAIL_FROM"])
    memo = batch_memo()
    key = (PLUG_IN, data.cohort_id, data.meeting.key, name, address)
    shared = memo.get(key) if memo is not None else None
    if shared is None:
        with Session(current_app.extensions["cohort.engine"]) as session:
            shared = meeting_invitation_to_all(session, data.cohort_id, data.meeting.key,
                                               Person(address, name))
        if memo is not None:
            memo[key] = shared
    # The participant as the outbox found them (services.messages checked they belong to
    # the cohort): their name and address.
    message = with_attendee(shared, Person(data.to_address, data.to_name))
    filename = "cancel.ics" if message.method == "CANCEL" else "invite.ics"
    return CalendarAttachment(message.method, message.ics, filename)
