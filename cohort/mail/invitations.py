"""A colleague's invitation: the email with their activation link, sent at once.

Not an outbox row: the outbox sends only for launched cohorts and composes when a row is due,
while the activation token exists in clear only in the request that made it (only its hash is
stored, services/staff.py). So the web sends it right after the invitation is committed; if
the mail server refuses, the owner adds the colleague again, which sends a new link.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import Flask

from .compose import STAFF_ACTIVATION, MessageData
from .dispatch import OutboxSettings
from .render import build_message
from .transport import open_transport, parse_mail_url


def send_activation(app: Flask, *, to_address: str, inviter: str, cohort_title: str,
                    language: str, timezone: str, activation_url: str, expires_at: datetime,
                    now: datetime) -> None:
    """Send the invitation; raises transport.MailError when the mail server refuses."""
    settings = OutboxSettings.from_app(app)
    data = MessageData(
        delivery_id=0, cohort_id=0, kind=STAFF_ACTIVATION, anchor="staff",
        message_id=f"<cohort.invite.{uuid.uuid4().hex}@{settings.context.message_id_domain}>",
        to_address=to_address, to_name="", greeting_name=None, language=language,
        cohort_title=cohort_title, timezone=timezone, reply_to=None, personal_url=None,
        facilitator=inviter, activation_url=activation_url, activation_expires_at=expires_at)
    message = build_message(data, now, settings.mail_from)
    transport = open_transport(parse_mail_url(settings.mail_url), settings.smtp_timeout)
    try:
        transport.send(message)
    finally:
        transport.close()
