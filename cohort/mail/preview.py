"""Staff look at an email without sending it to its recipient: the outbox preview and "send
me a test" (split out of dispatch.py, which only sends).

Both compose a delivery's message now, in a session that is never committed, with
placeholders instead of the participant's personal link, survey links and calendar feed
(`lookups.PREVIEW_TOKEN`), so neither shows nor issues a credential and no row is touched.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr

from flask import Flask, current_app
from sqlmodel import Session

from .compose import MessageData, message_data
from .dispatch import OutboxSettings
from .lookups import Lookups
from .render import build_message
from .transport import open_transport, parse_mail_url

log = logging.getLogger("cohort.mail.preview")


def preview_message(delivery_id: int, now: datetime | None = None, app: Flask | None = None):
    """The message a delivery sends (or sent), composed now from the current data, for staff to
    read; nothing is sent and the row is not touched. Raises services.NotFound or Undeliverable.

    A preview carries no credential: the participant's personal link, survey links and
    calendar feed are placeholders (`lookups.PREVIEW_TOKEN`), and composing issues no link and
    makes no feed. The session is never committed, so nothing composing might write stays.
    """
    app = app or current_app._get_current_object()
    settings = OutboxSettings.from_app(app)
    now = now or datetime.now(UTC)
    sent_at, data = _composed_for_staff(app, settings, delivery_id, now)
    return build_message(data, sent_at or now, settings.mail_from)


def _composed_for_staff(app: Flask, settings: OutboxSettings, delivery_id: int,
                        now: datetime) -> tuple[datetime | None, MessageData]:
    """A delivery's message data as staff may see it (and when it was sent, if it was):
    composed now with placeholders for the personal link, survey links and calendar feed, in
    a session that is never committed."""
    from ..services.deliveries import get_delivery

    with Session(app.extensions["cohort.engine"]) as session:
        try:
            delivery = get_delivery(session, delivery_id)
            lookups = Lookups(session, settings.context, now, preview=True)
            data = message_data(session, delivery, settings.context, now, lookups)
            return delivery.sent_at, data
        finally:
            session.rollback()


# What a test email shows instead of the participant's personal link and calendar feed.
TEST_LINK = "PERSONAL-LINK"


class TestNotSafe(Exception):
    """A test email would have carried a participant's credential; nothing was sent."""


def send_test_message(delivery_id: int, to_address: str, now: datetime | None = None,
                      app: Flask | None = None) -> EmailMessage:
    """Send the email of a delivery, composed now for its recipient, to `to_address` (the
    facilitator's own) with placeholders instead of the personal link and calendar feed.

    Composed as a preview is (`_composed_for_staff`): no link or feed is issued, the row is not
    touched. The message is refused if a placeholder of the preview is still in it. Raises
    services.NotFound, Undeliverable, TestNotSafe or MailError. Returns the message sent."""
    app = app or current_app._get_current_object()
    settings = OutboxSettings.from_app(app)
    now = now or datetime.now(UTC)
    _sent_at, data = _composed_for_staff(app, settings, delivery_id, now)
    base = settings.context.base_url.rstrip("/")
    placeholder = f"{base}/p/{TEST_LINK}"
    secrets = [s for s in (data.personal_url, data.calendar_url) if s]
    survey = data.survey
    if survey is not None and survey.url and data.personal_url:
        survey = replace(survey, url=survey.url.replace(data.personal_url, placeholder))
    test = replace(
        data, to_address=parseaddr(to_address)[1], to_name=parseaddr(to_address)[0],
        personal_url=placeholder if data.personal_url else None,
        calendar_url=f"webcal://{base.split('://', 1)[-1]}/calendar/{TEST_LINK}.ics"
        if data.calendar_url else None,
        survey=survey,
        message_id=f"<cohort.test.{uuid.uuid4().hex}@{settings.context.message_id_domain}>")
    message = build_message(test, now, settings.mail_from)
    subject = message["Subject"]
    del message["Subject"]
    message["Subject"] = f"[TEST] {subject}"
    if any(secret in text for secret in secrets for text in _decoded(message)):
        raise TestNotSafe("the message would carry a real personal link")
    transport = open_transport(parse_mail_url(settings.mail_url), settings.smtp_timeout)
    try:
        transport.send(message)
    finally:
        transport.close()
    log.info("test email of delivery %s sent to %s", delivery_id, test.to_address)
    return message


def _decoded(message: EmailMessage) -> Iterator[str]:
    """The headers and every text part (the .ics too), decoded."""
    yield "\n".join(f"{name}: {value}" for name, value in message.items())
    for part in message.walk():
        if part.get_content_maintype() == "text":
            yield part.get_content()
